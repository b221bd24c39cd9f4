"""Paid broadcasts (`telegram.allow_paid_broadcast`): the real python-telegram-bot and the
real outbox against the fake Bot API enforcing Telegram's limits at their true scale (30
messages/s over all chats, 1,000/s for paid sends), reading what it recorded: which
requests carried the flag, when each message arrived, the Stars spent."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.config import TelegramConfig
from bot.chat.commands import Commands
from bot.config import DestinationConfig
from bot.models import ChatRef
from bot.outbox.sender import Outbox
from bot.store import Storage
from testing.fake_telegram import TOKEN, FakeLimits, FakeTelegram
from tests.adapters.test_telegram import QUICK, headline, seed

FREE = 30  # Telegram's free messages a second over all chats, which FakeLimits() enforces
ADAPTER_LOG = "adapters.telegram.adapter"


@pytest.fixture
async def sqlite(tmp_path: Path) -> AsyncIterator[Storage]:
    # One backend: these tests are about sending, and each takes a second or more.
    store = await Storage.open(tmp_path / "bot.db")
    try:
        yield store
    finally:
        await store.close()


async def fan_out(
    storage: Storage, fake: FakeTelegram, chats: int, **config: object
) -> TelegramAdapter:
    """One headline to `chats` subscribed private chats through the real outbox, with
    Telegram's own limits on the adapter's side; the adapter, stopped."""
    for i in range(chats):
        await storage.subscribe(ChatRef("telegram", str(100_000 + i), "private"))
    await seed(storage, headline("Paid or not"))
    adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url, **config))
    await adapter.start(Commands(storage).handle)
    try:
        assert await Outbox(storage, {"telegram": adapter}).deliver_due() == chats
    finally:
        await adapter.stop()
    # Every chat shown the headline exactly once: nothing lost, nothing repeated.
    assert Counter(m.chat_id for m in fake.sent) == {str(100_000 + i): 1 for i in range(chats)}
    return adapter


def flagged(fake: FakeTelegram) -> list[object]:
    return [params.get("allow_paid_broadcast") for params in fake.called("sendMessage")]


async def test_paid_broadcast_goes_past_30_a_second_with_no_429s(
    sqlite: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeTelegram(limits=FakeLimits()) as fake:
        await fan_out(sqlite, fake, 200, allow_paid_broadcast=True)
    assert fake.too_many == 0 and fake.rejected == []
    assert flagged(fake) == [True] * 200
    busiest = fake.busiest_window(1.0)
    assert busiest > FREE  # Telegram's free rate would have answered 429 past 30
    # Every message in that second after the first 30 cost 0.1 Star.
    assert fake.stars_spent >= (busiest - FREE) / 10
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "1000 messages/s" in warning.getMessage() and "0.1 Star" in warning.getMessage()
    assert TOKEN not in caplog.text


async def test_without_paid_broadcast_nothing_carries_it_and_no_second_passes_30(
    sqlite: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with FakeTelegram(limits=FakeLimits()) as fake:
        await fan_out(sqlite, fake, 45)
    assert fake.too_many == 0 and fake.rejected == []
    assert flagged(fake) == [None] * 45  # the parameter is not sent at all
    assert fake.busiest_window(1.0) <= FREE
    assert fake.stars_spent == 0
    assert "paid" not in caplog.text


async def test_stars_running_out_sends_on_unpaid_at_the_free_rate_nothing_lost(
    sqlite: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeTelegram(limits=FakeLimits()) as fake:
        fake.set_stars_balance(2)  # 20 messages over the free 30/s
        adapter = await fan_out(sqlite, fake, 100, allow_paid_broadcast=True)
    assert fake.stars_spent == 2
    refused = [(code, said) for _, code, said in fake.rejected]
    assert refused and set(refused) == {(400, "Bad Request: BALANCE_TOO_LOW")}
    assert fake.too_many == 0  # the unpaid sends kept to the free 30/s
    paid = [m for m in fake.sent if m.params.get("allow_paid_broadcast") is True]
    unpaid = [m for m in fake.sent if "allow_paid_broadcast" not in m.params]
    assert len(paid) >= FREE + 20 and len(paid) + len(unpaid) == 100 and unpaid
    # Each refused paid send went again unpaid; none after the fallback was paid.
    assert flagged(fake).count(None) == len(unpaid)
    assert not adapter.paid_broadcast and adapter.pacer.total.limit == FREE
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.name == ADAPTER_LOG and "Stars balance is too low" in error.getMessage()


async def test_every_kind_of_send_carries_the_flag(fake: FakeTelegram, sqlite: Storage) -> None:
    # A picture by sendPhoto into a channel, a text post, and a command's answer.
    config = TelegramConfig(
        token=TOKEN, api_base_url=fake.url, images="photo", allow_paid_broadcast=True
    )
    adapter = TelegramAdapter(config, limits=QUICK)
    await adapter.start(Commands(sqlite).handle)
    try:
        await sqlite.sync_destinations("telegram", [DestinationConfig("-1001234")])
        picture = "https://news.example/pics/a.jpg"
        await seed(sqlite, headline("With a picture", image=picture))
        assert await Outbox(sqlite, {"telegram": adapter}).deliver_due() == 1
        await fake.private_command("/help")
        await fake.wait_messages("1001")
    finally:
        await adapter.stop()
    [photo] = fake.called("sendPhoto")
    answers = fake.called("sendMessage")
    assert photo["photo"] == picture and answers
    assert [p.get("allow_paid_broadcast") for p in [photo, *answers]] == [True] * (1 + len(answers))


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server
