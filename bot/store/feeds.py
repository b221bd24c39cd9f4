"""The feeds table: which feeds the config names, and each one's polling state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import FeedConfig
from bot.store.db import Database


@dataclass(frozen=True, slots=True)
class FeedState:
    name: str
    url: str
    etag: str = ""
    last_modified: str = ""
    initialized: bool = False
    last_poll_at: float = 0.0
    last_success_at: float = 0.0
    last_status: str = ""
    last_error: str = ""
    failures: int = 0
    next_poll_at: float = 0.0
    min_interval: int = 0
    disabled_reason: str = ""
    headlines: int = 0
    failing_since: float = 0.0  # when the current run of failures began; 0: it works
    poller: str = ""  # the process polling it now (bot.store.leases), until `poll_lease`
    poll_lease: float = 0.0


class FeedStore(Database):
    async def sync_feeds(self, feeds: Sequence[FeedConfig]) -> None:
        """Make the feeds table know every configured feed. A feed whose configured URL
        changed starts again from that URL (a stored redirect target no longer applies)."""
        async with self._transaction():
            for feed in feeds:
                await self._execute(
                    """INSERT INTO feeds (name, config_url, url) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        url = CASE WHEN feeds.config_url = excluded.config_url
                                   THEN feeds.url ELSE excluded.url END,
                        etag = CASE WHEN feeds.config_url = excluded.config_url
                                    THEN feeds.etag ELSE '' END,
                        last_modified = CASE WHEN feeds.config_url = excluded.config_url
                                             THEN feeds.last_modified ELSE '' END,
                        disabled_reason = CASE WHEN feeds.config_url = excluded.config_url
                                               THEN feeds.disabled_reason ELSE '' END,
                        config_url = excluded.config_url""",
                    (feed.name, feed.url, feed.url),
                )

    async def feed_state(self, name: str) -> FeedState:
        states = await self._feed_states("WHERE f.name = ?", (name,))
        if not states:
            raise KeyError(name)
        return states[0]

    async def feed_states(self) -> list[FeedState]:
        return await self._feed_states("", ())

    async def _feed_states(self, where: str, args: tuple[Any, ...]) -> list[FeedState]:
        rows = await self._fetchall(
            f"""SELECT f.name, f.url, f.etag, f.last_modified, f.initialized, f.last_poll_at,
                f.last_success_at, f.last_status, f.last_error, f.failures, f.next_poll_at,
                f.min_interval, f.disabled_reason,
                f.headlines, f.failing_since, f.poller, f.poll_lease
            FROM feeds f {where} ORDER BY f.name""",
            args,
        )
        return [
            FeedState(
                name=r[0],
                url=r[1],
                etag=r[2],
                last_modified=r[3],
                initialized=bool(r[4]),
                last_poll_at=r[5],
                last_success_at=r[6],
                last_status=r[7],
                last_error=r[8],
                failures=r[9],
                next_poll_at=r[10],
                min_interval=r[11],
                disabled_reason=r[12],
                headlines=r[13],
                failing_since=r[14],
                poller=r[15],
                poll_lease=r[16],
            )
            for r in rows
        ]

    async def update_feed(self, name: str, **fields: Any) -> None:
        """Set columns of a feed's state, named as in `FeedState`."""
        allowed = set(FeedState.__slots__) - {"name", "headlines", "initialized"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        assignments = ", ".join(f"{key} = ?" for key in fields)
        async with self._transaction():
            await self._execute(
                f"UPDATE feeds SET {assignments} WHERE name = ?", (*fields.values(), name)
            )

    async def claim_due_feeds(self, process: str, ttl: float, now: float, limit: int) -> list[str]:
        """Claim for `process`, for `ttl` seconds, up to `limit` feeds due by `now` that no
        process polls, longest due first; their names. On PostgreSQL, rows another
        process is claiming at the same moment are skipped rather than waited for."""
        clock = self.backend.now_sql
        async with self._transaction():
            found = await self._fetchall(
                f"""UPDATE feeds SET poller = ?, poll_lease = {clock} + ?
                WHERE id IN (SELECT id FROM feeds
                    WHERE next_poll_at <= ? AND disabled_reason = '' AND poll_lease < {clock}
                    ORDER BY next_poll_at LIMIT ?{self.backend.skip_locked})
                RETURNING name""",
                (process, ttl, now, max(0, limit)),
            )
        return [r[0] for r in found]

    async def claim_feed(
        self, name: str, process: str, ttl: float, due_by: float | None = None
    ) -> bool:
        """Make `process` the one polling `name` for up to `ttl` seconds, if no other
        process is (and, with `due_by`, if it is due by then): whether it did. Storing the
        poll's outcome (`update_feed` with `poll_lease=0`) ends the claim; a process that
        dies mid-poll leaves it to run out."""
        now = self.backend.now_sql
        due = "" if due_by is None else " AND next_poll_at <= ?"
        async with self._transaction():
            claimed = await self._execute(
                f"""UPDATE feeds SET poller = ?, poll_lease = {now} + ?
                WHERE name = ? AND (poll_lease < {now} OR poller = ?){due}""",
                (process, ttl, name, process, *(() if due_by is None else (due_by,))),
            )
        return claimed > 0

    async def enable_feed(self, name: str) -> bool:
        """Poll `name` again at once: clears its disabled reason, failures and backoff (not
        when its failures began: it is failing until a poll succeeds). False if there is no
        such feed."""
        async with self._transaction():
            changed = await self._execute(
                """UPDATE feeds SET disabled_reason = '', failures = 0, next_poll_at = 0
                WHERE name = ?""",
                (name,),
            )
        return changed > 0

    # -- for add_headlines, in its transaction ----------------------------------------

    async def _feed_to_fill(self, name: str) -> tuple[int, bool]:
        """The feed's id and whether its first poll was stored; KeyError if unknown. The
        feed's row is locked until the transaction ends: another process storing a poll
        of the same feed waits, then finds what this one stored (SQLite's BEGIN IMMEDIATE
        keeps all writers apart already)."""
        row = await self._fetchone(
            f"SELECT id, initialized FROM feeds WHERE name = ?{self._for_update()}", (name,)
        )
        if row is None:
            raise KeyError(name)
        return row[0], bool(row[1])

    async def _initialized(self, feed_id: int) -> None:
        await self._execute("UPDATE feeds SET initialized = 1 WHERE id = ?", (feed_id,))
