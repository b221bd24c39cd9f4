"""The destinations table: the chats that receive headlines, from the config file or
subscribed by themselves; found by id or by the config file's name for them, and kept
one per chat when a chat moves to another id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.config import DestinationConfig
from bot.models import ChatRef, DeliveryStatus, Destination
from bot.store import rows
from bot.store.db import not_in
from bot.store.deliveries import DeliveryStore

# Why a config destination stopped: the only reason a config file can take back.
REMOVED_FROM_CONFIG = "removed from config"
# Why a chat as a whole stopped: its region threads (forum topics) receive instead.
SPLIT_INTO_THREADS = "split into topics"


class DestinationStore(DeliveryStore):
    async def sync_destinations(
        self, platform: str, configured: Sequence[DestinationConfig]
    ) -> list[Destination]:
        """Make the destinations of the config file exist with their filters; config
        destinations no longer in the file stop receiving.

        A destination is found by the name the file gives it, even after it moved to
        another id. One that was deactivated for a reason of its own (bot removed,
        unsubscribed, moved) stays inactive: restarting must not send to it again.
        """
        now = time.time()
        keys = [d.chat_id for d in configured]
        async with self._transaction():
            await self._execute(
                f"""UPDATE destinations SET active = 0, inactive_reason = ?
                WHERE platform = ? AND config_key != '' AND active = 1
                AND {not_in("config_key", keys)}""",
                (REMOVED_FROM_CONFIG, platform, *keys),
            )
            for d in configured:
                # Unless another name in the file already stands for the chat: then it is
                # one destination, posted to once.
                row = await self._named(platform, d.chat_id, taken=keys)
                filters = (
                    json.dumps(d.regions),
                    json.dumps(d.feeds),
                    d.language,
                    json.dumps(d.include, ensure_ascii=False),
                    json.dumps(d.exclude, ensure_ascii=False),
                )
                if row is None:
                    await self._execute(
                        """INSERT INTO destinations (platform, chat_id, config_key, regions,
                            feeds, language, filter_include, filter_exclude, created)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (platform, chat_id, thread_id) DO NOTHING""",
                        (platform, d.chat_id, d.chat_id, *filters, now),
                    )
                    continue
                await self._execute(
                    """UPDATE destinations SET config_key = ?, regions = ?, feeds = ?,
                        language = ?, filter_include = ?, filter_exclude = ?,
                        active = CASE WHEN inactive_reason = ? THEN 1 ELSE active END,
                        inactive_reason = CASE WHEN inactive_reason = ? THEN ''
                                               ELSE inactive_reason END
                    WHERE id = ?""",
                    (d.chat_id, *filters, REMOVED_FROM_CONFIG, REMOVED_FROM_CONFIG, row[0]),
                )
        return [d for d in await self.destinations() if d.chat.platform == platform]

    async def _named(self, platform: str, name: str, taken: Sequence[str] = ()) -> Any:
        """The row (its id) of the destination the config file calls `name`, else of the
        chat with that id unless the file gives it another name in `taken`; None if none."""
        return await self._fetchone(
            f"""SELECT id FROM destinations WHERE platform = ? AND config_key = ?
            UNION ALL SELECT id FROM destinations WHERE platform = ? AND chat_id = ?
                AND thread_id = '' AND {not_in("config_key", taken)}
            LIMIT 1""",
            (platform, name, platform, name, *taken),
        )

    async def subscribe(
        self, chat: ChatRef, regions: Sequence[str] = (), language: str = ""
    ) -> Destination:
        """Start (or change, or resume) deliveries to `chat`, for `regions` (empty: all).
        A destination the config file lists by the chat's @username becomes this one."""
        async with self._transaction():
            await self._adopt_username(chat)
            await self._execute(
                """INSERT INTO destinations (platform, chat_id, kind, title, regions, language,
                    created, thread_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (platform, chat_id, thread_id) DO UPDATE SET
                    regions = excluded.regions,
                    kind = CASE WHEN excluded.kind = '' THEN destinations.kind
                                ELSE excluded.kind END,
                    title = CASE WHEN excluded.title = '' THEN destinations.title
                                 ELSE excluded.title END,
                    language = CASE WHEN excluded.language = '' THEN destinations.language
                                    ELSE excluded.language END,
                    active = 1, inactive_reason = ''""",
                (
                    chat.platform,
                    chat.chat_id,
                    chat.kind,
                    chat.title,
                    json.dumps(list(regions)),
                    language,
                    time.time(),
                    chat.thread_id,
                ),
            )
        destination = await self.destination(chat)
        assert destination is not None
        return destination

    async def set_filter(
        self,
        chat: ChatRef,
        edit: Callable[[tuple[str, ...], tuple[str, ...]], tuple[Sequence[str], Sequence[str]]],
    ) -> Destination | None:
        """Change `chat`'s keyword filter to `edit(include, exclude)` (terms of
        bot.filters; both empty: none), read and written in one transaction so that two
        changes at once both count; an error `edit` raises changes nothing. None, and
        nothing changed, when the chat is no destination. A destination the config file
        lists by the chat's @username becomes this one first, as in `subscribe`."""
        async with self._transaction():
            await self._adopt_username(chat)
            row = await self._fetchone(
                """SELECT id, filter_include, filter_exclude FROM destinations
                WHERE platform = ? AND chat_id = ?""",
                (chat.platform, chat.chat_id),
            )
            if row is None:
                return None
            include, exclude = edit(tuple(json.loads(row[1])), tuple(json.loads(row[2])))
            await self._execute(
                "UPDATE destinations SET filter_include = ?, filter_exclude = ? WHERE id = ?",
                (
                    json.dumps(list(include), ensure_ascii=False),
                    json.dumps(list(exclude), ensure_ascii=False),
                    row[0],
                ),
            )
        return await self.destination(chat)

    async def unsubscribe(self, chat: ChatRef) -> bool:
        """Stop deliveries to `chat`; what was still owed to it is cancelled. A destination
        the config file lists by the chat's @username becomes this one first, so that
        neither goes on receiving."""
        async with self._transaction():
            await self._adopt_username(chat)
            row = await self._fetchone(
                """SELECT id FROM destinations WHERE platform = ? AND chat_id = ?
                AND thread_id = ? AND active = 1""",
                (chat.platform, chat.chat_id, chat.thread_id),
            )
            if row is None:
                return False
            await self._deactivate(row[0], "unsubscribed", DeliveryStatus.CANCELLED)
        return True

    async def deactivate(
        self,
        destination: Destination,
        reason: str,
        cancel: DeliveryStatus = DeliveryStatus.FAILED,
    ) -> None:
        """Stop delivering to `destination` (kept, with `reason`); what it was owed is
        closed with status `cancel` and the reason, for `status` to show."""
        async with self._transaction():
            await self._deactivate(destination.id, reason, cancel)

    async def _deactivate(self, destination_id: int, reason: str, cancel: DeliveryStatus) -> None:
        await self._execute(
            "UPDATE destinations SET active = 0, inactive_reason = ? WHERE id = ?",
            (reason, destination_id),
        )
        await self._close_pending(destination_id, cancel, reason)

    async def move_destination(self, destination: Destination, new_chat_id: str) -> Destination:
        """The chat now has another id (Telegram group -> supergroup, a channel known by
        @name); keep its settings and what it is owed, and the name the config gave it."""
        async with self._transaction():
            await self._move(destination.id, destination.chat.platform, new_chat_id)
        moved = await self.destination(replace(destination.chat, chat_id=new_chat_id))
        assert moved is not None
        return moved

    async def _move(self, destination_id: int, platform: str, new_chat_id: str) -> None:
        clash = await self._fetchone(
            """SELECT id, config_key FROM destinations
            WHERE platform = ? AND chat_id = ? AND id != ? AND thread_id =
                (SELECT thread_id FROM destinations WHERE id = ?)""",
            (platform, new_chat_id, destination_id, destination_id),
        )
        if clash is None:
            await self._execute(
                "UPDATE destinations SET chat_id = ? WHERE id = ?", (new_chat_id, destination_id)
            )
        else:
            await self._merge(destination_id, clash[0], bool(clash[1]), new_chat_id)

    async def _merge(self, old: int, new: int, new_has_config: bool, new_chat_id: str) -> None:
        """Fold destination `old` into `new`, the same chat already known under its new id.
        `new` takes over what `old` was owed and the config file's name for the chat, and
        keeps its own state: a chat that unsubscribed under its new id stays unsubscribed."""
        if not new_has_config:
            # The config file's name for the chat (and its filters) go with it.
            row = await self._fetchone(
                """SELECT config_key, regions, feeds, language, filter_include, filter_exclude
                FROM destinations WHERE id = ?""",
                (old,),
            )
            if row[0]:
                await self._execute("UPDATE destinations SET config_key = '' WHERE id = ?", (old,))
                await self._execute(
                    """UPDATE destinations SET config_key = ?, regions = ?, feeds = ?,
                    language = ?, filter_include = ?, filter_exclude = ? WHERE id = ?""",
                    (*row, new),
                )
                await self._execute(
                    """UPDATE destinations SET active = 1, inactive_reason = ''
                    WHERE id = ? AND inactive_reason = ?""",
                    (new, REMOVED_FROM_CONFIG),
                )
        reason = f"moved to {new_chat_id}"
        await self._hand_over_pending(old, new)
        # Left behind: what `new` already owes (one post per chat), or all if it is inactive.
        await self._close_pending(old, DeliveryStatus.CANCELLED, reason)
        await self._execute(
            "UPDATE destinations SET active = 0, inactive_reason = ? WHERE id = ?", (reason, old)
        )

    async def resume(self, platform: str, chat_id: str) -> Destination | None:
        """Deliver to a deactivated destination again, found by the name the config file
        gives it, else by its id; None if there is none. What it missed stays missed."""
        async with self._transaction():
            row = await self._named(platform, chat_id)
            if row is None:
                return None
            await self._execute(
                "UPDATE destinations SET active = 1, inactive_reason = '' WHERE id = ?", row
            )
        found = await self._fetchone(
            f"SELECT {rows.DESTINATION_COLUMNS} FROM destinations d WHERE d.id = ?", row
        )
        return rows.destination(found)

    async def adopt_username(self, chat: ChatRef) -> None:
        """A destination configured by the chat's @username becomes the one under its id,
        so that a channel listed as @name that also sends /subscribe is posted to once."""
        async with self._transaction():
            await self._adopt_username(chat)

    async def _adopt_username(self, chat: ChatRef) -> None:
        row = await self._alias_row(chat, "id")
        if row is not None:
            await self._move(row[0], chat.platform, chat.chat_id)

    async def _alias_row(self, chat: ChatRef, columns: str) -> Any:
        """`columns` of the destination still under the chat's @username, if any."""
        if not chat.username or chat.thread_id:
            return None
        return await self._fetchone(
            f"""SELECT {columns} FROM destinations d
            WHERE platform = ? AND lower(chat_id) = lower(?)""",
            (chat.platform, "@" + chat.username.lstrip("@")),
        )

    async def destination(self, chat: ChatRef) -> Destination | None:
        """The destination of `chat`: under its id, else the one the config file lists by
        the chat's @username (until /subscribe or a move merges it). Only reads."""
        row = await self._fetchone(
            f"""SELECT {rows.DESTINATION_COLUMNS} FROM destinations d
            WHERE platform = ? AND chat_id = ? AND thread_id = ?""",
            (chat.platform, chat.chat_id, chat.thread_id),
        ) or await self._alias_row(chat, rows.DESTINATION_COLUMNS)
        return rows.destination(row) if row else None

    async def destinations(self, active_only: bool = False) -> list[Destination]:
        where = "WHERE d.active = 1" if active_only else ""
        found = await self._fetchall(
            f"SELECT {rows.DESTINATION_COLUMNS} FROM destinations d {where} ORDER BY d.id", ()
        )
        return [rows.destination(r) for r in found]

    # -- a chat split into one thread per region (Telegram forum topics) ------------------

    async def region_threads(self, chat: ChatRef) -> dict[str, Destination]:
        """The threads `/subscribe topics` made in `chat`, by region (WORLD: world news),
        active or not: a thread made once is used again rather than made twice."""
        found = await self._fetchall(
            f"""SELECT {rows.DESTINATION_COLUMNS} FROM destinations d
            WHERE platform = ? AND chat_id = ? AND region_thread = 1 ORDER BY d.id""",
            (chat.platform, chat.chat_id),
        )
        threads = {}
        for row in found:
            destination = rows.destination(row)
            threads[destination.regions[0] if destination.regions else ""] = destination
        return threads

    async def subscribe_region_threads(
        self, chat: ChatRef, threads: Mapping[str, str], language: str = ""
    ) -> list[Destination]:
        """Each thread of `threads` (region -> thread id) receives its region's headlines;
        the chat as a whole stops receiving, as its threads now carry them."""
        now = time.time()
        async with self._transaction():
            for region, thread_id in threads.items():
                await self._execute(
                    """INSERT INTO destinations (platform, chat_id, thread_id, kind, title,
                        regions, language, created, region_thread)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)
                    ON CONFLICT (platform, chat_id, thread_id) DO UPDATE SET
                        regions = excluded.regions, region_thread = 1, active = 1,
                        inactive_reason = '', language = CASE WHEN excluded.language = ''
                            THEN destinations.language ELSE excluded.language END""",
                    (
                        chat.platform,
                        chat.chat_id,
                        thread_id,
                        chat.kind,
                        chat.title,
                        json.dumps([region]),
                        language,
                        now,
                    ),
                )
            whole = await self._fetchone(
                """SELECT id FROM destinations WHERE platform = ? AND chat_id = ?
                AND thread_id = '' AND active = 1""",
                (chat.platform, chat.chat_id),
            )
            if whole is not None:
                await self._deactivate(whole[0], SPLIT_INTO_THREADS, DeliveryStatus.CANCELLED)
        return list((await self.region_threads(chat)).values())

    async def unsubscribe_region_threads(self, chat: ChatRef) -> int:
        """The threads `/subscribe topics` made in `chat` stop receiving; how many did."""
        async with self._transaction():
            found = await self._fetchall(
                """SELECT id FROM destinations WHERE platform = ? AND chat_id = ?
                AND region_thread = 1 AND active = 1""",
                (chat.platform, chat.chat_id),
            )
            for (destination_id,) in found:
                await self._deactivate(destination_id, "unsubscribed", DeliveryStatus.CANCELLED)
        return len(found)

    async def move_thread(self, destination: Destination, thread_id: str) -> Destination:
        """The destination's thread was made again under `thread_id`: what it is owed goes
        there."""
        async with self._transaction():
            await self._execute(
                "UPDATE destinations SET thread_id = ? WHERE id = ?", (thread_id, destination.id)
            )
        moved = await self.destination(replace(destination.chat, thread_id=thread_id))
        assert moved is not None
        return moved

    async def skip_pending(self, destination: Destination, reason: str) -> None:
        """What `destination` is owed now is closed as failed with `reason`; it stays
        active, so headlines after these go to it (a closed forum topic, reopened)."""
        async with self._transaction():
            await self._close_pending(destination.id, DeliveryStatus.FAILED, reason)
