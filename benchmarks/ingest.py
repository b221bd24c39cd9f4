"""Ingest benchmark: fetch (loopback HTTP) -> parse -> classify -> store.

1,000 feeds of 50 entries each are served on 127.0.0.1 by a separate process and polled
once by the real bot (first pass: everything new), then again with every feed answering
304 (second pass). Prints entries/s, how late the event loop ran meanwhile (parsing must
stay off it), the second pass's duration, and the bot process's peak memory.

    .venv/bin/python -m benchmarks.ingest [--feeds 1000] [--entries 50] [--metrics]
        [--postgres]

With --metrics the bot keeps its Prometheus metrics as `[http] listen` makes it do (the
listener itself is not started: what is measured is the counting), and one scrape of
/metrics' text is timed at the end.

With `--postgres` the bot stores into a PostgreSQL server of the benchmark's own
(testing/postgres.py, as the tests start it: fsync off), or into `--database URL`; the
server's memory is not the bot's and is not counted.

With `--processes N` (PostgreSQL only: an SQLite file takes one process) N bot processes
share the database, each as `run` schedules polls: every `--tick` seconds (POLL_TICK, 1 s)
`HeadlinesBot.poll_due` claims the due feeds no process polls, as many as it has room for
(twice `fetch.concurrency` polls in flight), and polls them. A pass ends when every feed
has been polled; the second pass makes every feed due again. The feed server counts its
requests: each feed must be fetched exactly once a pass. Prints entries/s overall, how
many feeds each process polled, and each process's peak memory (PSS of it and its parse
workers, max RSS of the bot process).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import resource
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import psycopg

from bot.app import POLL_TICK, HeadlinesBot
from bot.config import default_parse_workers, parse_config
from bot.store import describe
from testing import postgres
from testing.feedserver import FeedServer, make_rss, sample_entries


def serve(feeds: int, entries: int, port: Connection) -> None:
    """The feed server, in a process of its own so that it does not share the bot's core.
    Sends its port, then answers each message with the requests per path since the last
    (and forgets them)."""

    async def serve_forever() -> None:
        async with FeedServer(log_requests=False) as server:
            for i in range(feeds):
                body = make_rss(sample_entries(entries, seed=f"f{i}-"))
                server.set_feed(f"/feed/{i}", body, etag=f'"v{i}"')
            port.send(server.port)
            loop = asyncio.get_running_loop()
            while True:
                await loop.run_in_executor(None, port.recv)
                port.send(Counter(path for path, _ in server.arrivals))
                server.arrivals.clear()

    asyncio.run(serve_forever())


async def run(
    feeds: int,
    entries: int,
    workers: int,
    database: str = "",
    metrics: bool = False,
    processes: int = 0,
    tick: float = POLL_TICK,
) -> None:
    server, ours = multiprocessing.Pipe()
    process = multiprocessing.Process(target=serve, args=(feeds, entries, server), daemon=True)
    process.start()
    try:
        base = f"http://127.0.0.1:{ours.recv()}"
        if processes:
            await measure_processes(feeds, base, workers, database, processes, tick, ours)
        else:
            await measure(feeds, base, workers, process.pid, database, metrics)
    finally:
        process.terminate()


async def measure(
    feeds: int,
    base: str,
    workers: int,
    server_pid: int | None,
    database: str = "",
    metrics: bool = False,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = database or str(Path(tmp) / "bench.db")
        config = parse_config(config_table(feeds, base, workers, database, metrics))
        bot = HeadlinesBot(config)
        await bot.open()
        lag = LoopLag()
        memory = Memory(exclude=server_pid)
        try:
            started = time.perf_counter()
            async with running(lag.measure(), memory.measure()):
                results = await bot.poll_all()
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = await bot.poll_all()
            second = time.perf_counter() - started
            scrape = 0.0
            if bot.metrics is not None:
                started = time.perf_counter()
                await bot.metrics_text()
                scrape = time.perf_counter() - started
        finally:
            await bot.stop()
    stored = sum(r.new for r in results)
    failed = sum(r.outcome not in ("first", "new") for r in results)
    unchanged = sum(r.outcome == "unchanged" for r in again)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"database: {describe(config.database)}")
    print(f"feeds: {feeds}, failed: {failed}, parse workers: {workers or 'none (a thread)'}")
    print(f"metrics: {'kept' if metrics else 'off'}")
    print(f"first pass: {stored} entries stored in {first:.2f}s = {stored / first:,.0f} entries/s")
    print(f"  event loop late by at most {lag.worst * 1000:.0f} ms meanwhile")
    print(f"second pass: {unchanged}/{feeds} answered 304 in {second:.2f}s")
    print(f"peak memory of the bot process (max RSS): {peak_mb:.0f} MB")
    print(f"peak memory of the bot with its parse workers (sum of PSS): {memory.peak_mb:.0f} MB")
    if scrape:
        print(f"one scrape of /metrics' text: {scrape * 1000:.1f} ms")


def config_table(
    feeds: int, base: str, workers: int, database: str, metrics: bool = False
) -> dict[str, Any]:
    """The bot's config: `feeds` feeds of the feed server at `base`, polled hourly (a
    pass of 10,000 feeds fits in that hour, so no feed falls due twice in one)."""
    return {
        "database": database,
        "poll_interval": 3600,
        "feeds": [{"name": f"feed {i}", "url": f"{base}/feed/{i}"} for i in range(feeds)],
        "fetch": {"parse_workers": workers},
        **({"http": {"listen": "127.0.0.1:0"}} if metrics else {}),
    }


async def measure_processes(
    feeds: int,
    base: str,
    workers: int,
    database: str,
    processes: int,
    tick: float,
    server: Connection,
) -> None:
    """`processes` bot processes poll the feeds through `poll_due` (two passes); this
    process watches the database for the end of each pass."""
    # spawn: each bot starts as `python -m bot run` does, sharing no pages with this one.
    context = multiprocessing.get_context("spawn")
    started, stop, reports = context.Barrier(processes + 1), context.Event(), context.Queue()
    bots = [
        context.Process(
            target=bot_process,
            args=(feeds, base, workers, database, tick, started, stop, reports),
        )
        for _ in range(processes)
    ]
    for bot in bots:
        bot.start()
    passes = []
    with psycopg.connect(database, autocommit=True) as db:
        try:
            for number in (1, 2):
                if number == 2:  # every feed due again
                    db.execute("UPDATE feeds SET next_poll_at = 0")
                else:
                    await asyncio.to_thread(started.wait, 600)
                began, since = time.perf_counter(), time.time()
                while True:
                    # Done: every feed polled since the pass began, none claimed.
                    (left,) = db.execute(
                        "SELECT count(*) FROM feeds WHERE next_poll_at < %s OR poll_lease > 0",
                        (since,),
                    ).fetchone()  # type: ignore[misc]
                    if not left:
                        break
                    if not all(bot.is_alive() for bot in bots):
                        raise SystemExit("a bot process ended early")
                    await asyncio.sleep(0.1)
                seconds = time.perf_counter() - began
                server.send("count")
                fetched: Counter[str] = server.recv()
                passes.append((seconds, fetched))
            (stored,) = db.execute("SELECT count(*) FROM headlines").fetchone()  # type: ignore[misc]
            (failed,) = db.execute("SELECT count(*) FROM feeds WHERE failures > 0").fetchone()  # type: ignore[misc]
        finally:
            stop.set()
        found = [await asyncio.to_thread(reports.get, True, 120) for _ in bots]
    for bot in bots:
        bot.join(60)
    print(f"database: {describe(database)}, {processes} bot processes")
    print(f"feeds: {feeds}, failed: {failed}, parse workers: {workers or 'none (a thread)'} each")
    print(f"polls claimed by poll_due every {tick:g} s")
    for number, (seconds, fetched) in enumerate(passes, 1):
        once = len(fetched) == feeds and max(fetched.values(), default=0) == 1
        what = f"{stored} entries stored" if number == 1 else "all due again"
        rate = f" = {stored / seconds:,.0f} entries/s" if number == 1 else ""
        print(
            f"pass {number}: {what} in {seconds:.2f}s{rate}; {fetched.total()} fetches of "
            f"{len(fetched)} feeds, each fetched once: {'yes' if once else 'NO'}"
            + ("" if once else f" (most fetches of one feed: {max(fetched.values())})")
        )
    for pid, polls, pss, rss in sorted(found):
        print(
            f"bot process {pid}: {polls} polls; peak memory {pss:.0f} MB with its parse "
            f"workers (sum of PSS), {rss:.0f} MB alone (max RSS)"
        )


def bot_process(
    feeds: int,
    base: str,
    workers: int,
    database: str,
    tick: float,
    started: Any,
    stop: Any,
    reports: Any,
) -> None:
    """One bot process: open, then claim and poll the due feeds every `tick` seconds
    until `stop`; report its pid, polls and peak memory."""

    async def polling() -> None:
        bot = HeadlinesBot(parse_config(config_table(feeds, base, workers, database)))
        await bot.open()
        polls = 0
        poll_feed = bot.poll_feed

        async def counted(name: str, **options: Any) -> Any:
            nonlocal polls
            polls += 1
            return await poll_feed(name, **options)

        bot.poll_feed = counted  # type: ignore[method-assign]
        memory = Memory(exclude=None)
        try:
            await asyncio.to_thread(started.wait, 600)
            async with running(memory.measure()):
                while not stop.is_set():
                    await bot.poll_due()
                    await asyncio.sleep(tick)
        finally:
            await bot.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        reports.put((os.getpid(), polls, memory.peak_mb, rss))

    asyncio.run(polling())


class Memory:
    """The peak memory of this process and its children (the parse workers) together, as
    the sum of their proportional set sizes, sampled every 20 ms; `exclude` leaves out the
    feed server."""

    def __init__(self, exclude: int | None) -> None:
        self.exclude = exclude
        self.peak_mb = 0.0

    async def measure(self) -> None:
        while True:
            pids = [os.getpid(), *(p for p in _children(os.getpid()) if p != self.exclude)]
            self.peak_mb = max(self.peak_mb, sum(_pss_kb(p) for p in pids) / 1024)
            await asyncio.sleep(0.02)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found + [grandchild for child in found for grandchild in _children(child)]


def _pss_kb(pid: int) -> int:
    """Proportional set size: pages shared with other processes (the workers share what
    they inherited) count in proportion, so the sum is the memory really used."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # it just ended
        pass
    return 0


class LoopLag:
    """The longest the event loop was late for a 10 ms tick: long if work blocks it."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def measure(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            self.worst = max(self.worst, time.perf_counter() - before - 0.01)


@contextlib.asynccontextmanager
async def running(*measures: Coroutine[Any, Any, None]) -> AsyncIterator[None]:
    """Runs `measures` in the background for the duration of the block."""
    tasks = [asyncio.create_task(m) for m in measures]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument(
        "--workers",
        type=int,
        default=default_parse_workers(),
        help="parse worker processes (default: as the bot's default; 0: a thread)",
    )
    parser.add_argument(
        "--metrics", action="store_true", help="keep the Prometheus metrics, as [http] does"
    )
    parser.add_argument(
        "--postgres", action="store_true", help="store into a PostgreSQL server of its own"
    )
    parser.add_argument("--database", default="", help="store into this postgresql:// URL")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="N bot processes polling through poll_due (PostgreSQL; 0: poll_all in this one)",
    )
    parser.add_argument(
        "--tick", type=float, default=POLL_TICK, help="seconds between poll_due's claims"
    )
    args = parser.parse_args()
    if args.processes and not (args.postgres or args.database.startswith("postgres")):
        parser.error("--processes needs PostgreSQL (--postgres or --database postgresql://...)")
    options = (args.metrics, args.processes, args.tick)
    if args.postgres and not args.database:
        with postgres.running() as server:
            database = server.database("bench")
            asyncio.run(run(args.feeds, args.entries, args.workers, database, *options))
        return
    asyncio.run(run(args.feeds, args.entries, args.workers, args.database, *options))


if __name__ == "__main__":
    main()
