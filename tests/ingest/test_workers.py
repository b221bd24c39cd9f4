"""Parsing in worker processes: the same headlines as in the bot's own process, and a
worker that dies costs one feed's parse, not the bot."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import bot.ingest.workers
from bot.config import FeedConfig
from bot.ingest.parser import parse_feed
from bot.ingest.workers import Parsers
from bot.models import ParseError
from testing.feedserver import make_rss, sample_entries

ROOT = Path(__file__).resolve().parents[2]
FEED = FeedConfig("World", "http://127.0.0.1:9/feed", 600)
BODY = make_rss(sample_entries(20, seed="w-"))


@pytest.fixture
async def parsers() -> AsyncIterator[Parsers]:
    pool = Parsers(workers=2)
    yield pool
    await pool.close()


async def test_workers_parse_as_the_bot_itself_would(parsers: Parsers) -> None:
    parsed = await parsers.parse(BODY, FEED, FEED.url)
    here = parse_feed(BODY, FEED, url=FEED.url)
    assert len(parsed.headlines) == 20
    assert [(h.entry_id, h.title, h.regions) for h in parsed.headlines] == [
        (h.entry_id, h.title, h.regions) for h in here.headlines
    ]


async def test_a_body_that_is_no_feed_is_a_parse_error_from_a_worker(parsers: Parsers) -> None:
    with pytest.raises(ParseError, match="an HTML page"):
        await parsers.parse(b"<!DOCTYPE html><html><body>Hi</body></html>", FEED, FEED.url)


# In a process of its own: after a worker is killed, the test process must still be able
# to exit (a pool whose workers hang would keep it alive for ever).
DEAD_WORKER = """
import asyncio, os, signal
import bot.ingest.workers
from bot.config import FeedConfig
from bot.models import ParseError
from bot.ingest.workers import Parsers
from testing.feedserver import make_rss, sample_entries

async def main():
    feed, body = FeedConfig("W", "http://127.0.0.1:9/", 600), make_rss(sample_entries(5))
    parsers = Parsers(workers=2)
    await parsers.parse(body, feed, feed.url)
    pool = parsers._pool
    for pid in list(pool._processes):  # as the kernel's OOM killer would
        os.kill(pid, signal.SIGKILL)
    try:
        await parsers.parse(body, feed, feed.url)
    except ParseError as error:
        print("failed:", error)
    again = await parsers.parse(body, feed, feed.url)
    print("then parsed", len(again.headlines), "with a new pool:", parsers._pool is not pool)
    await parsers.close()

if __name__ == "__main__":
    asyncio.run(main())
"""


async def test_a_dead_worker_fails_one_parse_and_new_workers_take_over() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DEAD_WORKER, cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    assert out.decode().splitlines() == [
        "failed: parser: the parser process died on this feed",
        "then parsed 5 with a new pool: True",
    ]


async def test_workers_are_replaced_after_their_share_of_feeds(
    monkeypatch: pytest.MonkeyPatch, parsers: Parsers
) -> None:
    monkeypatch.setattr(bot.ingest.workers, "RECYCLE_AFTER", 2)
    pools = []
    for _ in range(9):
        await parsers.parse(BODY, FEED, FEED.url)
        pools.append(parsers._pool)
    assert len(set(map(id, pools))) == 3  # 4 feeds per pool of 2 workers


async def test_no_workers_parses_in_a_thread() -> None:
    parsers = Parsers(workers=0)
    parsed = await parsers.parse(BODY, FEED, FEED.url)
    assert len(parsed.headlines) == 20 and parsers._pool is None


async def test_where_processes_cannot_start_it_parses_in_a_thread(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_processes(self: Parsers) -> None:
        raise OSError(38, "Function not implemented")  # sem_open without /dev/shm

    monkeypatch.setattr(Parsers, "_new_pool", no_processes)
    parsers = Parsers(workers=2)
    parsed = await parsers.parse(BODY, FEED, FEED.url)
    assert len(parsed.headlines) == 20 and parsers.workers == 0
    assert "cannot start worker processes" in caplog.text
    await parsers.close()
