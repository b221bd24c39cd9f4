"""Processes and their leases: who runs, who holds which role, and until when.

Several bot processes can share a PostgreSQL database (one runs on an SQLite file). Each
says it is alive in `processes`, and holds roles (a platform's sending and updates, a
shard, the maintenance jobs) as rows of `leases` that it renews; a lease not renewed runs
out, and any process may then take it. Times are the database's clock (`now_sql`), so
hosts whose clocks disagree still agree on when a lease ran out.
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass

from bot.store.db import Database

# A process not seen for this long is gone; its row goes after FORGET_PROCESSES_AFTER.
FORGET_PROCESSES_AFTER = 3600.0


def new_process_id() -> str:
    """This process's name in the database: its host, pid and a few random characters
    (a pid is used again after a restart, and on other hosts)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    since: float
    expires: float


@dataclass(frozen=True, slots=True)
class Process:
    id: str
    host: str
    pid: int
    started: float
    last_seen: float


class LeaseStore(Database):
    async def database_now(self) -> float:
        """The database's clock, in seconds since the epoch."""
        row = await self._fetchone(f"SELECT {self.backend.now_sql}", ())
        return float(row[0])

    async def heartbeat(self, process: str, ttl: float, wanted: list[str]) -> set[str]:
        """Say `process` is alive, renew the leases of `wanted` it holds by `ttl` seconds,
        give back those it holds and no longer wants, and take those of `wanted` that
        nobody holds (or whose holder let them run out), in one transaction; return the
        names of the leases it holds now."""
        now = self.backend.now_sql
        host, pid = _host_and_pid(process)
        async with self._transaction():
            await self._execute(
                f"""INSERT INTO processes (id, host, pid, started, last_seen)
                VALUES (?, ?, ?, {now}, {now})
                ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen""",
                (process, host, pid),
            )
            await self._execute(
                f"DELETE FROM processes WHERE last_seen < {now} - ?", (FORGET_PROCESSES_AFTER,)
            )
            held = {
                r[0]
                for r in await self._fetchall(
                    f"""UPDATE leases SET expires = {now} + ?
                    WHERE holder = ? AND expires >= {now} RETURNING name""",
                    (ttl, process),
                )
            }
            for name in held - set(wanted):  # no longer wanted: given back at once
                await self._execute(
                    "DELETE FROM leases WHERE name = ? AND holder = ?", (name, process)
                )
            held &= set(wanted)
            for name in wanted:
                if name in held:
                    continue
                # Taken if free or run out; a row another process holds is left as it is
                # (on PostgreSQL the second of two takers waits, then sees it held).
                taken = await self._execute(
                    f"""INSERT INTO leases (name, holder, since, expires)
                    VALUES (?, ?, {now}, {now} + ?)
                    ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,
                        since = excluded.since, expires = excluded.expires
                    WHERE leases.expires < excluded.since""",
                    (name, process, ttl),
                )
                if taken:
                    held.add(name)
        return held

    async def leave(self, process: str) -> None:
        """Say `process` stopped: its leases and feed claims are given back at once, so
        that other processes take them at their next beat rather than when they run out."""
        async with self._transaction():
            await self._execute("DELETE FROM leases WHERE holder = ?", (process,))
            await self._execute("DELETE FROM processes WHERE id = ?", (process,))
            await self._execute(
                "UPDATE feeds SET poller = '', poll_lease = 0 WHERE poller = ?", (process,)
            )

    async def forget_processes(self) -> None:
        """Forget every process, lease and feed claim: for a bot that knows it is the only
        one on this database (an SQLite file it holds the lock of)."""
        async with self._transaction():
            await self._execute("DELETE FROM leases", ())
            await self._execute("DELETE FROM processes", ())
            await self._execute(
                "UPDATE feeds SET poller = '', poll_lease = 0 WHERE poller != ''", ()
            )

    async def leases(self) -> list[Lease]:
        """The leases held now (not run out)."""
        found = await self._fetchall(
            f"""SELECT name, holder, since, expires FROM leases
            WHERE expires >= {self.backend.now_sql} ORDER BY name""",
            (),
        )
        return [Lease(*r) for r in found]

    async def processes(self) -> list[Process]:
        """The processes seen in the last hour, most recently seen first."""
        found = await self._fetchall(
            "SELECT id, host, pid, started, last_seen FROM processes ORDER BY last_seen DESC",
            (),
        )
        return [Process(*r) for r in found]

    async def live_processes(self, within: float) -> int:
        """How many processes were seen in the last `within` seconds."""
        row = await self._fetchone(
            f"SELECT count(*) FROM processes WHERE last_seen >= {self.backend.now_sql} - ?",
            (within,),
        )
        return int(row[0])


def _host_and_pid(process: str) -> tuple[str, int]:
    """The host and pid in a name made by `new_process_id`."""
    host, pid, _ = process.rsplit(":", 2)
    return host, int(pid)
