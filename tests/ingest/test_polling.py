"""Feeds served over HTTP on 127.0.0.1, polled by the real bot, delivered to a fake chat."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import HeadlinesBot
from bot.config import parse_config
from bot.models import ChatRef
from testing.fake_adapter import FakeAdapter
from testing.feedserver import FeedEntry, FeedServer, make_rss, sample_entries

NOW = datetime.now(UTC)


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as feeds:
        yield feeds


BotFactory = Callable[..., Any]


@pytest.fixture
async def make_bot(tmp_path: Path, server: FeedServer) -> AsyncIterator[BotFactory]:
    """Opens a bot on the feeds at `paths` with one subscribed fake chat."""
    opened: list[HeadlinesBot] = []

    async def make(*paths: str, **settings: Any) -> tuple[HeadlinesBot, FakeAdapter]:
        fetch = {"timeout": 1.0, **settings.pop("fetch", {})}
        config = parse_config(
            {
                "database": str(tmp_path / "bot.db"),
                "feeds": [{"name": p.strip("/"), "url": server.url(p)} for p in paths],
                "fetch": fetch,
                **settings,
            }
        )
        chat = FakeAdapter()
        bot = HeadlinesBot(config, [chat])
        await bot.open()
        await bot.connect()
        await bot.storage.subscribe(ChatRef("fake", "reader"))
        opened.append(bot)
        return bot, chat

    yield make
    for bot in opened:
        await bot.stop()


def entries(n: int, seed: str = "") -> list[FeedEntry]:
    return sample_entries(n, seed=seed, start=NOW - timedelta(minutes=1))


async def test_first_poll_is_quiet_then_only_new_entries_post(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_feed("/news", make_rss(entries(5)))
    bot, chat = await make_bot("/news")
    [first] = await bot.poll_all()
    assert (first.outcome, first.new, first.deliveries) == ("first", 5, 0)
    assert await bot.outbox.deliver_due() == 0

    fresh = FeedEntry("Pakistan: protests against electricity prices", guid="new-1", published=NOW)
    server.set_feed("/news", make_rss([fresh, *entries(5)]))
    [second] = await bot.poll_all()
    assert (second.outcome, second.new, second.deliveries) == ("new", 1, 1)
    assert await bot.outbox.deliver_due() == 1
    assert chat.titles() == ["Pakistan: protests against electricity prices"]
    [stored] = await bot.storage.latest(1)
    assert stored.regions == ("Asia",)


async def test_backfill_posts_the_newest_oldest_first(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_feed("/news", make_rss(entries(6)))
    bot, chat = await make_bot("/news", backfill=2)
    await bot.poll_all()
    await bot.outbox.deliver_due()
    newest = [e.title for e in entries(6)[:2]]
    assert chat.titles() == list(reversed(newest))


async def test_etag_gives_304_and_nothing_new(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_feed("/news", make_rss(entries(3)), etag='"v1"', last_modified="Mon, 01 Jan 2024")
    bot, _ = await make_bot("/news")
    await bot.poll_all()
    [again] = await bot.poll_all()
    assert again.outcome == "unchanged"
    last = server.requests_to("/news")[-1]
    assert last.headers["If-None-Match"] == '"v1"' and last.status == 304
    state = await bot.storage.feed_state("news")
    assert state.last_status == "304 not modified" and state.failures == 0


async def test_permanent_redirect_moves_the_feed(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_redirect("/old", "/new", status=301)
    server.set_feed("/new", make_rss(entries(2)))
    bot, _ = await make_bot("/old")
    await bot.poll_all()
    assert (await bot.storage.feed_state("old")).url == server.url("/new")
    await bot.poll_all()
    assert len(server.requests_to("/old")) == 1 and len(server.requests_to("/new")) == 2


async def test_temporary_redirect_does_not_move_the_feed(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_redirect("/feed", "/today", status=302)
    server.set_feed("/today", make_rss(entries(2)))
    bot, _ = await make_bot("/feed")
    [result] = await bot.poll_all()
    assert result.outcome == "first"
    assert (await bot.storage.feed_state("feed")).url == server.url("/feed")


async def test_retry_after_is_honoured(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_status("/busy", 429, retry_after="3600")
    server.set_feed("/fine", make_rss(entries(2)))
    bot, _ = await make_bot("/busy", "/fine")
    started = time.time()
    busy, fine = await bot.poll_all()
    assert busy.outcome == "failed" and "429" in busy.detail
    assert fine.outcome == "first"
    state = await bot.storage.feed_state("busy")
    assert state.next_poll_at >= started + 3600 and state.failures == 1
    [not_due] = [r for r in await bot.poll_all(force=False) if r.feed == "busy"]
    assert not_due.outcome == "not due"
    assert len(server.requests_to("/busy")) == 1


async def test_failing_feed_backs_off_then_is_disabled_with_the_reason(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_status("/broken", 500)
    bot, _ = await make_bot("/broken", fetch={"max_failures": 3})
    waits = []
    for _ in range(3):
        polled_at = time.time()
        [result] = await bot.poll_all()
        state = await bot.storage.feed_state("broken")
        waits.append(state.next_poll_at - polled_at)
    assert waits[0] < waits[1] and result.outcome == "disabled"
    assert state.disabled_reason.startswith("disabled after 3 consecutive failures")
    assert "500" in state.disabled_reason
    [again] = await bot.poll_all()
    assert again.outcome == "disabled" and len(server.requests_to("/broken")) == 3


async def test_html_page_and_malformed_xml(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_feed(
        "/page", b"<!doctype html><html><body>Hello</body></html>", content_type="text/html"
    )
    broken = make_rss(entries(2)).replace(b"</channel>", b"<oops></channel>")
    server.set_feed("/broken", broken)
    bot, _ = await make_bot("/page", "/broken")
    page, malformed = await bot.poll_all()
    assert page.outcome == "failed" and "does not look like an RSS or Atom feed" in page.detail
    assert malformed.outcome == "first" and malformed.new == 2
    assert "RSS or Atom" in (await bot.storage.feed_state("page")).last_error


async def test_a_slow_server_does_not_stall_the_others(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_feed("/slow", make_rss(entries(2)), delay=5)
    server.set_feed("/fast", make_rss(entries(2, seed="f")))
    bot, _ = await make_bot("/slow", "/fast", fetch={"timeout": 1})
    slow, fast = await bot.poll_all()
    assert slow.outcome == "failed" and "timeout" in slow.detail
    assert fast.outcome == "first" and fast.new == 2


async def test_oversized_feed_is_refused(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_feed("/huge", make_rss(entries(400)))
    bot, _ = await make_bot("/huge", fetch={"max_bytes": 10_000})
    [result] = await bot.poll_all()
    assert result.outcome == "failed" and "10000" in result.detail.replace(",", "")
    assert (await bot.storage.feed_state("huge")).headlines == 0


async def test_feed_ttl_lengthens_the_interval(server: FeedServer, make_bot: BotFactory) -> None:
    server.set_feed("/slowly", make_rss(entries(1), ttl=120))
    bot, _ = await make_bot("/slowly", poll_interval=600)
    before = time.time()
    await bot.poll_all()
    state = await bot.storage.feed_state("slowly")
    assert state.min_interval == 7200 and state.next_poll_at >= before + 7200


async def test_a_burst_waits_in_the_outbox_none_dropped(
    server: FeedServer, make_bot: BotFactory
) -> None:
    server.set_feed("/burst", make_rss([]))
    bot, chat = await make_bot("/burst", max_posts_per_poll=10)
    await bot.poll_all()
    server.set_feed("/burst", make_rss(entries(25, seed="b")))
    [result] = await bot.poll_all()
    assert result.new == 25 and result.deliveries == 25
    assert await bot.outbox.deliver_due() == 10
    assert chat.titles() == [e.title for e in reversed(entries(25, seed="b"))][:10]
    [destination] = await bot.storage.destinations()
    later = await bot.storage.pending_deliveries(destination, 100, now=time.time() + 1800)
    assert len(later) == 15
