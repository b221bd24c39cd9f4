"""The sender: delivers what the outbox owes each destination, and never loses it.

One task per destination drains its pending deliveries oldest first, so a chat that is
rate limited or failing holds up nobody else. A delivery is marked sent only once the
platform accepted it; anything else leaves it pending (or, when the destination is gone
or the content refused, closes it with the reason for `status` to show).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping

from bot.adapter import (
    Adapter,
    ContentRejected,
    DestinationGone,
    DestinationMoved,
    RetryAfter,
    TemporaryFailure,
)
from bot.models import Delivery, Destination
from bot.storage import Storage

log = logging.getLogger(__name__)


class Outbox:
    def __init__(
        self,
        storage: Storage,
        adapters: Mapping[str, Adapter],
        *,
        language: str = "en",
        batch: int = 10,
        retry_base: float = 5.0,
        retry_max: float = 300.0,
        check_every: float = 30.0,
    ) -> None:
        self.storage = storage
        self.adapters = dict(adapters)
        self.language = language
        self.batch = batch
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.check_every = check_every
        self._drains: dict[int, asyncio.Task[int]] = {}
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._warned_platforms: set[str] = set()

    def wake(self) -> None:
        """New deliveries may be due: look now rather than at the next check."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Send everything due now and return how many deliveries were marked sent."""
        tasks = await self._start_drains()
        results = await asyncio.gather(*tasks)
        return sum(results)

    async def run(self) -> None:
        """Keep delivering until `stop()`."""
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                await self._start_drains()
            except Exception:
                log.exception("outbox: could not read pending deliveries; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.check_every)

    async def stop(self, grace: float = 10.0) -> None:
        """Let sends in flight finish (up to `grace` seconds); the rest stays pending."""
        self._stopping.set()
        self._wake.set()
        drains = list(self._drains.values())
        if drains:
            _, late = await asyncio.wait(drains, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _start_drains(self) -> list[asyncio.Task[int]]:
        for destination in await self.storage.pending_destinations():
            task = self._drains.get(destination.id)
            if task is None or task.done():
                task = asyncio.create_task(self._drain(destination))
                self._drains[destination.id] = task
                task.add_done_callback(lambda t, key=destination.id: self._forget(key, t))
        return list(self._drains.values())

    def _forget(self, key: int, task: asyncio.Task[int]) -> None:
        if self._drains.get(key) is task:
            del self._drains[key]

    async def _drain(self, destination: Destination) -> int:
        adapter = self.adapters.get(destination.chat.platform)
        if adapter is None:
            if destination.chat.platform not in self._warned_platforms:
                self._warned_platforms.add(destination.chat.platform)
                log.warning(
                    "outbox: %s is not configured; deliveries to %s chats stay pending",
                    destination.chat.platform,
                    destination.chat.platform,
                )
            return 0
        sent = 0
        while not self._stopping.is_set():
            deliveries = await self.storage.pending_deliveries(destination, self.batch)
            if not deliveries:
                break
            step = await self._send(adapter, destination, deliveries)
            if step is None:
                break
            destination, count = step
            sent += count
        return sent

    async def _send(
        self, adapter: Adapter, destination: Destination, deliveries: list[Delivery]
    ) -> tuple[Destination, int] | None:
        """One send; the destination to go on with and how many were sent, or None to stop
        draining it for now."""
        language = destination.language or self.language
        name = _describe(destination)
        try:
            sent = await adapter.send(destination.chat, [d.headline for d in deliveries], language)
        except RetryAfter as error:
            log.info("outbox: %s asks us to wait %.1fs", name, error.seconds)
            await self._sleep(error.seconds)
            return destination, 0
        except DestinationMoved as error:
            log.info("outbox: %s moved to %s", name, error.new_chat_id)
            moved = await self.storage.move_destination(destination, error.new_chat_id)
            # Moved onto a chat that had stopped receiving: nothing more goes out here.
            return (moved, 0) if moved.active else None
        except DestinationGone as error:
            log.warning("outbox: %s is gone (%s); deactivated", name, error)
            await self.storage.deactivate(destination, str(error))
            return None
        except ContentRejected as error:
            first = deliveries[0]
            log.warning("outbox: %s refused %r: %s", name, first.headline.title, error)
            await self.storage.mark_failed([first.id], f"content rejected: {error}")
            return destination, 0
        except (TemporaryFailure, OSError, TimeoutError) as error:
            await self._postpone(name, deliveries, error)
            return None
        except Exception as error:  # an adapter bug must not stop the deliveries
            log.exception("outbox: unexpected error from the %s adapter", adapter.platform)
            await self._postpone(name, deliveries, error)
            return None
        count = max(1, min(sent.count, len(deliveries)))
        await self.storage.mark_sent([d.id for d in deliveries[:count]], sent.message_id)
        return destination, count

    async def _postpone(self, name: str, deliveries: list[Delivery], error: Exception) -> None:
        delay = min(self.retry_max, self.retry_base * 2 ** deliveries[0].attempts)
        delay *= random.uniform(0.8, 1.2)
        log.warning("outbox: sending to %s failed (%s); retry in %.0fs", name, error, delay)
        await self.storage.postpone([d.id for d in deliveries], time.time() + delay, str(error))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _describe(destination: Destination) -> str:
    chat = destination.chat
    title = f" ({chat.title})" if chat.title else ""
    return f"{chat.platform} chat {chat.chat_id}{title}"
