"""Storage decides what is new and what is owed to whom: the outbox's promises."""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Headline
from bot.store import MIGRATIONS, DatabaseInUse, Storage

FEED = FeedConfig(name="World", url="https://example.org/rss", interval=600)
T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
NOW = T0.timestamp() + 3600


def headline(n: int, title: str = "", regions: tuple[str, ...] = ()) -> Headline:
    return Headline(
        feed="World",
        entry_id=f"id-{n}",
        title=title or f"Headline number {n}",
        link=f"https://example.org/{n}",
        summary="",
        published=T0 + timedelta(minutes=n),
        regions=regions,
    )


async def ready(storage: Storage, *chats: str) -> None:
    """A feed already polled once, and destinations for `chats`."""
    await storage.sync_feeds([FEED])
    await storage.add_headlines("World", [], now=NOW)
    for chat in chats:
        await storage.subscribe(ChatRef("fake", chat))


async def test_first_poll_posts_nothing_but_backfill(storage: Storage) -> None:
    await storage.sync_feeds([FEED])
    await storage.subscribe(ChatRef("fake", "1"))
    result = await storage.add_headlines(
        "World", [headline(n) for n in range(5)], backfill=2, now=NOW
    )
    assert result.first_run and len(result.new) == 5
    destination = (await storage.destinations())[0]
    pending = await storage.pending_deliveries(destination, now=NOW)
    assert [d.headline.entry_id for d in pending] == ["id-3", "id-4"]


@pytest.mark.parametrize(
    ("backfill", "owed"),
    [(3, [6, 7, 8]), (9, list(range(9))), (12, list(range(9))), (30, list(range(9)))],
)
async def test_backfill_beyond_the_feed_posts_every_entry_oldest_first_within_the_pace(
    storage: Storage, backfill: int, owed: list[int]
) -> None:
    """A feed of 9 entries: with backfill 12 the start len - backfill was -3, and only the
    newest 3 were posted."""
    await storage.sync_feeds([FEED])
    await storage.subscribe(ChatRef("fake", "1"))
    result = await storage.add_headlines(
        "World",
        [headline(n) for n in range(9)],
        backfill=backfill,
        max_per_poll=5,
        release_every=600,
        now=NOW,
    )
    assert result.deliveries == len(owed)
    destination = (await storage.destinations())[0]
    first = await storage.pending_deliveries(destination, limit=20, now=NOW)
    assert [d.headline.entry_id for d in first] == [f"id-{n}" for n in owed[:5]]
    later = await storage.pending_deliveries(destination, limit=20, now=NOW + 600)
    assert [d.headline.entry_id for d in later] == [f"id-{n}" for n in owed]


async def test_latest_with_no_room_lists_nothing_rather_than_everything(storage: Storage) -> None:
    await ready(storage)
    await storage.add_headlines("World", [headline(1, regions=("Asia",)), headline(2)], now=NOW)
    for limit in (0, -1):
        assert await storage.latest(limit) == []
        assert await storage.latest(limit, "Asia") == []


async def test_only_new_entries_are_owed_once(storage: Storage) -> None:
    await ready(storage, "1", "2")
    first = await storage.add_headlines("World", [headline(1), headline(2)], now=NOW)
    again = await storage.add_headlines("World", [headline(2), headline(3)], now=NOW)
    assert first.deliveries == 4
    assert [h.entry_id for h in again.new] == ["id-3"] and again.deliveries == 2


async def test_rewritten_guid_with_same_title_is_not_posted_again(storage: Storage) -> None:
    await ready(storage, "1")
    await storage.add_headlines("World", [headline(1, "Chile: new cabinet sworn in")], now=NOW)
    moved = replace(headline(9, "Chile: new cabinet sworn in!"), entry_id="new-guid")
    result = await storage.add_headlines("World", [moved], now=NOW)
    assert len(result.new) == 1 and result.deliveries == 0


async def test_old_entries_are_stored_but_not_posted(storage: Storage) -> None:
    await ready(storage, "1")
    old = replace(headline(1), published=T0 - timedelta(days=10))
    result = await storage.add_headlines("World", [old, headline(2)], max_age=72 * 3600, now=NOW)
    assert len(result.new) == 2 and result.deliveries == 1


async def test_burst_goes_out_oldest_first_capped_per_poll(storage: Storage) -> None:
    await ready(storage, "1")
    burst = [headline(n) for n in reversed(range(25))]
    result = await storage.add_headlines(
        "World", burst, max_per_poll=10, release_every=600, now=NOW
    )
    assert result.deliveries == 25
    destination = (await storage.destinations())[0]
    due_now = await storage.pending_deliveries(destination, limit=100, now=NOW)
    assert [d.headline.entry_id for d in due_now] == [f"id-{n}" for n in range(10)]
    later = await storage.pending_deliveries(destination, limit=100, now=NOW + 1200)
    assert len(later) == 25


async def test_a_burst_over_several_polls_keeps_its_order_and_pace(storage: Storage) -> None:
    await ready(storage, "1")
    await storage.add_headlines(
        "World", [headline(n) for n in range(15)], max_per_poll=10, release_every=600, now=NOW
    )
    destination = (await storage.destinations())[0]
    first = await storage.pending_deliveries(destination, limit=100, now=NOW)
    await storage.mark_sent([d.id for d in first], "m1")
    # Next poll: 5 of the burst still wait; the feed publishes 12 more.
    await storage.add_headlines(
        "World",
        [headline(n) for n in range(15, 27)],
        max_per_poll=10,
        release_every=600,
        now=NOW + 600,
    )
    second = await storage.pending_deliveries(destination, limit=100, now=NOW + 600)
    assert [d.headline.entry_id for d in second] == [f"id-{n}" for n in range(10, 20)]
    third = await storage.pending_deliveries(destination, limit=100, now=NOW + 1200)
    assert [d.headline.entry_id for d in third] == [f"id-{n}" for n in range(10, 27)]


async def test_region_filters_choose_destinations(storage: Storage) -> None:
    await ready(storage)
    await storage.subscribe(ChatRef("fake", "asia"), ["Asia"])
    await storage.subscribe(ChatRef("fake", "all"))
    await storage.add_headlines(
        "World", [headline(1, regions=("Asia",)), headline(2, regions=("Europe",))], now=NOW
    )
    by_chat = {}
    for destination in await storage.destinations():
        pending = await storage.pending_deliveries(destination, now=NOW)
        by_chat[destination.chat.chat_id] = [d.headline.entry_id for d in pending]
    assert by_chat == {"asia": ["id-1"], "all": ["id-1", "id-2"]}


async def test_sent_is_recorded_with_the_message_id(storage: Storage) -> None:
    await ready(storage, "1")
    await storage.add_headlines("World", [headline(1), headline(2)], now=NOW)
    destination = (await storage.destinations())[0]
    first, second = await storage.pending_deliveries(destination, now=NOW)
    await storage.mark_sent([first.id], "m-77")
    assert [d.id for d in await storage.pending_deliveries(destination, now=NOW)] == [second.id]
    rows = await storage.deliveries_for(destination)
    assert rows[0][1:] == ("sent", "m-77") and rows[1][1] == "pending"


async def test_gone_destination_is_kept_inactive_and_comes_back(storage: Storage) -> None:
    await ready(storage, "1")
    await storage.add_headlines("World", [headline(1)], now=NOW)
    destination = (await storage.destinations())[0]
    await storage.deactivate(destination, "bot was kicked")
    [kept] = await storage.destinations()
    assert not kept.active and kept.inactive_reason == "bot was kicked"
    assert await storage.pending_destinations(now=NOW) == []
    again = await storage.subscribe(ChatRef("fake", "1"), ["Asia"])
    assert again.active and again.regions == ("Asia",) and again.id == destination.id


async def test_moved_chat_keeps_its_pending_deliveries(storage: Storage) -> None:
    await ready(storage, "-100")
    await storage.add_headlines("World", [headline(1)], now=NOW)
    destination = (await storage.destinations())[0]
    moved = await storage.move_destination(destination, "-1009")
    assert moved.chat.chat_id == "-1009" and moved.id == destination.id
    assert len(await storage.pending_deliveries(moved, now=NOW)) == 1


async def test_config_destinations_follow_the_file(storage: Storage) -> None:
    await ready(storage)
    await storage.sync_destinations("fake", [DestinationConfig("@a"), DestinationConfig("@b")])
    await storage.sync_destinations("fake", [DestinationConfig("@b", regions=("Asia",))])
    state = {d.chat.chat_id: (d.active, d.regions) for d in await storage.destinations()}
    assert state == {"@a": (False, ()), "@b": (True, ("Asia",))}


async def test_a_config_destination_that_moved_is_still_itself_after_a_restart(
    storage: Storage,
) -> None:
    await ready(storage)
    await storage.sync_destinations("fake", [DestinationConfig("-555")])
    [group] = await storage.destinations()
    await storage.move_destination(group, "-100555")  # the group became a supergroup
    await storage.sync_destinations("fake", [DestinationConfig("-555", regions=("Asia",))])
    [again] = await storage.destinations()
    assert (again.id, again.chat.chat_id, again.active) == (group.id, "-100555", True)
    assert again.regions == ("Asia",) and again.from_config
    await storage.add_headlines("World", [headline(1, regions=("Asia",))], now=NOW)
    assert [d.chat.chat_id for d in await storage.pending_destinations(now=NOW)] == ["-100555"]


async def test_a_channel_listed_by_name_and_subscribed_by_id_is_one_destination(
    storage: Storage,
) -> None:
    await ready(storage)
    await storage.subscribe(ChatRef("fake", "-100"), ["Europe"])
    await storage.sync_destinations("fake", [DestinationConfig("@news")])
    await storage.add_headlines("World", [headline(1)], now=NOW)
    await storage.adopt_username(ChatRef("fake", "-100", username="news"))
    for _restart in range(2):
        await storage.sync_destinations("fake", [DestinationConfig("@news")])
        await storage.adopt_username(ChatRef("fake", "-100", username="news"))
    active = [d for d in await storage.destinations() if d.active]
    assert [(d.chat.chat_id, d.from_config, d.regions) for d in active] == [("-100", True, ())]
    [pending] = await storage.pending_deliveries(active[0], now=NOW)
    assert pending.headline.entry_id == "id-1"
    [gone] = [d for d in await storage.destinations() if not d.active]
    assert await storage.pending_deliveries(gone, now=NOW) == []


async def test_enabling_a_merged_channel_by_its_config_name_resumes_it_once(
    storage: Storage,
) -> None:
    await ready(storage)
    await storage.subscribe(ChatRef("fake", "-100"))
    await storage.sync_destinations("fake", [DestinationConfig("@news")])
    await storage.adopt_username(ChatRef("fake", "-100", username="news"))
    await storage.unsubscribe(ChatRef("fake", "-100"))

    resumed = await storage.resume("fake", "@news")
    assert resumed is not None and resumed.chat.chat_id == "-100"
    assert [d.chat.chat_id for d in await storage.destinations(active_only=True)] == ["-100"]


async def test_a_restart_does_not_revive_a_destination_that_stopped_for_its_own_reason(
    storage: Storage,
) -> None:
    await ready(storage)
    configured = [DestinationConfig("@kicked"), DestinationConfig("@left")]
    await storage.sync_destinations("fake", configured)
    kicked = (await storage.destinations())[0]
    await storage.deactivate(kicked, "telegram: Forbidden: bot was kicked")
    await storage.sync_destinations("fake", configured[:1])  # @left taken out of the file
    await storage.sync_destinations("fake", configured)  # and put back
    state = {d.chat.chat_id: (d.active, d.inactive_reason) for d in await storage.destinations()}
    assert state == {"@kicked": (False, "telegram: Forbidden: bot was kicked"), "@left": (True, "")}


async def test_latest_and_region_counts(storage: Storage) -> None:
    await ready(storage)
    await storage.add_headlines(
        "World",
        [headline(1, regions=("Asia",)), headline(2), headline(3, regions=("Asia", "Europe"))],
        now=NOW,
    )
    assert [h.entry_id for h in await storage.latest(2)] == ["id-3", "id-2"]
    assert [h.entry_id for h in await storage.latest(5, "Asia")] == ["id-3", "id-1"]
    assert [h.entry_id for h in await storage.latest(5, "")] == ["id-2"]
    counts = await storage.region_counts(since=T0.timestamp())
    assert counts == {"Asia": 2, "Europe": 1, "": 1}


async def test_the_archive_forgets_what_feeds_stopped_listing_but_not_what_is_owed(
    storage: Storage,
) -> None:
    await ready(storage, "1")
    await storage.add_headlines("World", [headline(1), headline(2), headline(3)], now=NOW)
    destination = (await storage.destinations())[0]
    first, _, third = await storage.pending_deliveries(destination, now=NOW)
    await storage.mark_sent([first.id, third.id], "m1")
    later = NOW + 10 * 86400
    await storage.add_headlines("World", [headline(3)], now=later)  # still listed

    assert await storage.forget(unseen_since=NOW + 5 * 86400) == 1
    assert [h.entry_id for h in await storage.latest(10)] == ["id-3", "id-2"]
    assert [d.headline.entry_id for d in await storage.pending_deliveries(destination)] == ["id-2"]
    assert [status for _, status, _ in await storage.deliveries_for(destination)] == [
        "pending",
        "sent",
    ]
    assert await storage.forget(unseen_since=NOW + 5 * 86400) == 0


async def test_many_entries_in_one_poll(storage: Storage) -> None:
    await ready(storage, "1")
    result = await storage.add_headlines("World", [headline(n) for n in range(1200)], now=NOW)
    assert len(result.new) == 1200 and result.deliveries == 1200
    assert len({h.id for h in result.new}) == 1200


async def test_reopening_keeps_everything_and_the_schema(database: Path | str) -> None:
    path = database
    storage = await Storage.open(path)
    await ready(storage, "1")
    await storage.add_headlines("World", [headline(1)], now=NOW)
    await storage.close()
    storage = await Storage.open(path)
    try:
        [destination] = await storage.pending_destinations(now=NOW)
        assert len(await storage.pending_deliveries(destination, now=NOW)) == 1
        assert (await storage.feed_state("World")).initialized
    finally:
        await storage.close()


async def test_one_bot_per_sqlite_file_until_it_closes(tmp_path: Path) -> None:
    # Processes sharing a PostgreSQL database split the work by leases (test_leases.py).
    database = tmp_path / "bot.db"
    first = await Storage.open(database)
    second = await Storage.open(database)
    try:
        await first.claim_sender()
        with pytest.raises(DatabaseInUse) as refused:
            await second.claim_sender()
        assert f"database {database}" in str(refused.value)
        assert f"pid {os.getpid()} on {socket.gethostname()}" in refused.value.holder
        await second.sync_feeds([FEED])  # writing needs no claim
        await first.close()
        await second.claim_sender()  # the first one's close released it
    finally:
        await first.close()
        await second.close()
    assert (tmp_path / "bot.db.lock").exists()  # kept for the next claim, never deleted


async def test_a_headline_keeps_its_picture(database: Path | str) -> None:
    storage = await Storage.open(database)
    try:
        await ready(storage, "1")
        pictured = replace(headline(1), image="https://cdn.example/1.jpg")
        await storage.add_headlines("World", [pictured, headline(2)], now=NOW)
        destination = (await storage.destinations())[0]
        owed = await storage.pending_deliveries(destination, now=NOW)
        assert [d.headline.image for d in owed] == ["https://cdn.example/1.jpg", ""]
        assert [h.image for h in await storage.latest(5)] == ["", "https://cdn.example/1.jpg"]
    finally:
        await storage.close()


async def test_an_sqlite_file_from_before_pictures_gains_the_column(tmp_path: Path) -> None:
    # A database from before pictures: its headlines read back with none.
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        for migration in MIGRATIONS[:-1]:
            db.executescript(migration)
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
        db.execute("INSERT INTO feeds (name, config_url, url) VALUES ('World', 'u', 'u')")
        db.execute(
            """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
            published, fetched, seen, categories, language, regions)
            VALUES (1, 'a', '', 'Old', '', '', 0, 0, 0, '[]', 'en', '[]')"""
        )
    storage = await Storage.open(old)
    try:
        [item] = await storage.latest(5)
        assert item.title == "Old" and item.image == ""
    finally:
        await storage.close()


async def test_recent_sends_count_each_message_once_and_only_recent_ones(
    storage: Storage,
) -> None:
    await ready(storage, "1", "2")
    await storage.add_headlines("World", [headline(n) for n in range(3)], now=NOW)
    one, two = await storage.destinations()
    first = [d.id for d in await storage.pending_deliveries(one, now=NOW + 1e6)]
    other = [d.id for d in await storage.pending_deliveries(two, now=NOW + 1e6)]
    await storage.record_sent(
        [
            (first[0], "m1", 1000.0),  # a message packing two headlines
            (first[1], "m1", 1000.0),
            (first[2], "m2", 900.0),  # too long ago
            (other[0], "m3", 1001.0),
        ]
    )
    sent = await storage.recent_sends("fake", since=950.0)
    assert [(chat.chat_id, at) for chat, at in sent] == [("1", 1000.0), ("2", 1001.0)]
    assert await storage.recent_sends("telegram", since=0.0) == []
