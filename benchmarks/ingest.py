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
from collections.abc import AsyncIterator, Coroutine
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.app import HeadlinesBot
from bot.config import default_parse_workers, parse_config
from bot.store import describe
from testing import postgres
from testing.feedserver import FeedServer, make_rss, sample_entries


def serve(feeds: int, entries: int, port: Connection) -> None:
    """The feed server, in a process of its own so that it does not share the bot's core."""

    async def serve_forever() -> None:
        async with FeedServer(log_requests=False) as server:
            for i in range(feeds):
                body = make_rss(sample_entries(entries, seed=f"f{i}-"))
                server.set_feed(f"/feed/{i}", body, etag=f'"v{i}"')
            port.send(server.port)
            await asyncio.Event().wait()

    asyncio.run(serve_forever())


async def run(
    feeds: int, entries: int, workers: int, database: str = "", metrics: bool = False
) -> None:
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(target=serve, args=(feeds, entries, sender), daemon=True)
    process.start()
    try:
        base = f"http://127.0.0.1:{receiver.recv()}"
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
        config = parse_config(
            {
                "database": database or str(Path(tmp) / "bench.db"),
                "feeds": [{"name": f"feed {i}", "url": f"{base}/feed/{i}"} for i in range(feeds)],
                "fetch": {"parse_workers": workers},
                **({"http": {"listen": "127.0.0.1:0"}} if metrics else {}),
            }
        )
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
    args = parser.parse_args()
    if args.postgres and not args.database:
        with postgres.running() as server:
            database = server.database("bench")
            asyncio.run(run(args.feeds, args.entries, args.workers, database, args.metrics))
        return
    asyncio.run(run(args.feeds, args.entries, args.workers, args.database, args.metrics))


if __name__ == "__main__":
    main()
