"""Processes sharing one database: leases with one holder, and feeds claimed by one
process each, on SQLite and on a PostgreSQL server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import FeedConfig
from bot.store import Storage
from bot.store.leases import new_process_id

FEEDS = [
    FeedConfig(name=f"feed{n:03}", url=f"https://example.org/{n}", interval=600) for n in range(60)
]


@pytest.fixture
async def pair(database: Path | str) -> AsyncIterator[tuple[Storage, Storage]]:
    """Two connections to one database, as two processes have."""
    first = await Storage.open(database)
    second = await Storage.open(database)
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_a_lease_has_one_holder_until_it_runs_out(pair: tuple[Storage, Storage]) -> None:
    first, second = pair
    a, b = new_process_id(), new_process_id()
    assert await first.heartbeat(a, 0.5, ["telegram", "maintenance"]) == {
        "telegram",
        "maintenance",
    }
    assert await second.heartbeat(b, 0.5, ["telegram", "discord"]) == {"discord"}
    # Renewed: still the first's, however often the second asks.
    assert await first.heartbeat(a, 0.5, ["telegram", "maintenance"]) == {
        "telegram",
        "maintenance",
    }
    assert await second.heartbeat(b, 0.5, ["telegram", "discord"]) == {"discord"}
    holders = {lease.name: lease.holder for lease in await second.leases()}
    assert holders == {"telegram": a, "maintenance": a, "discord": b}
    await asyncio.sleep(0.7)  # the first stops beating: its leases run out
    assert await second.heartbeat(b, 10, ["telegram", "discord"]) == {"telegram", "discord"}
    # The first comes back: what it held is gone, and stays the second's.
    assert await first.heartbeat(a, 10, ["telegram", "maintenance"]) == {"maintenance"}
    # What a process no longer wants it gives back, for another to take at once.
    assert await first.heartbeat(a, 10, []) == set()
    assert await second.heartbeat(b, 10, ["maintenance"]) == {"maintenance"}


async def test_leases_given_back_are_taken_at_once(pair: tuple[Storage, Storage]) -> None:
    first, second = pair
    a, b = new_process_id(), new_process_id()
    await first.heartbeat(a, 60, ["telegram"])
    await first.sync_feeds(FEEDS[:5])
    assert len(await first.claim_due_feeds(a, 60, now=1e12, limit=5)) == 5
    assert {p.id for p in await second.processes()} == {a}
    await first.leave(a)
    assert await second.heartbeat(b, 60, ["telegram"]) == {"telegram"}
    assert {p.id for p in await second.processes()} == {b}
    # The polls it had claimed are free again too.
    assert len(await second.claim_due_feeds(b, 60, now=1e12, limit=10)) == 5


async def test_every_due_feed_is_claimed_by_exactly_one_of_many_processes(
    database: Path | str,
) -> None:
    stores = [await Storage.open(database) for _ in range(3)]
    try:
        await stores[0].sync_feeds(FEEDS)
        names = [new_process_id() for _ in stores]
        rounds = [
            await asyncio.gather(
                *(
                    s.claim_due_feeds(n, 60, now=1e12, limit=7)
                    for s, n in zip(stores, names, strict=True)
                )
            )
            for _ in range(5)
        ]
        claimed = [feed for turn in rounds for batch in turn for feed in batch]
        assert sorted(claimed) == sorted(f.name for f in FEEDS[: len(claimed)])
        assert len(claimed) == len(set(claimed)) == len(FEEDS)  # 105 asked for, 60 there
        # Claimed, a feed is nobody else's, due or forced.
        owner = {
            feed: n
            for turn in rounds
            for n, batch in zip(names, turn, strict=True)
            for feed in batch
        }
        feed = FEEDS[0].name
        other = next(n for n in names if n != owner[feed])
        assert not await stores[0].claim_feed(feed, other, 60)
        assert await stores[0].claim_feed(feed, owner[feed], 60)  # its own: renewed
        # A stored poll ends the claim; due again, anyone may claim it.
        await stores[1].update_feed(feed, poller="", poll_lease=0.0, next_poll_at=100.0)
        assert not await stores[2].claim_feed(feed, other, 60, due_by=50.0)  # not due yet
        assert await stores[2].claim_feed(feed, other, 60, due_by=100.0)
        assert (await stores[0].feed_state(feed)).poller == other
    finally:
        for store in stores:
            await store.close()


async def test_a_claim_left_by_a_dead_process_runs_out(pair: tuple[Storage, Storage]) -> None:
    first, second = pair
    await first.sync_feeds(FEEDS[:2])
    a, b = new_process_id(), new_process_id()
    assert len(await first.claim_due_feeds(a, 0.3, now=1e12, limit=2)) == 2
    assert await second.claim_due_feeds(b, 60, now=1e12, limit=2) == []
    await asyncio.sleep(0.5)
    assert sorted(await second.claim_due_feeds(b, 60, now=1e12, limit=2)) == ["feed000", "feed001"]
