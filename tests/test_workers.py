"""Parsing in worker processes: the same headlines as in the bot's own process, and a
worker that dies costs one feed's parse, not the bot."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import pytest

from bot.config import FeedConfig
from bot.models import ParseError
from bot.parser import parse_feed
from bot.workers import Parsers
from tests.feedserver import make_rss, sample_entries

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


async def test_a_dead_worker_fails_one_parse_and_new_workers_take_over(
    parsers: Parsers,
) -> None:
    await parsers.parse(BODY, FEED, FEED.url)
    pool = parsers._pool
    assert pool is not None
    for pid in list(pool._processes):  # as the kernel's OOM killer would
        os.kill(pid, signal.SIGKILL)
    with pytest.raises(ParseError, match="parser process died"):
        await parsers.parse(BODY, FEED, FEED.url)
    again = await parsers.parse(BODY, FEED, FEED.url)
    assert len(again.headlines) == 20 and parsers._pool is not pool


async def test_no_workers_parses_in_a_thread() -> None:
    parsers = Parsers(workers=0)
    parsed = await parsers.parse(BODY, FEED, FEED.url)
    assert len(parsed.headlines) == 20 and parsers._pool is None
