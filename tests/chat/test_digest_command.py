"""/digest as a user sends it, through a fake adapter into the real core, with the clock
given."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.chat.commands import Commands
from bot.models import ChatRef
from bot.store import Storage
from testing.fake_adapter import FakeAdapter

NOW = datetime(2025, 12, 1, 16, tzinfo=UTC).timestamp()  # a Monday; 17:00 in Madrid


@pytest.fixture
async def chat(storage: Storage) -> AsyncIterator[FakeAdapter]:
    adapter = FakeAdapter()
    await adapter.start(Commands(storage, ("World",), clock=lambda: NOW).handle)
    yield adapter


async def test_a_chat_sets_shows_and_turns_off_its_digest(
    chat: FakeAdapter, storage: Storage
) -> None:
    await chat.command("/subscribe")
    reply = await chat.command("/digest")
    assert "receives each headline as it comes" in reply.text and reply.private
    reply = await chat.command("/digest daily 08:00")
    assert reply.error and "no time zone yet" in reply.text
    assert "/digest daily 08:00 Europe/Madrid" in reply.text

    reply = await chat.command("/digest daily 08:00 europe/madrid")
    assert not reply.error and reply.private
    assert "every day at 08:00 (Europe/Madrid)" in reply.text
    assert "Next: 2025-12-02 08:00 CET" in reply.text
    destination = await storage.destination(ChatRef("fake", "1"))
    assert destination is not None
    assert (destination.digest, destination.timezone) == (
        "daily 08:00 Europe/Madrid",
        "Europe/Madrid",
    )

    # The saved zone serves the next time; Spanish words too.
    reply = await chat.command("/digest semanal lun 07:30", lang="es")
    assert "cada lunes a las 07:30 (Europe/Madrid)" in reply.text
    assert "Próximo: 2025-12-08 07:30 CET" in reply.text
    reply = await chat.command("/digest")
    assert "every Monday at 07:30 (Europe/Madrid)" in reply.text

    reply = await chat.command("/digest off")
    assert "each headline as it comes again" in reply.text
    destination = await storage.destination(ChatRef("fake", "1"))
    assert destination is not None and destination.digest == ""


async def test_mistakes_get_a_clear_answer_in_the_users_language(chat: FakeAdapter) -> None:
    reply = await chat.command("/digest daily 08:00 UTC", lang="es")
    assert reply.error and "no está suscrito" in reply.text
    await chat.command("/subscribe")
    reply = await chat.command("/digest daily 25:00 UTC")
    assert reply.error and "'25:00' is not a time of day" in reply.text
    reply = await chat.command("/digest diario 08:00 Europe/Madird", lang="es")
    assert reply.error and "¿Quisiste decir Europe/Madrid?" in reply.text
    reply = await chat.command("/digest weekly 08:00 UTC")
    assert reply.error and "Give a day" in reply.text


async def test_only_administrators_change_a_groups_digest(chat: FakeAdapter) -> None:
    await chat.command("/subscribe", chat="-5")
    reply = await chat.command("/digest hourly", chat="-5", admin=False)
    assert reply.error and "only administrators" in reply.text
    reply = await chat.command("/digest hourly", chat="-5")
    assert not reply.error and "every hour, on the hour (UTC)" in reply.text
