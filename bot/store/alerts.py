"""The operator's alerts and their messages: one row per incident, open until resolved,
and an outbox of plain-text notices to the operator's chats, written in the transaction
that opens or resolves the alert, so that none is lost and none is sent twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.store.db import Database

PENDING, SENT, FAILED = "pending", "sent", "failed"

AlertKey = tuple[str, str]  # (kind, subject)


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    subject: str
    detail: str
    opened: float
    resolved: float = 0.0


@dataclass(frozen=True, slots=True)
class Notice:
    """A message to an operator's chat."""

    id: int
    platform: str
    chat_id: str
    text: str
    due: float
    attempts: int = 0


class AlertStore(Database):
    async def open_alerts(self) -> list[Alert]:
        found = await self._fetchall(
            """SELECT id, kind, subject, detail, opened, resolved FROM alerts
            WHERE resolved = 0 ORDER BY id""",
            (),
        )
        return [Alert(*row) for row in found]

    async def sync_alerts(
        self,
        wanted: Mapping[AlertKey, str],
        text: Callable[[Alert], str],
        chats: Mapping[str, str],
        now: float | None = None,
    ) -> tuple[list[Alert], list[Alert]]:
        """Make the open alerts those of `wanted` (by kind and subject, with a detail):
        open the new ones and resolve those no longer wanted, each with a notice `text`
        to every chat of `chats` (platform -> chat id). An open alert keeps its detail.
        Returns (opened, resolved)."""
        written = time.time()
        now = written if now is None else now
        opened: list[Alert] = []
        resolved: list[Alert] = []
        async with self._transaction():
            current = {(a.kind, a.subject): a for a in await self.open_alerts()}
            for key, detail in wanted.items():
                if key in current:
                    continue
                row = await self._fetchone(
                    """INSERT INTO alerts (kind, subject, detail, opened) VALUES (?, ?, ?, ?)
                    RETURNING id""",
                    (*key, detail, now),
                )
                opened.append(Alert(row[0], *key, detail, now))
            for key, alert in current.items():
                if key not in wanted:
                    await self._execute(
                        "UPDATE alerts SET resolved = ? WHERE id = ?", (now, alert.id)
                    )
                    resolved.append(Alert(alert.id, *key, alert.detail, alert.opened, now))
            await self._executemany(
                """INSERT INTO notices (platform, chat_id, text, due, created)
                VALUES (?, ?, ?, ?, ?)""",
                [
                    # Due at once, whatever time the check judged by.
                    (platform, chat, text(alert), written, written)
                    for alert in (*resolved, *opened)  # what is over, then what is new
                    for platform, chat in chats.items()
                ],
            )
        return opened, resolved

    async def pending_notices(self) -> list[Notice]:
        """Every notice not sent yet, oldest first."""
        found = await self._fetchall(
            """SELECT id, platform, chat_id, text, due, attempts FROM notices
            WHERE status = ? ORDER BY id""",
            (PENDING,),
        )
        return [Notice(*row) for row in found]

    async def notice_sent(self, notice_id: int) -> None:
        async with self._transaction():
            await self._execute(
                "UPDATE notices SET status = ?, sent = ? WHERE id = ?",
                (SENT, time.time(), notice_id),
            )

    async def notice_failed(self, notice_id: int, error: str) -> None:
        async with self._transaction():
            await self._execute(
                "UPDATE notices SET status = ?, error = ? WHERE id = ?", (FAILED, error, notice_id)
            )

    async def postpone_notice(self, notice_id: int, until: float, error: str) -> None:
        async with self._transaction():
            await self._execute(
                "UPDATE notices SET due = ?, error = ?, attempts = attempts + 1 WHERE id = ?",
                (until, error, notice_id),
            )
