"""Command latency benchmark: every command against a large archive in a real SQLite file.

Fills a database with N headlines through `Storage.add_headlines` (20 feeds of one or two
regions each, one headline in 20 placed nowhere, published over the last 30 days, titles
of three words from a list of about 100 for /search to find, three
subscribed chats whose deliveries are then marked sent), then times each command through
`bot.commands.Commands.handle`, as the adapters call it, and the reads `status` makes.
Prints p50 and p99 per command in milliseconds.

    .venv/bin/python -m benchmarks.commands [--headlines 100000] [--runs 300] [--db PATH]

With `--db PATH` an existing file is reused as it is (opening it runs any new migration,
and the time that took is printed); a missing one is filled and kept, so a large archive
is built once and measured again after a change. With `--postgres` the archive is filled
and measured on a PostgreSQL server of the benchmark's own (testing/postgres.py).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bot.chat.commands import Commands
from bot.config import FeedConfig
from bot.models import ChatRef, Command, Headline
from bot.regions.names import REGIONS
from bot.store import Storage, describe
from testing import postgres

FEEDS = 20
DAYS = 30
BATCH = 500  # headlines per feed per add_headlines call, as a busy feed's poll might list
SUBSCRIBERS = {"100": (), "101": ("Asia",), "102": ("Europe", "Africa")}
# Words for the titles, so that /search has common words and rare ones to find: title n
# of feed i holds three of them, the first of a few common ones (each in about one title
# in 8), the others of all (about one in 100).
COMMON = ("storm", "election", "strike", "budget", "protest", "summit", "trade", "court")
MORE_WORDS = """port rail oil gas wheat bank rate vote poll crash flood fire quake drought heat
    talks deal ban tax fund aid war truce border visa court judge police army navy
    school health virus vaccine hospital climate carbon solar wind nuclear coal mine
    market shares bond debt loan jobs wages pension strike union farmers fishing
    airport airline train bus road bridge dam river coast island city village capital
    minister president senate congress party leader rival coalition reform law
    protest rally march riot curfew arrest trial verdict appeal prison escape"""
WORDS = (*COMMON, *MORE_WORDS.split())


def title_words(n: int, i: int) -> str:
    first = COMMON[(n * 7 + i) % len(COMMON)]
    return f"{first} {WORDS[(n * 31 + i * 17) % len(WORDS)]} {WORDS[(n * 13 + i) % len(WORDS)]}"


def feed_regions(i: int) -> tuple[str, ...]:
    """Feed i's regions: one, or two for every third feed."""
    first = REGIONS[i % len(REGIONS)]
    return (first, REGIONS[(i + 3) % len(REGIONS)]) if i % 3 == 0 else (first,)


async def fill(path: Path | str, headlines: int) -> float:
    """Store `headlines` headlines through the store's API; returns the seconds it took."""
    started = time.perf_counter()
    storage = await Storage.open(path)
    try:
        feeds = [FeedConfig(f"feed {i}", f"https://example.org/{i}", 600) for i in range(FEEDS)]
        await storage.sync_feeds(feeds)
        for chat_id, regions in SUBSCRIBERS.items():
            await storage.subscribe(ChatRef("bench", chat_id), regions)
        end = time.time()
        start = end - DAYS * 86400
        per_feed = headlines // FEEDS
        step = DAYS * 86400 / per_feed
        for first in range(0, per_feed, BATCH):
            numbers = range(first, min(first + BATCH, per_feed))
            polled = start + (numbers[-1] + 1) * step
            for i, feed in enumerate(feeds):
                batch = [
                    Headline(
                        feed=feed.name,
                        entry_id=f"{i}-{n}",
                        title=f"Headline {n} of feed {i}: {title_words(n, i)}",
                        link=f"https://example.org/{i}/{n}",
                        summary="A summary of some length, as feeds give them. " * 3,
                        # Feeds interleave: each gets its own offset within the step.
                        published=datetime.fromtimestamp(start + (n + i / FEEDS) * step, UTC),
                        regions=() if n % 20 == 19 else feed_regions(i),
                    )
                    for n in numbers
                ]
                await storage.add_headlines(
                    feed.name, batch, max_per_poll=BATCH, release_every=0, now=polled
                )
        # Bulk path for what the outbox would have done: every delivery was sent.
        async with storage._transaction():
            await storage._execute(
                "UPDATE deliveries SET status = 'sent', message_id = 'm', sent = created"
            )
    finally:
        await storage.close()
    return time.perf_counter() - started


def handling(
    commands: Commands, text: str, chats: Sequence[str] = ("1",)
) -> Callable[[int], Awaitable[object]]:
    """The n-th call sends `text` from chat n (modulo `chats`), as an administrator."""
    name, *args = text.split()
    sent = [Command(name.lstrip("/"), tuple(args), ChatRef("bench", c), True, "en") for c in chats]
    return lambda n: commands.handle(sent[n % len(sent)])


async def measure(path: Path | str, runs: int) -> None:
    started = time.perf_counter()
    storage = await Storage.open(path)
    opened = time.perf_counter() - started
    try:
        stored = sum(s.headlines for s in await storage.feed_states())
        shown = describe(path)
        print(f"{stored:,} headlines stored in {shown} (opened in {opened * 1000:.0f} ms)")
        commands = Commands(storage, tuple(f"feed {i}" for i in range(FEEDS)))
        cases: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
            (text, handling(commands, text))
            for text in (
                "/latest",
                "/latest 5 asia",
                "/latest 20 oceania",
                "/latest 5 world",
                "/region",
                "/region europe",
                "/help",
                "/start",
                "/search storm",
                "/search storm asia",
                "/search election budget",
                '/search "port strike"',
                "/search quake oceania",
                "/search nothingmatches",
            )
        ]
        # An admin (re)subscribing one of 50 chats in turn: a write transaction each time.
        chats = [str(n) for n in range(50)]
        cases += [
            ("/subscribe asia europe", handling(commands, "/subscribe asia europe", chats)),
            ("status: feed_states", lambda _: storage.feed_states()),
            ("status: delivery_counts", lambda _: storage.delivery_counts()),
            ("status: destinations", lambda _: storage.destinations()),
        ]
        print(f"{'command':<26} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for name, call in cases:
            for n in range(min(20, runs)):  # warm the page cache and the statement cache
                await call(n)
            times = []
            for n in range(runs):
                before = time.perf_counter()
                await call(n)
                times.append((time.perf_counter() - before) * 1000)
            p50, p99 = statistics.median(times), percentile(times, 99)
            print(f"{name:<26} {p50:>8.2f} {p99:>8.2f} {max(times):>8.2f}")
    finally:
        await storage.close()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(headlines: int, runs: int, db: Path | None, fill_first: bool) -> None:
    if db is not None:
        if fill_first:
            print(f"filled in {await fill(db, headlines):.1f}s")
        await measure(db, runs)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        print(f"filled in {await fill(path, headlines):.1f}s")
        await measure(path, runs)


async def run_postgres(headlines: int, runs: int, url: str) -> None:
    print(f"filled in {await fill(url, headlines):.1f}s")
    # The planner's statistics, as autovacuum gathers them in a running database: without
    # them it guesses how common a searched word is, and reads every match of a common one
    # where reading the archive newest first would stop at the first 200.
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        await db.execute("ANALYZE")
    await measure(url, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headlines", type=int, default=20_000, help="archive size")
    parser.add_argument("--runs", type=int, default=300, help="timed calls per command")
    parser.add_argument("--db", type=Path, help="database to reuse (filled if missing)")
    parser.add_argument("--postgres", action="store_true", help="on a PostgreSQL server of its own")
    args = parser.parse_args()
    if args.postgres:
        with postgres.running() as server:
            url = server.database("bench")
            asyncio.run(run_postgres(args.headlines, args.runs, url))
        return
    fill_first = args.db is not None and not args.db.exists()
    asyncio.run(run(args.headlines, args.runs, args.db, fill_first))


if __name__ == "__main__":
    main()
