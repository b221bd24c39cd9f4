"""The counts storage keeps up to date for fast commands (headlines per region and hour,
per feed, deliveries per destination and status) always equal a plain recount of the rows,
whatever added, moved or removed them; and a database from before they existed upgrades.
On both backends: the recounts read the rows through the storage's own connection."""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from bot.config import FeedConfig
from bot.models import ChatRef, Headline
from bot.store import MIGRATIONS, Storage, is_postgres, schema_postgres
from bot.store.postgres import to_psycopg

T0 = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
NOW = T0.timestamp() + 86400
FEEDS = [FeedConfig(name, f"https://example.org/{name}", 600) for name in ("World", "Asia")]


def headline(feed: str, n: int, regions: tuple[str, ...], published: datetime) -> Headline:
    return Headline(
        feed=feed,
        entry_id=f"{feed}-{n}",
        title=f"{feed} headline {n}",
        link=f"https://example.org/{feed}/{n}",
        summary="",
        published=published,
        regions=regions,
    )


def mixed(feed: str, count: int, start: int = 0) -> list[Headline]:
    """`count` headlines 17 minutes apart (so they straddle hours), of one region, two, the
    same one twice, or none."""
    shapes: list[tuple[str, ...]] = [("Asia",), ("Asia", "Europe"), (), ("Africa", "Africa")]
    return [
        headline(feed, n, shapes[n % 4], T0 + timedelta(minutes=17 * n))
        for n in range(start, start + count)
    ]


async def recount(storage: Storage) -> dict[str, object]:
    """What the maintained counts should be, counted from the rows themselves, beside what
    they are."""

    async def rows(sql: str) -> list[tuple[object, ...]]:
        return [tuple(r) for r in await storage._fetchall(sql, ())]

    headlines = await rows("SELECT id, feed_id, published, regions FROM headlines")
    places = {
        (region or "", published, id_)
        for id_, _, published, regions in headlines
        for region in set(json.loads(regions)) or {""}
    }
    return {
        "headline_regions": (
            set(await rows("SELECT region, published, headline_id FROM headline_regions")),
            places,
        ),
        "region_hours": (
            {
                (hour, region): n
                for hour, region, n in await rows(
                    "SELECT hour, region, headlines FROM region_hours"
                )
            },
            dict(Counter((math.floor(p / 3600), region) for region, p, _ in places)),
        ),
        "feeds": (
            dict(await rows("SELECT id, headlines FROM feeds WHERE headlines != 0")),
            dict(Counter(feed_id for _, feed_id, _, _ in headlines)),
        ),
        "deliveries": (
            {
                (d, s): n
                for d, s, n in await rows(
                    "SELECT destination_id, status, deliveries FROM delivery_totals"
                )
            },
            {
                (d, s): n
                for d, s, n in await rows(
                    "SELECT destination_id, status, count(*) FROM deliveries GROUP BY 1, 2"
                )
            },
        ),
    }


async def assert_counts_match(storage: Storage) -> None:
    for name, (kept, counted) in (await recount(storage)).items():
        assert kept == counted, name


async def assert_region_counts_match(storage: Storage) -> None:
    """region_counts(since) equals a plain count for a `since` in the middle of an hour, on
    its first second, before everything and after everything."""
    rows = await storage._fetchall("SELECT published, regions FROM headlines", ())
    for since in [
        T0.timestamp() - 86400,
        T0.timestamp(),
        T0.timestamp() + 1,
        T0.timestamp() + 3600,
        T0.timestamp() + 5000.5,
        T0.timestamp() + 17 * 60 * 7,
        -1800.0,
        NOW + 86400,
    ]:
        expected = Counter(
            region
            for published, regions in rows
            if published >= since
            for region in set(json.loads(regions)) or {""}
        )
        expected.setdefault("", 0)
        assert await storage.region_counts(since) == dict(expected), since


async def test_counts_follow_every_change_to_the_rows(storage: Storage) -> None:
    await storage.sync_feeds(FEEDS)
    for chat in ("1", "2", "3"):
        await storage.subscribe(ChatRef("fake", chat), ("Asia",) if chat == "2" else ())
    await storage.add_headlines("World", mixed("World", 10), backfill=4, now=NOW)
    await storage.add_headlines("Asia", [], now=NOW)
    await storage.add_headlines("Asia", mixed("Asia", 30), now=NOW)
    # Before 1970, where the hour is rounded down and not towards zero.
    early = headline("World", 99, ("Oceania",), datetime(1969, 12, 31, 23, 30, tzinfo=UTC))
    await storage.add_headlines("World", [*mixed("World", 20), early], now=NOW + 60)
    await assert_counts_match(storage)
    await assert_region_counts_match(storage)

    one, two, three = await storage.destinations()
    sent = await storage.pending_deliveries(one, limit=7, now=NOW)
    await storage.mark_sent([d.id for d in sent], "m1")
    await storage.mark_failed([d.id for d in await storage.pending_deliveries(two, 3, NOW)], "x")
    await storage.postpone([d.id for d in await storage.pending_deliveries(two, 2, NOW)], NOW, "")
    await storage.unsubscribe(three.chat)
    await storage.move_destination(one, "2")  # merged into chat 2, which had its own
    await assert_counts_match(storage)

    # Feeds stop listing the first ones; what is still owed stays.
    await storage.add_headlines("World", mixed("World", 5, start=15), now=NOW + 7 * 86400)
    assert await storage.forget(unseen_since=NOW + 86400) > 0
    await assert_counts_match(storage)
    await assert_region_counts_match(storage)

    # Whatever else writes the database: a headline redated, deliveries and headlines deleted.
    async with storage._transaction():
        await storage._execute("UPDATE headlines SET published = published + 5400 WHERE id % 3 = 0")
        await storage._execute("DELETE FROM deliveries WHERE id % 2 = 0")
        await storage._execute(
            """DELETE FROM headline_regions WHERE headline_id IN
            (SELECT id FROM headlines WHERE id NOT IN (SELECT headline_id FROM deliveries))"""
        )
        await storage._execute(
            "DELETE FROM headlines WHERE id NOT IN (SELECT headline_id FROM deliveries)"
        )
    await assert_counts_match(storage)
    await assert_region_counts_match(storage)
    states = {s.name: s.headlines for s in await storage.feed_states()}
    assert states == dict(
        await storage._fetchall(
            """SELECT f.name, (SELECT count(*) FROM headlines h WHERE h.feed_id = f.id)
            FROM feeds f""",
            (),
        )
    )


async def test_the_newest_of_a_region_and_of_none_come_newest_first(storage: Storage) -> None:
    await storage.sync_feeds(FEEDS)
    await storage.add_headlines("World", mixed("World", 12), now=NOW)
    await storage.add_headlines("Asia", mixed("Asia", 12), now=NOW)
    everything = await storage.latest(100)
    for region in ("Asia", "Europe", "Africa", ""):
        expected = [h for h in everything if region in h.regions or (not region and not h.regions)]
        assert await storage.latest(5, region) == expected[:5]
        assert (
            await storage.latest(5, region, feeds=["Asia"])
            == [h for h in expected if h.feed == "Asia"][:5]
        )


class SqlitePlaceholders:
    """A psycopg connection taking the statements below, written with SQLite's `?`."""

    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self.db = db

    def execute(self, sql: str, args: Sequence[Any] = ()) -> None:
        self.db.execute(to_psycopg(sql), args)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.db.cursor().executemany(to_psycopg(sql), rows)


@contextlib.contextmanager
def version_1(database: Path | str) -> Iterator[Any]:
    """A connection of the driver's own to `database`, made at schema version 1 (before the
    counts), committed at the end."""
    if not is_postgres(database):
        with contextlib.closing(sqlite3.connect(database)) as db, db:
            db.executescript(MIGRATIONS[0])
            db.execute("PRAGMA user_version = 1")
            yield db
        return
    with psycopg.connect(str(database)) as pg:
        pg.execute(schema_postgres.MIGRATIONS[0])
        pg.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        pg.execute("INSERT INTO schema_version VALUES (1)")
        yield SqlitePlaceholders(pg)


async def test_a_database_from_before_the_counts_upgrades(database: Path | str) -> None:
    with version_1(database) as db:
        db.execute(
            "INSERT INTO feeds (name, config_url, url, initialized) VALUES ('World', 'u', 'u', 1)"
        )
        db.execute("INSERT INTO destinations (platform, chat_id, created) VALUES ('fake', '1', 0)")
        for n, regions in enumerate([["Asia", "Europe"], [], ["Asia"], []]):
            published = T0.timestamp() + n * 1800
            db.execute(
                """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
                published, fetched, seen, categories, language, regions)
                VALUES (1, ?, '', ?, '', '', ?, ?, ?, '[]', 'en', ?)""",
                (f"id-{n}", f"Title {n}", published, NOW, NOW, json.dumps(regions)),
            )
            db.executemany(
                "INSERT INTO headline_regions (region, headline_id) VALUES (?, ?)",
                [(region, n + 1) for region in regions],
            )
            db.execute(
                """INSERT INTO deliveries (headline_id, destination_id, status, due, created)
                VALUES (?, 1, ?, 0, 0)""",
                (n + 1, "sent" if n < 3 else "pending"),
            )
    storage = await Storage.open(database)
    try:
        await assert_counts_match(storage)
        await assert_region_counts_match(storage)
        assert [h.entry_id for h in await storage.latest(5, "Asia")] == ["id-2", "id-0"]
        assert [h.entry_id for h in await storage.latest(5, "")] == ["id-3", "id-1"]
        assert await storage.region_counts(T0.timestamp() + 1) == {"Asia": 1, "": 2}
        assert (await storage.feed_state("World")).headlines == 4
        assert await storage.delivery_counts() == {1: {"sent": 3, "pending": 1}}
    finally:
        await storage.close()
