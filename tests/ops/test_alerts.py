"""Alerts in the operator's chat, end to end with the real python-telegram-bot and
discord.py against the fakes: each kind arrives once, with its "resolved" message, and
never repeats within its incident; the operator's commands work there and nowhere else."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import adapters.discord.adapter
import adapters.discord.http
from adapters import section_parsers
from adapters.discord.adapter import DiscordAdapter
from adapters.telegram.adapter import TelegramAdapter
from bot.app import HeadlinesBot
from bot.config import parse_config
from bot.ports import Adapter, PlatformHealth
from testing.fake_adapter import FakeAdapter
from testing.fake_discord import CHANNEL_IDS, FakeDiscord
from testing.fake_discord import TOKEN as DISCORD_TOKEN
from testing.fake_telegram import TOKEN, FakeTelegram
from testing.feedserver import FeedServer, make_rss, sample_entries

OPS = -100999  # the operator's alert chat
CHANNEL = "-1001"
LATER = 3600.0  # the checks look this far ahead: past feed_failing_after and backlog_after


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        yield server


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def bot_config(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram, **extra: Any
) -> Any:
    return parse_config(
        {
            "database": str(database),
            "fetch": {"parse_workers": 0, "max_failures": 2},
            "feeds": [{"name": "News", "url": feeds.url("/news")}],
            "telegram": {
                "token": TOKEN,
                "api_base_url": telegram.url,
                "destinations": [{"chat": CHANNEL}],
            },
            "alerts": {"telegram": OPS, "feed_failing_after": 600, "backlog_after": 600},
            **extra,
        },
        platforms=section_parsers(),
    )


async def running(config: Any, *platforms: Adapter) -> HeadlinesBot:
    headlines = HeadlinesBot(config, platforms or [TelegramAdapter(config.platforms["telegram"])])
    await headlines.open()
    await headlines.connect()
    return headlines


async def check(headlines: HeadlinesBot, ahead: float = LATER) -> None:
    """An alert check as if `ahead` seconds later, then the outbox sends what is due."""
    await headlines.alerts.check(time.time() + ahead)
    await headlines.outbox.deliver_due()


def alerts(telegram: FakeTelegram) -> list[str]:
    return [m.text for m in telegram.messages(OPS)]


async def operator(telegram: FakeTelegram, text: str, chat: int = OPS, language: str = "en") -> str:
    """`text` sent in `chat` by its member; the bot's answer."""
    before = len(telegram.messages(chat))
    await telegram.group_command(
        text, chat_id=chat, user_id=1001, title="Ops", language_code=language
    )
    return (await telegram.wait_messages(chat, before + 1))[before].text


async def test_a_failing_then_disabled_feed_alerts_once_each_and_says_when_it_is_over(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    headlines = await running(bot_config(database, feeds, telegram))
    try:
        assert (await headlines.poll_feed("News", force=True)).outcome == "first"
        feeds.set_status("/news", 500)
        assert (await headlines.poll_feed("News", force=True)).outcome == "failed"
        await check(headlines, ahead=0)
        assert alerts(telegram) == []  # failing, but not for long: no alert yet
        await check(headlines)
        await check(headlines)  # still failing: said once
        assert len(alerts(telegram)) == 1
        assert alerts(telegram)[0].startswith('⚠️ Feed "News" has been failing for more than')
        assert "500" in alerts(telegram)[0]

        assert (await headlines.poll_feed("News", force=True)).outcome == "disabled"
        await check(headlines)
        await check(headlines)
        assert len(alerts(telegram)) == 2
        assert alerts(telegram)[1].startswith('⛔ Feed "News" is disabled: disabled after 2')
        assert "/enable News" in alerts(telegram)[1]

        answer = await operator(telegram, "/enable News")
        assert answer == "Feed 'News' is enabled: polled again at its next turn."
        await check(headlines)
        assert alerts(telegram)[3] == '✅ Feed "News" is polled again.'
        assert len(alerts(telegram)) == 4  # still failing until a poll succeeds

        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        assert (await headlines.poll_feed("News", force=True)).outcome == "new"
        await check(headlines)
        await check(headlines)
        assert alerts(telegram)[4:] == ['✅ Feed "News" works again.']
    finally:
        await headlines.stop()


async def test_a_backlog_and_a_chat_that_blocked_the_bot_alert_once_and_resolve(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    headlines = await running(bot_config(database, feeds, telegram, backfill=2))
    try:
        await headlines.poll_feed("News", force=True)  # 2 deliveries owed to CHANNEL
        await headlines.alerts.check(time.time() + LATER)  # they are an hour late
        telegram.kick(CHANNEL, "Forbidden: bot was blocked by the user")
        await headlines.outbox.deliver_due()  # the chat is deactivated: no backlog now
        await check(headlines)
        await check(headlines)
        assert alerts(telegram) == [
            "⏳ Deliveries to telegram are behind by more than 10min (2 pending).",
            "✅ Deliveries to telegram have caught up.",  # what ended, then what began
            "⛔ telegram:-1001 receives nothing any more: telegram: Forbidden: bot was blocked "
            "by the user. /enable telegram:-1001 here (or `enable telegram:-1001`, or "
            "/subscribe there) resumes it.",
        ]
        answer = await operator(telegram, "/enable telegram:-1001")
        assert answer == "telegram:-1001 receives new headlines again."
        await check(headlines)
        await check(headlines)
        assert alerts(telegram)[4:] == ["✅ telegram:-1001 receives headlines again."]
    finally:
        await headlines.stop()


async def test_a_401_from_discord_pauses_it_with_an_alert_until_it_is_over(
    database: Path | str,
    feeds: FeedServer,
    telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pause = 2.0  # Discord's 10 minutes after a 401, shortened
    monkeypatch.setattr(adapters.discord.http, "UNAUTHORIZED_PAUSE", pause)
    monkeypatch.setattr(adapters.discord.adapter, "UNAUTHORIZED_PAUSE", pause)
    channel = CHANNEL_IDS[0]
    async with FakeDiscord() as discord_fake:
        config = bot_config(
            database,
            feeds,
            telegram,
            backfill=1,
            discord={
                "token": DISCORD_TOKEN,
                "api_base_url": discord_fake.url,
                "destinations": [{"channel": channel}],
            },
        )
        assert config.platforms["discord"] is not None and config.platforms["telegram"] is not None
        discord_adapter = DiscordAdapter(config.platforms["discord"], guild_ready_timeout=0.05)
        headlines = await running(
            config, TelegramAdapter(config.platforms["telegram"]), discord_adapter
        )
        try:
            await headlines.poll_feed("News", force=True)
            discord_fake.fail(channel, 401, 0, "401: Unauthorized")  # the token was reset
            # The outbox as the bot runs it: the alert goes out while Discord's sends wait.
            sending = asyncio.create_task(headlines.outbox.run())
            for _ in range(100):
                if discord_adapter.health().paused:
                    break
                await asyncio.sleep(0.05)
            for _ in range(2):
                await headlines.alerts.check()
                headlines.outbox.wake()
                await telegram.wait_messages(OPS, 1)
            await discord_fake.wait_for_messages(1)  # the pause is over: it posted
            assert discord_adapter.health().paused == ""
            for _ in range(2):
                await headlines.alerts.check()
                headlines.outbox.wake()
                await telegram.wait_messages(OPS, 2)
            await headlines.outbox.stop()
            await sending
            assert await headlines.storage.pending_notices() == []
            assert len(alerts(telegram)) == 2, alerts(telegram)
            assert alerts(telegram)[0].startswith(
                "⛔ discord cannot post: paused: Discord no longer accepts the bot token (401)"
            )
            assert alerts(telegram)[1] == "✅ discord posts again."
            assert len(discord_fake.posted_to(channel)) == 1
        finally:
            await headlines.stop()


async def test_a_feed_that_replaces_its_ids_is_held_until_released_from_the_alert_chat(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    start = datetime.now(UTC)
    listed = sample_entries(6, start=start)
    feeds.set_feed("/news", make_rss(listed))
    headlines = await running(bot_config(database, feeds, telegram))
    try:
        await headlines.poll_feed("News", force=True)
        # A new CMS: every guid new, the same links, the titles with the site's name.
        moved = [
            dataclasses.replace(e, guid=f"cms2-{e.guid}", title=f"{e.title} | News") for e in listed
        ]
        feeds.set_feed("/news", make_rss(moved))
        result = await headlines.poll_feed("News", force=True)
        assert (result.new, result.deliveries) == (6, 0)
        await check(headlines, ahead=0)
        await check(headlines, ahead=0)
        assert telegram.messages(CHANNEL) == []  # held, not posted
        assert len(alerts(telegram)) == 1
        assert "the publisher changed its ids. 6 new entries are held" in alerts(telegram)[0]

        refused = await operator(telegram, "/release News", chat=int(CHANNEL))
        assert refused == "/release works only in the operator's alert chat."
        assert await operator(telegram, "/release News") == (
            "6 held entries released: they go out as a poll's would."
        )
        await check(headlines, ahead=0)
        await check(headlines, ahead=0)
        assert alerts(telegram)[2:] == ['✅ Feed "News": the held entries were released.']
        assert len(telegram.messages(CHANNEL)) >= 1  # posted now (packed into messages)
        assert await operator(telegram, "/release News") == "Feed 'News' holds nothing."
    finally:
        await headlines.stop()


async def test_status_in_the_alert_chat_and_help_there_lists_the_operators_commands(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    headlines = await running(bot_config(database, feeds, telegram, language="es"))
    try:
        await headlines.poll_feed("News", force=True)
        status = await operator(telegram, "/status", language="es")
        assert "Base de datos: se puede escribir" in status
        assert "Fuentes: 1 (0 con fallos, 0 desactivadas)" in status
        assert "Ninguna alerta abierta." in status
        assert "/release" in await operator(telegram, "/help")
        elsewhere = await operator(telegram, "/help", chat=-100555)
        assert "/release" not in elsewhere and "/latest" in elsewhere
        assert await operator(telegram, "/status", chat=-100555, language="es") == (
            "/status solo funciona en el chat de alertas del operador."
        )
    finally:
        await headlines.stop()


async def test_a_restart_neither_repeats_an_alert_nor_loses_its_message(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    config = bot_config(database, feeds, telegram)
    headlines = await running(config)
    try:
        await headlines.poll_feed("News", force=True)
        feeds.set_status("/news", 500)
        await headlines.poll_feed("News", force=True)
        opened, _ = await headlines.alerts.check(time.time() + LATER)
        assert len(opened) == 1
    finally:
        await headlines.stop()  # before the outbox sent its message
    assert alerts(telegram) == []

    headlines = await running(config)
    try:
        await check(headlines)
        await check(headlines)
        assert len(alerts(telegram)) == 1
        assert alerts(telegram)[0].startswith('⚠️ Feed "News" has been failing')
    finally:
        await headlines.stop()


async def test_a_platform_that_cannot_start_or_lost_its_connection_is_an_alert(
    database: Path | str, feeds: FeedServer, telegram: FakeTelegram
) -> None:
    config = bot_config(database, feeds, telegram)
    assert config.platforms["telegram"] is not None
    down = FakeAdapter(platform="discord", start_failures=[OSError("network is down")])
    headlines = await running(config, TelegramAdapter(config.platforms["telegram"]), down)
    try:
        health = headlines.platform_health(down)
        assert not health.connected and health.detail == "could not start: network is down"
        await check(headlines)  # later than the reconnect window
        assert alerts(telegram) == [
            "⛔ discord cannot post: disconnected: could not start: network is down. "
            "Deliveries wait in the outbox."
        ]
        report = await headlines.health()  # now, not later: still within its window
        assert report["parts"]["platform:discord"] == {
            "ok": True,
            "detail": "reconnecting (could not start: network is down)",
        }
    finally:
        await headlines.stop()

    lost = FakeAdapter(platform="discord")
    headlines = await running(config, TelegramAdapter(config.platforms["telegram"]), lost)
    try:
        await check(headlines)
        assert alerts(telegram)[1:] == ["✅ discord posts again."]
        lost.state = PlatformHealth(False, since=time.time(), detail="gateway closed")
        await check(headlines, ahead=0)  # within its reconnect window: no alert yet
        await check(headlines)
        await check(headlines)
        assert alerts(telegram)[2:] == [
            "⛔ discord cannot post: disconnected: gateway closed. Deliveries wait in the outbox."
        ]
    finally:
        await headlines.stop()
