"""Roles: which of the processes sharing a database does what.

Any number of processes may run on one PostgreSQL database (one on an SQLite file). They
split the work through leases in the database (bot.store.leases):

- Feeds: each poll is claimed (bot.ingest.poller), so every process polls, and each feed
  is polled once per interval however many run.
- A platform's role: the process holding the lease named after the platform
  ("telegram") connects to it, reads its updates (answers the commands) and sends
  everything owed to its chats. A bot token's limits (Telegram's 30 messages/s, one
  getUpdates reader; Discord's 50 requests/s) then hold with no counting shared between
  processes, and the outbox's pacing and crash-safety stay what they are for one. The
  lease is the claim on the platform's deliveries: no other process sends them.
- Shards: a platform whose updates arrive over shards (Discord's gateway) has one lease
  per shard ("discord shard 3"); processes share them out.
- "maintenance": the jobs that must run once: queueing digests, the operator's alerts,
  forgetting old headlines.

Each process beats every RENEW_EVERY seconds: it says it is alive, renews what it holds
and takes what nobody holds. A lease not renewed for LEASE_TTL seconds runs out: a
process that dies is replaced within LEASE_TTL + RENEW_EVERY seconds (plus the time to
connect), and one that stops gives its leases back at once. A process that cannot renew
(the database is away) stops using a role before its lease could have run out: two
processes never both hold one.
"""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections.abc import Iterable

from bot.store import DB_ERRORS, Storage

log = logging.getLogger(__name__)

LEASE_TTL = 10.0  # seconds a lease lasts unless renewed
RENEW_EVERY = 2.0  # seconds between beats
# A role is used for at most LEASE_TTL - SAFETY after the beat that renewed it began, so
# that a send it lets through reaches the platform before another process could take it.
SAFETY = 2.0
MAINTENANCE = "maintenance"


def shard_role(platform: str, shard: int) -> str:
    return f"{platform} shard {shard}"


class Roles:
    """The roles this process holds, kept by `beat()`."""

    def __init__(self, storage: Storage, process: str, *, ttl: float = LEASE_TTL) -> None:
        self.storage = storage
        self.process = process
        self.ttl = ttl
        self.held: frozenset[str] = frozenset()
        self._valid_until = 0.0  # time.monotonic() after which `held` may be stale

    def holds(self, role: str) -> bool:
        """Whether this process holds `role` and may act on it now."""
        return role in self.held and time.monotonic() < self._valid_until

    async def beat(self, wanted: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Renew what is held, take what is wanted and free; the roles gained and lost.
        When the database cannot be reached, the roles are kept while their leases last,
        then all are lost."""
        began = time.monotonic()
        try:
            held = frozenset(await self.storage.heartbeat(self.process, self.ttl, list(wanted)))
        except DB_ERRORS as error:
            if self.held and began >= self._valid_until:
                log.error(
                    "roles: cannot renew the leases (%s); giving up %s for another process to take",
                    error,
                    ", ".join(sorted(self.held)),
                )
                lost, self.held = self.held, frozenset()
                return frozenset(), lost
            return frozenset(), frozenset()
        self._valid_until = began + self.ttl - SAFETY
        gained, lost = held - self.held, self.held - held
        self.held = held
        if gained:
            log.info("roles: this process now holds %s", ", ".join(sorted(gained)))
        if lost:
            log.warning("roles: another process holds %s now", ", ".join(sorted(lost)))
        return gained, lost

    async def release(self) -> None:
        """Give every lease back (at a clean stop): the others take them at their next beat."""
        self.held = frozenset()
        self._valid_until = 0.0
        try:
            await self.storage.leave(self.process)
        except DB_ERRORS as error:
            log.warning("roles: could not give the leases back (%s); they run out", error)


def share_of(
    roles: list[str], held: frozenset[str], busy: frozenset[str], live: int, process: str
) -> list[str]:
    """Of interchangeable `roles` (a platform's shards), those to ask for: an equal share
    among the `live` processes, the ones held first (beyond the share, they are given
    back for a process with fewer to take), then free ones before those `busy` (held by
    other processes), each process starting its search at its own place so that they do
    not all ask for the same ones."""
    share = math.ceil(len(roles) / max(1, live))
    keep = [r for r in roles if r in held][:share]
    start = zlib.crc32(process.encode()) % max(1, len(roles))
    others = [r for r in roles[start:] + roles[:start] if r not in held]
    others.sort(key=lambda r: r in busy)  # stable: free ones first, each in its order
    return keep + others[: max(0, share - len(keep))]
