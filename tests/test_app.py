"""The bot's lifecycle with platforms that do not always connect."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from apscheduler.events import EVENT_SCHEDULER_SHUTDOWN

import bot.app
from bot.app import HeadlinesBot
from bot.config import Config, parse_config
from bot.ports import CannotStart
from bot.store import Storage
from testing.fake_adapter import FakeAdapter
from testing.feedserver import FeedServer, make_rss, sample_entries


def config(tmp_path: Path) -> Config:
    # A feed nobody serves: polling fails quietly in the background, which is not the point.
    return parse_config(
        {
            "database": str(tmp_path / "bot.db"),
            "feeds": [{"name": "F", "url": "http://127.0.0.1:9/"}],
        }
    )


async def test_a_platform_that_cannot_connect_at_start_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bot.app, "RECONNECT_FIRST", 0.01)
    chat = FakeAdapter(start_failures=[OSError("network is down"), OSError("still down")])
    headlines = HeadlinesBot(config(tmp_path), [chat])
    try:
        await headlines.start()
        assert not chat.started and len(headlines._reconnects) == 1
        await asyncio.wait_for(asyncio.gather(*headlines._reconnects.values()), 5)
        assert chat.started
        reply = await chat.command("/help")
        assert "/latest" in reply.text
    finally:
        await headlines.stop()
    assert "fake still cannot start (still down)" in caplog.text
    assert not chat.started  # stopped with the bot


async def test_a_rejected_token_stops_the_start_with_the_reason(tmp_path: Path) -> None:
    rejected = FakeAdapter(start_failures=[CannotStart("fake: the token was rejected")])
    fine = FakeAdapter(platform="other")
    headlines = HeadlinesBot(config(tmp_path), [rejected, fine])
    with pytest.raises(CannotStart, match="token was rejected"):
        await headlines.start()
    await headlines.stop()
    assert fine.started is False and headlines._reconnects == {}


async def test_stopping_while_a_platform_is_still_down_ends_the_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    chat = FakeAdapter(start_failures=[OSError("network is down")])
    headlines = HeadlinesBot(config(tmp_path), [chat])
    await headlines.start()
    assert len(headlines._reconnects) == 1
    await headlines.stop()
    assert headlines._reconnects == {} and not chat.started


async def test_a_stop_lets_the_poll_in_flight_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.app, "POLL_GRACE", 60.0)
    async with FeedServer() as feeds:
        answer = asyncio.Event()
        feeds.set_feed("/news", make_rss(sample_entries(3)), gate=answer)
        headlines = HeadlinesBot(
            parse_config(
                {
                    "database": str(tmp_path / "bot.db"),
                    "feeds": [{"name": "News", "url": feeds.url("/news")}],
                }
            )
        )
        await headlines.start()
        scheduler_down = asyncio.Event()
        assert headlines._scheduler is not None
        headlines._scheduler.add_listener(lambda _: scheduler_down.set(), EVENT_SCHEDULER_SHUTDOWN)
        await asyncio.wait_for(feeds.wait_in_flight(1), 10)
        stopping = asyncio.create_task(headlines.stop())
        await asyncio.wait_for(scheduler_down.wait(), 10)  # polling is off; the poll is not
        answer.set()
        await asyncio.wait_for(stopping, 30)
    storage = await Storage.open(tmp_path / "bot.db")
    [news] = await storage.feed_states()
    await storage.close()
    assert news.headlines == 3 and news.last_status.startswith("200, first poll")
