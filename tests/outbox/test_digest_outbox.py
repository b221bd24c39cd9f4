"""A digest is a delivery like any other: held while its period runs, queued whole in the
transaction that sets the next one, sent once, never lost across a restart."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.console import ConsoleAdapter
from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Headline
from bot.outbox.digest import DAILY, parse_setting
from bot.outbox.sender import Outbox
from bot.ports import ContentRejected
from bot.regions.names import ASIA, EUROPE, WORLD
from bot.store import Storage
from testing.fake_adapter import FakeAdapter

CHAT = ChatRef("fake", "1")
# 1 December 2025, 16:00 UTC: 17:00 in Madrid, so a daily 08:00 digest is due the next day
# at 07:00 UTC.
NOW = datetime(2025, 12, 1, 16, tzinfo=UTC).timestamp()
DUE = datetime(2025, 12, 2, 7, tzinfo=UTC).timestamp()
DAILY_MADRID = parse_setting(["daily", "08:00", "Europe/Madrid"])


async def poll(storage: Storage, *stories: tuple[str, tuple[str, ...]], now: float = NOW) -> None:
    """A poll of the feed "World" that brings `stories` (title, regions), oldest first."""
    published = datetime.fromtimestamp(now, UTC) - timedelta(hours=1)
    await storage.add_headlines(
        "World",
        [
            Headline(
                "World",
                title,
                title,
                f"https://e.org/{title}",
                "",
                published + timedelta(minutes=i),
                regions=regions,
            )
            for i, (title, regions) in enumerate(stories)
        ],
        now=now,
    )


async def setup(storage: Storage) -> None:
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines("World", [], now=NOW)  # the first poll posts nothing
    await storage.subscribe(CHAT)
    await storage.set_digest(CHAT, DAILY_MADRID, now=NOW)


async def statuses(storage: Storage) -> list[str]:
    destination = await storage.destination(CHAT)
    assert destination is not None
    return [status for _, status, _ in await storage.deliveries_for(destination)]


async def test_headlines_wait_for_the_digest_which_goes_once_when_due(storage: Storage) -> None:
    await setup(storage)
    await poll(storage, ("Paris votes", (EUROPE,)), ("Tokyo quake", (ASIA,)), ("Moon", ()))
    fake = FakeAdapter()
    outbox = Outbox(storage, {"fake": fake})
    assert await outbox.deliver_due() == 0 and fake.sent == [] and fake.digests == []
    assert await statuses(storage) == ["held"] * 3

    assert await storage.queue_due_digests(DUE - 1) == 0
    assert await storage.queue_due_digests(DUE) == 1
    assert await storage.queue_due_digests(DUE + 30) == 0  # queued once
    assert await outbox.deliver_due() == 3
    [(chat, digest)] = fake.digests
    assert chat == "1" and digest.period == DAILY and digest.total == 3
    assert [(s.region, [h.title for h in s.headlines]) for s in digest.sections] == [
        (ASIA, ["Tokyo quake"]),
        (EUROPE, ["Paris votes"]),
        (WORLD, ["Moon"]),
    ]
    assert await statuses(storage) == ["sent"] * 3
    assert fake.sent == []  # nothing went on its own
    destination = await storage.destination(CHAT)
    assert destination is not None
    assert await storage.digest_due(destination) == DUE + 86400  # tomorrow's

    # A day with nothing new sends nothing; the next is still set.
    assert await storage.queue_due_digests(DUE + 86400) == 0
    assert await storage.digest_due(destination) == DUE + 2 * 86400
    assert await outbox.deliver_due() == 0 and len(fake.digests) == 1


async def test_a_queued_digest_survives_a_restart_and_goes_once(database: Path | str) -> None:
    storage = await Storage.open(database)
    await setup(storage)
    await poll(storage, ("One", (EUROPE,)), ("Two", (EUROPE,)))
    assert await storage.queue_due_digests(DUE) == 1
    await storage.close()  # the bot dies before sending

    storage = await Storage.open(database)
    try:
        assert await storage.queue_due_digests(DUE + 60) == 0  # not queued again
        fake = FakeAdapter()
        assert await Outbox(storage, {"fake": fake}).deliver_due() == 2
        assert await Outbox(storage, {"fake": fake}).deliver_due() == 0
        assert len(fake.digests) == 1 and fake.digests[0][1].total == 2
    finally:
        await storage.close()


async def test_headlines_after_the_digest_wait_for_the_next(storage: Storage) -> None:
    await setup(storage)
    await poll(storage, ("Before", (EUROPE,)))
    assert await storage.queue_due_digests(DUE) == 1
    await poll(storage, ("After", (EUROPE,)), now=DUE + 10)
    fake = FakeAdapter()
    await Outbox(storage, {"fake": fake}).deliver_due()
    assert [[h.title for s in d.sections for h in s.headlines] for _, d in fake.digests] == [
        ["Before"]
    ]
    assert await storage.queue_due_digests(DUE + 86400) == 1
    await Outbox(storage, {"fake": fake}).deliver_due()
    assert [h.title for h in fake.digests[1][1].sections[0].headlines] == ["After"]


async def test_turning_the_digest_off_sends_what_was_held_as_one_last_digest(
    storage: Storage,
) -> None:
    await setup(storage)
    await poll(storage, ("Held", (EUROPE,)))
    await storage.set_digest(CHAT, None, now=NOW + 60)
    await poll(storage, ("Alone", (EUROPE,)), now=NOW + 120)
    fake = FakeAdapter()
    await Outbox(storage, {"fake": fake}).deliver_due()
    assert [d.total for _, d in fake.digests] == [1] and fake.titles("1") == ["Alone"]
    assert await storage.queue_due_digests(DUE) == 0


async def test_unsubscribing_cancels_what_was_held(storage: Storage) -> None:
    await setup(storage)
    await poll(storage, ("Held", (EUROPE,)))
    await storage.unsubscribe(CHAT)
    assert await statuses(storage) == ["cancelled"]
    assert await storage.queue_due_digests(DUE) == 0


async def test_a_refused_digest_fails_whole(storage: Storage) -> None:
    await setup(storage)
    await poll(storage, ("One", (EUROPE,)), ("Two", (ASIA,)))
    await storage.queue_due_digests(DUE)
    fake = FakeAdapter()
    fake.fail_next(ContentRejected("message is too long"))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 0
    assert await statuses(storage) == ["failed", "failed"]


async def test_config_destinations_take_their_digest_from_the_file(storage: Storage) -> None:
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines("World", [], now=NOW)
    [d] = await storage.sync_destinations(
        "fake", [DestinationConfig("1", digest="daily 08:00 America/Mexico_City")]
    )
    assert (d.digest, d.timezone) == ("daily 08:00 America/Mexico_City", "America/Mexico_City")
    due = await storage.digest_due(d)
    # A restart with the same setting keeps the time it is due.
    [d] = await storage.sync_destinations(
        "fake", [DestinationConfig("1", digest="daily 08:00 America/Mexico_City")]
    )
    assert await storage.digest_due(d) == due
    await poll(storage, ("Held", (EUROPE,)))
    # Taken out of the file: what was held goes at once, as one last digest.
    [d] = await storage.sync_destinations("fake", [DestinationConfig("1")])
    assert d.digest == ""
    fake = FakeAdapter()
    await Outbox(storage, {"fake": fake}).deliver_due()
    assert [dg.total for _, dg in fake.digests] == [1]


async def test_the_console_prints_a_digest_grouped_by_region(storage: Storage) -> None:
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines("World", [], now=NOW)
    await storage.sync_destinations(
        "console", [DestinationConfig("stdout", digest="hourly Europe/Madrid", language="es")]
    )
    await poll(storage, ("Moon", ()), ("Paris votes", (EUROPE,)))
    # The file's setting is set from the real clock: due within the coming hour.
    assert await storage.queue_due_digests(time.time() + 3600) == 1
    out = io.StringIO()
    await Outbox(storage, {"console": ConsoleAdapter(out)}).deliver_due()
    assert out.getvalue().splitlines() == [
        "== Tu resumen de la hora: 2 titulares ==",
        "-- Europa --",
        "- Paris votes (World)",
        "  https://e.org/Paris votes",
        "-- Mundo --",
        "- Moon (World)",
        "  https://e.org/Moon",
        "Envía /latest para ver los titulares más recientes, /region NOMBRE para los de una "
        "región.",
    ]
