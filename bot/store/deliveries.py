"""The outbox's rows: what is owed to whom, due when, and what became of each delivery."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from bot.models import ChatRef, Delivery, DeliveryStatus, Destination
from bot.outbox.plan import Planned
from bot.store import rows
from bot.store.db import Database

PENDING = DeliveryStatus.PENDING
HELD = DeliveryStatus.HELD


class DeliveryStore(Database):
    async def pending_destinations(self, now: float | None = None) -> list[Destination]:
        """Active destinations with deliveries due by `now`."""
        now = time.time() if now is None else now
        found = await self._fetchall(
            f"""SELECT {rows.DESTINATION_COLUMNS} FROM destinations d
            WHERE d.active = 1 AND EXISTS (
                SELECT 1 FROM deliveries x WHERE x.destination_id = d.id
                AND x.status = ? AND x.due <= ?) ORDER BY d.id""",
            (PENDING, now),
        )
        return [rows.destination(r) for r in found]

    async def pending_deliveries(
        self, destination: Destination, limit: int = 10, now: float | None = None
    ) -> list[Delivery]:
        """The oldest deliveries due to `destination`, oldest headline first."""
        now = time.time() if now is None else now
        found = await self._fetchall(
            f"""SELECT x.id, x.attempts, x.digest, {rows.HEADLINE_COLUMNS}
            FROM deliveries x JOIN headlines h ON h.id = x.headline_id
            JOIN feeds f ON f.id = h.feed_id
            WHERE x.destination_id = ? AND x.status = ? AND x.due <= ?
            ORDER BY x.due, h.published, h.id LIMIT ?""",
            (destination.id, PENDING, now, limit),
        )
        return [_delivery(destination, r) for r in found]

    async def digest_deliveries(self, destination: Destination, digest: int) -> list[Delivery]:
        """Every pending delivery of one digest to `destination`: they go out together."""
        found = await self._fetchall(
            f"""SELECT x.id, x.attempts, x.digest, {rows.HEADLINE_COLUMNS}
            FROM deliveries x JOIN headlines h ON h.id = x.headline_id
            JOIN feeds f ON f.id = h.feed_id
            WHERE x.destination_id = ? AND x.status = ? AND x.digest = ?
            ORDER BY h.published, h.id""",
            (destination.id, PENDING, digest),
        )
        return [_delivery(destination, r) for r in found]

    async def mark_sent(self, delivery_ids: Iterable[int], message_id: str) -> None:
        await self._set_status(
            delivery_ids, DeliveryStatus.SENT, message_id=message_id, sent=time.time()
        )

    async def record_sent(self, sent: Sequence[tuple[int, str, float]]) -> None:
        """Mark deliveries sent, each with (delivery id, message id, when), in one
        transaction: the outbox records many chats' sends at once."""
        async with self._transaction():
            await self._executemany(
                "UPDATE deliveries SET status = ?, message_id = ?, sent = ? WHERE id = ?",
                [(DeliveryStatus.SENT, message_id, at, i) for i, message_id, at in sent],
            )

    async def mark_failed(self, delivery_ids: Iterable[int], error: str) -> None:
        await self._set_status(delivery_ids, DeliveryStatus.FAILED, error=error)

    async def postpone(self, delivery_ids: Iterable[int], until: float, error: str) -> None:
        """Leave deliveries pending, counting the attempt and not retrying before `until`."""
        ids = list(delivery_ids)
        async with self._transaction():
            await self._executemany(
                """UPDATE deliveries SET attempts = attempts + 1, due = ?, error = ?
                WHERE id = ? AND status = ?""",
                [(until, error, i, PENDING) for i in ids],
            )

    async def _set_status(
        self, delivery_ids: Iterable[int], status: DeliveryStatus, **fields: Any
    ) -> None:
        assignments = "".join(f", {key} = ?" for key in fields)
        async with self._transaction():
            await self._executemany(
                f"UPDATE deliveries SET status = ?{assignments} WHERE id = ?",
                [(status, *fields.values(), i) for i in delivery_ids],
            )

    async def delivery_counts(self) -> dict[int, dict[str, int]]:
        """Per destination id, how many deliveries are in each status."""
        counts: dict[int, dict[str, int]] = {}
        found = await self._fetchall(
            "SELECT destination_id, status, deliveries FROM delivery_totals", ()
        )
        for destination_id, status, count in found:
            counts.setdefault(destination_id, {})[status] = count
        return counts

    async def deliveries_for(self, destination: Destination) -> list[tuple[int, str, str]]:
        """(headline id, status, message id) of every delivery to `destination`."""
        return [
            (r[0], r[1], r[2])
            for r in await self._fetchall(
                """SELECT headline_id, status, message_id FROM deliveries
                WHERE destination_id = ? ORDER BY id""",
                (destination.id,),
            )
        ]

    async def recent_sends(self, platform: str, since: float) -> list[tuple[ChatRef, float]]:
        """Each message sent to `platform`'s chats since `since` (time.time()): its chat
        and when, oldest first. A packed message, many deliveries, counts once."""
        found = await self._fetchall(
            """SELECT DISTINCT d.chat_id, d.kind, d.thread_id, x.message_id, x.sent
            FROM deliveries x JOIN destinations d ON d.id = x.destination_id
            WHERE x.sent > 0 AND x.sent >= ? AND d.platform = ? ORDER BY x.sent""",
            (since, platform),
        )
        return [(ChatRef(platform, r[0], kind=r[1], thread_id=r[2]), r[4]) for r in found]

    async def backlog(self, now: float) -> dict[str, tuple[int, float]]:
        """Per platform, the deliveries owed to active destinations and how long the most
        overdue of them has been due (0 if none is due yet)."""
        found = await self._fetchall(
            """SELECT d.platform, count(*), min(x.due) FROM deliveries x
            JOIN destinations d ON d.id = x.destination_id
            WHERE x.status = ? AND d.active = 1 GROUP BY d.platform""",
            (PENDING,),
        )
        return {platform: (n, max(0.0, now - due)) for platform, n, due in found}

    # -- for the other tables' transactions -------------------------------------------

    async def _waiting(self, feed_id: int) -> dict[int, int]:
        """Per destination id, how many of this feed's deliveries it is still owed."""
        return dict(
            await self._fetchall(
                """SELECT x.destination_id, count(*) FROM deliveries x
                JOIN headlines h ON h.id = x.headline_id
                WHERE h.feed_id = ? AND x.status = ? GROUP BY 1""",
                (feed_id, PENDING),
            )
        )

    async def _insert_deliveries(self, planned: Sequence[Planned], now: float) -> None:
        """Write the plan's deliveries (their headlines stored, so with ids)."""
        await self._executemany(
            """INSERT INTO deliveries (headline_id, destination_id, due, created, status)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
            [
                (p.headline.id, p.destination.id, p.due, now, HELD if p.held else PENDING)
                for p in planned
            ],
        )

    async def _close_pending(
        self, destination_id: int, status: DeliveryStatus, reason: str
    ) -> None:
        """What `destination_id` is still owed ends with `status`, for `reason`."""
        await self._execute(
            """UPDATE deliveries SET status = ?, error = ?
            WHERE destination_id = ? AND status IN (?, ?)""",
            (status, reason, destination_id, PENDING, HELD),
        )

    async def _hand_over_pending(self, old: int, new: int) -> None:
        """What `old` is owed goes to `new`, if `new` is active and not owed it already;
        what was held for a digest is sent on its own if `new` has no digest."""
        await self._execute(
            """UPDATE deliveries SET destination_id = ?,
                status = CASE WHEN status = ? AND
                    (SELECT digest FROM destinations WHERE id = ?) = '' THEN ? ELSE status END
            WHERE destination_id = ? AND status IN (?, ?)
            AND (SELECT active FROM destinations WHERE id = ?) = 1
            AND NOT EXISTS (SELECT 1 FROM deliveries y
                WHERE y.destination_id = ? AND y.headline_id = deliveries.headline_id)""",
            (new, HELD, new, PENDING, old, PENDING, HELD, new, new),
        )


def _delivery(destination: Destination, r: Any) -> Delivery:
    """The Delivery of a row of (id, attempts, digest, HEADLINE_COLUMNS)."""
    return Delivery(r[0], destination, rows.headline(r[3:]), attempts=r[1], digest=r[2])
