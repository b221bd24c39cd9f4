"""Digests in the database: a chat's setting and saved time zone, and turning what a chat
was held over a period into one delivery when its digest falls due.

A digest is a delivery like any other: when one falls due, the held deliveries of its chat
become pending together under one digest key, in the transaction that sets when the next
is due. So a crash either left them held and the digest still due (it is queued after the
restart), or queued it (the sender sends it after the restart): never lost, never queued
twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from bot.config import DestinationConfig
from bot.models import ChatRef, DeliveryStatus, Destination
from bot.outbox import digest as schedule
from bot.store.destinations import DestinationStore

log = logging.getLogger(__name__)

PENDING, HELD = DeliveryStatus.PENDING, DeliveryStatus.HELD
# A setting that no longer reads (its zone left the zone database) is tried again a day
# later, rather than every minute.
BAD_SETTING_RETRY = 86400.0


class DigestStore(DestinationStore):
    async def set_digest(
        self, chat: ChatRef, setting: schedule.DigestSetting | None, now: float | None = None
    ) -> Destination | None:
        """Give `chat` a digest (None: none, each headline as it comes), its zone saved as
        the chat's. Turned off, what was held so far goes at once, as one last digest.
        None if the chat is not a destination."""
        now = time.time() if now is None else now
        async with self._transaction():
            row = await self._fetchone(
                "SELECT id FROM destinations WHERE platform = ? AND chat_id = ?",
                (chat.platform, chat.chat_id),
            )
            if row is None:
                return None
            if setting is None:
                await self._execute(
                    "UPDATE destinations SET digest = '', digest_due = 0 WHERE id = ?", row
                )
                await self._queue_held(row[0])
            else:
                await self._execute(
                    """UPDATE destinations SET digest = ?, timezone = ?, digest_due = ?
                    WHERE id = ?""",
                    (str(setting), setting.zone, schedule.next_due(setting, now), row[0]),
                )
        return await self.destination(chat)

    async def digest_due(self, destination: Destination) -> float:
        """When `destination`'s next digest is due (0: it has none)."""
        row = await self._fetchone(
            "SELECT digest_due FROM destinations WHERE id = ? AND digest != ''",
            (destination.id,),
        )
        return row[0] if row else 0.0

    async def queue_due_digests(self, now: float | None = None) -> int:
        """Queue every digest due by `now` that has headlines, and set when each chat's
        next is due, in one transaction; returns how many were queued. A period with
        nothing new queues nothing (and the next is still set)."""
        now = time.time() if now is None else now
        queued = 0
        async with self._transaction():
            due = await self._fetchall(
                """SELECT id, digest FROM destinations
                WHERE digest != '' AND active = 1 AND digest_due <= ?""",
                (now,),
            )
            for destination_id, text in due:
                try:
                    setting = schedule.parse_setting(text.split())
                    assert setting is not None
                    following = schedule.next_due(setting, now)
                except Exception as error:  # a zone gone from the zone database
                    log.error("digest: destination %d has %r: %s", destination_id, text, error)
                    following = now + BAD_SETTING_RETRY
                else:
                    queued += await self._queue_held(destination_id)
                await self._execute(
                    "UPDATE destinations SET digest_due = ? WHERE id = ?",
                    (following, destination_id),
                )
        return queued

    async def _queue_held(self, destination_id: int) -> int:
        """What `destination_id` holds becomes one digest, pending now; 1 if there was any."""
        row = await self._fetchone(
            "SELECT min(id) FROM deliveries WHERE destination_id = ? AND status = ?",
            (destination_id, HELD),
        )
        if row is None or row[0] is None:
            return 0
        # Each keeps its due, the time it was held: already past, whatever clock said
        # the digest fell due.
        await self._execute(
            """UPDATE deliveries SET status = ?, digest = ?
            WHERE destination_id = ? AND status = ?""",
            (PENDING, row[0], destination_id, HELD),
        )
        return 1

    async def _release_held_without_digest(self) -> None:
        """Chats that hold deliveries but have no digest any more (the config file took it
        away) get them as one last digest."""
        found = await self._fetchall(
            """SELECT DISTINCT x.destination_id FROM deliveries x
            JOIN destinations d ON d.id = x.destination_id
            WHERE x.status = ? AND d.digest = ''""",
            (HELD,),
        )
        for (destination_id,) in found:
            await self._queue_held(destination_id)

    async def sync_destinations(
        self, platform: str, configured: Sequence[DestinationConfig]
    ) -> list[Destination]:
        """As DestinationStore's, then each config destination's `digest`: the file's
        setting wins over the chat's own, as its regions do ("" : none). The next digest's
        time is set only when the setting changes, so a restart neither skips nor repeats
        one."""
        await super().sync_destinations(platform, configured)
        now = time.time()
        async with self._transaction():
            for d in configured:
                setting = schedule.parse_setting(d.digest.split()) if d.digest else None
                text = str(setting) if setting else ""
                row = await self._fetchone(
                    "SELECT id, digest FROM destinations WHERE platform = ? AND config_key = ?",
                    (platform, d.chat_id),
                )
                if row is None or row[1] == text:
                    continue
                await self._execute(
                    """UPDATE destinations SET digest = ?, digest_due = ?,
                        timezone = CASE WHEN ? = '' THEN timezone ELSE ? END
                    WHERE id = ?""",
                    (
                        text,
                        schedule.next_due(setting, now) if setting else 0.0,
                        setting.zone if setting else "",
                        setting.zone if setting else "",
                        row[0],
                    ),
                )
            await self._release_held_without_digest()
        return [d for d in await self.destinations() if d.chat.platform == platform]
