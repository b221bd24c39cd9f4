"""The outbox delivers every owed headline exactly once, whatever the platform answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.config import FeedConfig
from bot.models import ChatRef, Headline
from bot.outbox.sender import Outbox
from bot.ports import (
    ContentRejected,
    DestinationGone,
    DestinationMoved,
    RetryAfter,
    TemporaryFailure,
)
from bot.store import Storage
from testing.fake_adapter import FakeAdapter

T0 = datetime.now(UTC) - timedelta(hours=1)


async def owe(storage: Storage, count: int, *chats: str, platform: str = "fake") -> None:
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines("World", [])
    for chat in chats:
        await storage.subscribe(ChatRef(platform, chat))
    await storage.add_headlines(
        "World",
        [
            Headline(
                "World",
                f"e{n}",
                f"Story {n}",
                f"https://example.org/{n}",
                "",
                T0 + timedelta(minutes=n),
            )
            for n in range(count)
        ],
    )


async def statuses(storage: Storage) -> dict[str, list[str]]:
    return {
        d.chat.chat_id: [status for _, status, _ in await storage.deliveries_for(d)]
        for d in await storage.destinations()
    }


async def test_delivers_oldest_first_and_marks_sent(storage: Storage) -> None:
    await owe(storage, 3, "1", "2")
    fake = FakeAdapter()
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 6
    assert fake.titles("1") == ["Story 0", "Story 1", "Story 2"] == fake.titles("2")
    assert await statuses(storage) == {"1": ["sent"] * 3, "2": ["sent"] * 3}
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 0
    assert len(fake.sent) == 6


async def test_packed_messages_mark_every_headline_they_carry(storage: Storage) -> None:
    await owe(storage, 5, "1")
    fake = FakeAdapter(per_message=2)
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 5
    assert [batch for _, batch in fake.sent] == [
        ("Story 0", "Story 1"),
        ("Story 2", "Story 3"),
        ("Story 4",),
    ]


async def test_retry_after_is_waited_out_and_nothing_dropped(storage: Storage) -> None:
    await owe(storage, 2, "slow", "fast")
    fake = FakeAdapter()
    fake.fail_next(RetryAfter(0.2))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 4
    # The rate-limited chat held up nobody: the other chat's posts went out first.
    assert [chat for chat, _ in fake.sent][:2] == ["fast", "fast"]
    assert fake.titles("slow") == ["Story 0", "Story 1"]


async def test_gone_destination_is_deactivated_and_others_go_on(storage: Storage) -> None:
    await owe(storage, 2, "kicked", "fine")
    fake = FakeAdapter()
    fake.fail_next(DestinationGone("Forbidden: bot was kicked"))
    await Outbox(storage, {"fake": fake}).deliver_due()
    state = {d.chat.chat_id: (d.active, d.inactive_reason) for d in await storage.destinations()}
    assert state == {"kicked": (False, "Forbidden: bot was kicked"), "fine": (True, "")}
    assert await statuses(storage) == {"kicked": ["failed"] * 2, "fine": ["sent"] * 2}


async def test_rejected_content_fails_alone(storage: Storage) -> None:
    await owe(storage, 3, "1")
    fake = FakeAdapter()
    fake.fail_next(ContentRejected("can't parse entities"))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 2
    assert await statuses(storage) == {"1": ["failed", "sent", "sent"]}


async def test_temporary_failure_keeps_deliveries_pending_with_backoff(storage: Storage) -> None:
    await owe(storage, 2, "1")
    fake = FakeAdapter()
    fake.fail_next(TemporaryFailure("502 Bad Gateway"))
    outbox = Outbox(storage, {"fake": fake}, retry_base=60)
    assert await outbox.deliver_due() == 0
    assert await statuses(storage) == {"1": ["pending", "pending"]}
    [destination] = await storage.destinations()
    assert await storage.pending_destinations() == []  # not due again yet
    later = await storage.pending_deliveries(destination, now=time.time() + 3600)
    assert [d.attempts for d in later] == [1, 1]


async def test_a_chat_failing_for_days_is_retried_at_the_longest_wait(
    storage: Storage, tmp_path: Path
) -> None:
    """After 1,100 failed attempts the doubling no longer fits a float: the retry must
    still be postponed by retry_max, not end the drain with an OverflowError."""
    await owe(storage, 1, "1")
    async with storage._transaction():  # as days of failures leave it
        await storage._execute("UPDATE deliveries SET attempts = 1100")
    fake = FakeAdapter()
    fake.fail_next(TemporaryFailure("502 Bad Gateway"))
    before = time.time()
    assert await Outbox(storage, {"fake": fake}, retry_max=300).deliver_due() == 0
    [destination] = await storage.destinations()
    assert await storage.pending_deliveries(destination, now=before + 300 * 0.8 - 1) == []
    [later] = await storage.pending_deliveries(destination, now=time.time() + 300 * 1.2)
    assert later.attempts == 1101


async def test_network_errors_and_adapter_bugs_are_temporary(storage: Storage) -> None:
    await owe(storage, 1, "1")
    fake = FakeAdapter()
    fake.fail_next(ConnectionResetError("reset by peer"))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 0
    assert await statuses(storage) == {"1": ["pending"]}


async def test_moved_chat_gets_its_posts_at_the_new_id(storage: Storage) -> None:
    await owe(storage, 2, "-5")
    fake = FakeAdapter()
    fake.fail_next(DestinationMoved("-1005"))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 2
    assert fake.titles("-1005") == ["Story 0", "Story 1"]
    assert [d.chat.chat_id for d in await storage.destinations()] == ["-1005"]


async def test_a_chat_moved_onto_one_that_unsubscribed_gets_nothing(storage: Storage) -> None:
    await owe(storage, 2, "-5")
    await storage.subscribe(ChatRef("fake", "-1005"))
    await storage.unsubscribe(ChatRef("fake", "-1005"))
    fake = FakeAdapter()
    fake.fail_next(DestinationMoved("-1005"))
    assert await Outbox(storage, {"fake": fake}).deliver_due() == 0
    assert fake.sent == []
    assert await storage.pending_destinations() == []


async def test_platform_not_configured_leaves_deliveries_pending(storage: Storage) -> None:
    await owe(storage, 1, "1")
    assert await Outbox(storage, {}).deliver_due() == 0
    assert await statuses(storage) == {"1": ["pending"]}


async def test_stop_leaves_unsent_pending(storage: Storage) -> None:
    await owe(storage, 3, "1")
    fake = FakeAdapter()
    fake.fail_next(RetryAfter(30))
    outbox = Outbox(storage, {"fake": fake})
    await outbox._start_drains()
    await outbox.stop(grace=1)
    assert fake.sent == []
    assert await statuses(storage) == {"1": ["pending"] * 3}
