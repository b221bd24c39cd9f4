"""The operator's HTTP listener against the real platforms' fakes: /metrics read by the
real prometheus-client parser after a poll and a fan-out, /healthz turning 503 when
Telegram cannot be reached or the database cannot be written, and 200 again after."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

import bot.ops.health
from adapters import section_parsers
from adapters.telegram.adapter import TelegramAdapter
from bot.app import HeadlinesBot
from bot.config import Config, parse_config
from testing.fake_telegram import TOKEN, FakeTelegram
from testing.feedserver import FeedServer, make_rss, sample_entries
from tests.test_full_disk import SmallDisk, small_disk  # noqa: F401 (a fixture)

CHANNEL = "-1001"


def ops_config(database: Path, feed_url: str, telegram_url: str, **http: str) -> Config:
    return parse_config(
        {
            "database": str(database),
            "backfill": 3,
            "fetch": {"parse_workers": 0},
            "feeds": [{"name": "News", "url": feed_url}],
            "telegram": {
                "token": TOKEN,
                "api_base_url": telegram_url,
                "destinations": [{"chat": CHANNEL}],
            },
            "http": {"listen": "127.0.0.1:0", **http},
        },
        platforms=section_parsers(),
    )


async def get(bot: HeadlinesBot, path: str, **headers: str) -> tuple[int, str]:
    assert bot.http is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{bot.http.port}{path}", headers=headers) as response,
    ):
        return response.status, await response.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition, by name and labels, as the real parser reads it."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def until(check: Callable[[], Any], what: str, seconds: float = 60.0) -> Any:
    for _ in range(int(seconds / 0.1)):
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        yield server


async def test_metrics_count_a_poll_and_a_fan_out_with_a_429(
    tmp_path: Path, feeds: FeedServer
) -> None:
    async with FakeTelegram() as telegram:
        telegram.retry_after(CHANNEL, 1)  # the first send is refused once: 429
        config = ops_config(tmp_path / "bot.db", feeds.url("/news"), telegram.url)
        headlines = HeadlinesBot(config, [TelegramAdapter(config.platforms["telegram"])])  # type: ignore[arg-type]
        await headlines.start()
        try:
            await telegram.wait_messages(CHANNEL)

            async def fanned_out() -> dict[Any, float] | None:
                status, text = await get(headlines, "/metrics")
                assert status == 200
                found = samples(text)
                sent = found.get(
                    ("headlines_deliveries_total", (("platform", "telegram"), ("result", "sent")))
                )
                return found if sent == 3 else None

            found = await until(fanned_out, "the three deliveries are counted")
        finally:
            await headlines.stop()
    assert found[("headlines_polls_total", (("outcome", "first"),))] == 1
    assert found[("headlines_entries_stored_total", ())] == 3
    assert found[("headlines_poll_duration_seconds_count", ())] == 1
    assert found[("headlines_rate_limited_total", (("platform", "telegram"),))] == 1
    assert found[("headlines_send_retries_total", (("platform", "telegram"),))] == 1
    assert found[("headlines_publish_to_post_seconds_count", (("platform", "telegram"),))] == 3
    assert found[("headlines_outbox_pending", (("platform", "telegram"),))] == 0
    assert found[("headlines_destinations", (("platform", "telegram"), ("state", "active")))] == 1
    assert found[("headlines_feeds", (("state", "ok"),))] == 1
    # Alone on its database, the process holds every role it wants.
    assert found[("headlines_roles_held", (("role", "telegram"),))] == 1
    assert found[("headlines_roles_held", (("role", "maintenance"),))] == 1
    # Bounded labels: no chat, no headline in any of them.
    labels = {v for (_, pairs) in found for _, v in pairs}
    assert CHANNEL not in labels and not any("News" in v for v in labels)


async def test_healthz_is_503_while_telegram_cannot_be_reached_and_200_after(
    tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.ops.health, "RECONNECT_WINDOW", 0.0)
    async with FakeTelegram() as telegram:
        config = ops_config(tmp_path / "bot.db", feeds.url("/news"), telegram.url)
        headlines = HeadlinesBot(config, [TelegramAdapter(config.platforms["telegram"])])  # type: ignore[arg-type]
        await headlines.start()
        try:
            status, body = await get(headlines, "/healthz")
            assert status == 200, body
            assert json.loads(body)["parts"]["platform:telegram"]["ok"]

            await telegram.go_offline()

            async def unhealthy() -> dict[str, Any] | None:
                status, body = await get(headlines, "/healthz")
                return json.loads(body) if status == 503 else None

            report = await until(unhealthy, "/healthz says Telegram is unreachable")
            assert report["failing"] == ["platform:telegram"]
            assert report["parts"]["database"]["ok"] and report["parts"]["scheduler"]["ok"]

            await telegram.go_online()

            async def healthy() -> bool:
                return (await get(headlines, "/healthz"))[0] == 200

            await until(healthy, "/healthz is 200 again")
        finally:
            await headlines.stop()


async def test_healthz_is_503_while_the_database_cannot_be_written(
    small_disk: SmallDisk,  # noqa: F811
    feeds: FeedServer,
) -> None:
    async with FakeTelegram() as telegram:
        config = ops_config(small_disk.path / "bot.db", feeds.url("/news"), telegram.url)
        headlines = HeadlinesBot(config, [TelegramAdapter(config.platforms["telegram"])])  # type: ignore[arg-type]
        await headlines.start()
        try:
            assert (await get(headlines, "/healthz"))[0] == 200
            small_disk.fill()
            status, body = await get(headlines, "/healthz")
            assert status == 503, body
            report = json.loads(body)
            assert report["failing"] == ["database"]
            assert "database or disk is full" in report["parts"]["database"]["detail"]
            small_disk.free()
            status, body = await get(headlines, "/healthz")
            assert status == 200, body
        finally:
            await headlines.stop()


async def test_a_token_is_asked_for_and_never_shown(
    tmp_path: Path, feeds: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "s3cret-http-token"
    async with FakeTelegram() as telegram:
        config = ops_config(tmp_path / "bot.db", feeds.url("/news"), telegram.url, token=secret)
        headlines = HeadlinesBot(config, [TelegramAdapter(config.platforms["telegram"])])  # type: ignore[arg-type]
        await headlines.start()
        try:
            assert (await get(headlines, "/metrics"))[0] == 401
            assert (await get(headlines, "/healthz", Authorization="Bearer wrong"))[0] == 401
            status, text = await get(headlines, "/metrics", Authorization=f"Bearer {secret}")
            assert status == 200 and "headlines_polls_total" in text
            status, body = await get(headlines, "/healthz", Authorization=f"Bearer {secret}")
            assert status == 200
        finally:
            await headlines.stop()
    assert secret not in caplog.text and TOKEN not in body and TOKEN not in text


async def test_listening_beyond_loopback_without_a_token_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(
        {
            "database": str(tmp_path / "bot.db"),
            "fetch": {"parse_workers": 0},
            "feeds": [{"name": "F", "url": "http://127.0.0.1:9/"}],
            "http": {"listen": "0.0.0.0:0"},
        },
        platforms=section_parsers(),
    )
    headlines = HeadlinesBot(config)
    await headlines.start()
    await headlines.stop()
    assert "listening on 0.0.0.0 without a token" in caplog.text
