"""Chats split into threads (forum topics): each thread a destination of its own, keyed by
(platform, chat_id, thread_id), and the upgrade of a database from before them."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from bot.models import ChatRef, Destination, Headline
from bot.outbox.plan import wants
from bot.regions.names import WORLD
from bot.store import MIGRATIONS, Storage

GROUP = ChatRef("fake", "-100123", "group")


def story(*regions: str) -> Headline:
    published = datetime(2026, 1, 1, tzinfo=UTC)
    return Headline("F", "1", "A story", "https://news.example/1", "", published, regions=regions)


def test_a_world_filter_wants_only_headlines_with_no_region() -> None:
    world = Destination(1, GROUP, (WORLD,))
    assert wants(world, story()) and not wants(world, story("Asia"))
    asia = Destination(2, GROUP, ("Asia",))
    assert wants(asia, story("Asia", "Europe")) and not wants(asia, story())


async def test_a_database_from_before_threads_keeps_its_destinations_and_deliveries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        for script in MIGRATIONS[:2]:
            db.executescript(script)
        db.execute("PRAGMA user_version = 2")
        db.execute("INSERT INTO feeds (name, config_url, url) VALUES ('World', 'u', 'u')")
        db.execute(
            """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
            published, fetched, seen, categories, language, regions)
            VALUES (1, 'e', '', 'T', '', '', 0, 0, 0, '[]', 'en', '[]')"""
        )
        db.execute(
            """INSERT INTO destinations (id, platform, chat_id, regions, created)
            VALUES (7, 'fake', '-100123', '["Asia"]', 0)"""
        )
        db.execute(
            "INSERT INTO deliveries (headline_id, destination_id, due, created) VALUES (1, 7, 0, 0)"
        )
    storage = await Storage.open(path)
    try:
        old = await storage.destination(GROUP)
        assert old is not None and (old.id, old.regions, old.chat.thread_id) == (7, ("Asia",), "")
        assert [d.id for d in await storage.pending_destinations()] == [7]
        # A topic of the same chat is a destination beside it, with filters of its own.
        topic = await storage.subscribe(ChatRef("fake", "-100123", thread_id="55"), ["Europe"])
        assert topic.id != 7 and topic.chat.thread_id == "55"
        assert (await storage.destination(GROUP)) == old
    finally:
        await storage.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


async def test_region_threads_replace_the_chat_and_stop_together(storage: Storage) -> None:
    await storage.subscribe(GROUP)
    threads = {"Asia": "11", WORLD: "12"}
    made = await storage.subscribe_region_threads(GROUP, threads, language="es")
    assert [(d.regions, d.chat.thread_id, d.region_thread) for d in made] == [
        (("Asia",), "11", True),
        ((WORLD,), "12", True),
    ]
    whole = await storage.destination(GROUP)
    assert whole is not None and not whole.active and whole.inactive_reason == "split into topics"
    assert set(await storage.region_threads(GROUP)) == {"Asia", WORLD}

    assert await storage.unsubscribe_region_threads(GROUP) == 2
    assert not any(d.active for d in await storage.destinations())
    assert await storage.unsubscribe_region_threads(GROUP) == 0
    # Known still, so that subscribing again uses the same threads.
    assert {d.chat.thread_id for d in (await storage.region_threads(GROUP)).values()} == {
        "11",
        "12",
    }
