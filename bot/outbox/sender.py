"""The sender: delivers what the outbox owes each destination, and never loses it.

One task per destination drains its pending deliveries oldest first, so a chat that is
rate limited or failing holds up nobody else. A delivery is marked sent only once the
platform accepted it; anything else leaves it pending (or, when the destination is gone
or the content refused, closes it with the reason for `status` to show).

What the platform accepted is remembered at once and recorded by one writer, many sends
per transaction, as they come: a crash repeats only the few not written yet, and a write
that fails (a full disk) is retried with backoff while this process never sends those
again. No new sends start while the database cannot be written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from itertools import islice, takewhile

from bot.backoff import Backoff, backoff
from bot.models import ChatRef, Delivery, Destination, Digest
from bot.outbox import digest as digests
from bot.ports import (
    NO_OBSERVER,
    Adapter,
    ContentRejected,
    DestinationGone,
    DestinationMoved,
    Observer,
    RegionThreads,
    RetryAfter,
    SendError,
    TemporaryFailure,
    ThreadClosed,
    ThreadGone,
    ThreadsRefused,
)
from bot.store import DB_ERRORS, Storage

log = logging.getLogger(__name__)

MARKS_PER_WRITE = 200  # accepted sends recorded per transaction, at most
WRITE_RETRY_FIRST = 1.0  # waits between tries to record them while writes fail
WRITE_RETRY_MAX = 30.0
NOTICES = -1  # the key of the operator's notices' drain among the destinations' drains


@dataclass(slots=True)
class _Accepted:
    """A send the platform accepted whose delivery is not recorded as sent yet."""

    destination_id: int
    message_id: str
    at: float


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
        observer: Observer = NO_OBSERVER,
        sending: Callable[[str], bool] = lambda platform: True,
    ) -> None:
        self.storage = storage
        # Whether this process sends for a platform now: where processes share a
        # database, only the one holding the platform's role does (bot.roles).
        self.sending = sending
        self.observer = observer
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
        self._accepted: dict[int, _Accepted] = {}  # by delivery id
        self._settled = asyncio.Event()  # everything accepted is recorded, or failed to be
        self._settled.set()
        self._writer: asyncio.Task[None] | None = None
        self._remade: set[int] = set()  # destinations whose thread a drain made again

    def wake(self) -> None:
        """New deliveries may be due: look now rather than at the next check."""
        self._wake.set()

    async def deliver_due(self) -> int:
        """Send everything due now and return how many deliveries the platforms accepted
        (recorded as sent, unless the database cannot be written)."""
        tasks = await self._start_drains()
        results = await asyncio.gather(*tasks)
        await self._settled.wait()
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
        """Let sends in flight finish (up to `grace` seconds) and record them; the rest
        stays pending."""
        self._stopping.set()
        self._wake.set()
        drains = list(self._drains.values())
        if drains:
            _, late = await asyncio.wait(drains, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        if self._writer is not None:  # stopping ends its wait: one last try, at once
            _, late = await asyncio.wait([self._writer], timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._accepted:
            log.error(
                "outbox: %d sends the platform accepted could not be recorded (%s); "
                "they will be sent again after a restart",
                len(self._accepted),
                self.storage.health.error or "stopped before the write",
            )

    async def _start_drains(self) -> list[asyncio.Task[int]]:
        if not self.storage.health.writable:
            return list(self._drains.values())  # sends resume once writes succeed
        for destination in await self.storage.pending_destinations():
            if not self.sending(destination.chat.platform):
                continue
            task = self._drains.get(destination.id)
            if task is None or task.done():
                task = asyncio.create_task(self._drain(destination))
                self._drains[destination.id] = task
                task.add_done_callback(lambda t, key=destination.id: self._forget(key, t))
        notices = self._drains.get(NOTICES)
        if notices is None or notices.done():
            notices = asyncio.create_task(self._drain_notices(), name="outbox notices")
            self._drains[NOTICES] = notices
            notices.add_done_callback(lambda t: self._forget(NOTICES, t))
        return list(self._drains.values())

    async def _drain_notices(self) -> int:
        """Send the operator's notices (bot.ops.alerts) in order, one chat's after another:
        each is marked sent once the platform took it. One that cannot go now holds back
        the rest of its chat, so that a "resolved" never arrives before its alert."""
        waiting: set[tuple[str, str]] = set()
        try:
            for notice in await self.storage.pending_notices():
                chat = (notice.platform, notice.chat_id)
                if self._stopping.is_set() or not self.storage.health.writable:
                    break
                adapter = self.adapters.get(notice.platform)
                if (
                    chat in waiting
                    or notice.due > time.time()
                    or adapter is None
                    or not self.sending(notice.platform)
                ):
                    waiting.add(chat)
                    continue
                try:
                    await adapter.send_text(ChatRef(*chat), notice.text)
                except RetryAfter as error:
                    waiting.add(chat)
                    await self.storage.postpone_notice(
                        notice.id, time.time() + error.seconds, str(error)
                    )
                except (DestinationGone, ContentRejected) as error:
                    log.error("outbox: the alert chat %s:%s refused an alert: %s", *chat, error)
                    await self.storage.notice_failed(notice.id, str(error))
                except Exception as error:
                    waiting.add(chat)
                    delay = backoff(notice.attempts, self.retry_base, self.retry_max)
                    log.warning("outbox: an alert to %s:%s failed (%s)", *chat, error)
                    await self.storage.postpone_notice(notice.id, time.time() + delay, str(error))
                else:
                    await self.storage.notice_sent(notice.id)
        except DB_ERRORS:
            if self.storage.health.writable:
                log.exception("outbox: database error sending the alerts")
        return 0

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
        try:
            while (
                not self._stopping.is_set()
                and self.storage.health.writable
                and self.sending(adapter.platform)
            ):
                deliveries = await self._due(destination)
                if not deliveries:
                    break
                step = await self._send(adapter, destination, deliveries)
                if step is None:
                    break
                destination, count = step
                sent += count
        except DB_ERRORS:
            # The database's health says once a minute when it cannot be written.
            if self.storage.health.writable:
                log.exception("outbox: database error delivering to %s", _describe(destination))
        finally:
            self._remade.discard(destination.id)
        return sent

    async def _due(self, destination: Destination) -> list[Delivery]:
        """The next deliveries to send, but none already accepted: recorded or not, a send
        the platform took is never repeated by this process."""
        held = {i for i, a in self._accepted.items() if a.destination_id == destination.id}
        due = await self.storage.pending_deliveries(destination, self.batch + len(held))
        due = [d for d in due if d.id not in held][: self.batch]
        if due and due[0].digest:  # a digest goes whole, in one send
            every = await self.storage.digest_deliveries(destination, due[0].digest)
            return [d for d in every if d.id not in held]
        return list(takewhile(lambda d: not d.digest, due))

    async def _send(
        self, adapter: Adapter, destination: Destination, deliveries: list[Delivery]
    ) -> tuple[Destination, int] | None:
        """One send; the destination to go on with and how many were sent, or None to stop
        draining it for now."""
        language = destination.language or self.language
        name = _describe(destination)
        digest = deliveries[0].digest
        try:
            if digest:
                sent = await adapter.send_digest(
                    destination.chat, _digest(destination, deliveries), language
                )
            else:
                headlines = [d.headline for d in deliveries]
                sent = await adapter.send(destination.chat, headlines, language)
        except RetryAfter as error:
            log.info("outbox: %s asks us to wait %.1fs", name, error.seconds)
            self.observer.retried(adapter.platform)
            await self._sleep(error.seconds)
            return destination, 0
        except DestinationMoved as error:
            log.info("outbox: %s moved to %s", name, error.new_chat_id)
            moved = await self.storage.move_destination(destination, error.new_chat_id)
            for accepted in self._accepted.values():  # they went along with the chat
                if accepted.destination_id == destination.id:
                    accepted.destination_id = moved.id
            # Moved onto a chat that had stopped receiving: nothing more goes out here.
            return (moved, 0) if moved.active else None
        except DestinationGone as error:
            log.warning("outbox: %s is gone (%s); deactivated", name, error)
            self.observer.delivery_failed(adapter.platform, "failed", len(deliveries))
            await self.storage.deactivate(destination, str(error))
            return None
        except ThreadGone as error:
            return await self._thread_gone(adapter, destination, error)
        except ThreadClosed as error:
            log.info("outbox: %s is closed (%s); what it is owed now is skipped", name, error)
            await self.storage.skip_pending(destination, f"topic closed: {error}")
            return None
        except ContentRejected as error:
            first = deliveries[0]
            # A digest is one delivery: refused, it fails whole.
            refused = deliveries if digest else [first]
            log.warning("outbox: %s refused %r: %s", name, first.headline.title, error)
            self.observer.delivery_failed(adapter.platform, "failed")
            await self.storage.mark_failed([d.id for d in refused], f"content rejected: {error}")
            return destination, 0
        except (TemporaryFailure, OSError, TimeoutError) as error:
            self.observer.delivery_failed(adapter.platform, "postponed", len(deliveries))
            await self._postpone(name, deliveries, error)
            return None
        except Exception as error:  # an adapter bug must not stop the deliveries
            log.exception("outbox: unexpected error from the %s adapter", adapter.platform)
            self.observer.delivery_failed(adapter.platform, "postponed", len(deliveries))
            await self._postpone(name, deliveries, error)
            return None
        count = len(deliveries) if digest else max(1, min(sent.count, len(deliveries)))
        self.observer.delivered(
            adapter.platform, count, [d.headline.published.timestamp() for d in deliveries[:count]]
        )
        now = time.time()
        for delivery in deliveries[:count]:
            self._accepted[delivery.id] = _Accepted(destination.id, sent.message_id, now)
        self._settled.clear()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_marks(), name="outbox marks")
        return destination, count

    async def _thread_gone(
        self, adapter: Adapter, destination: Destination, error: ThreadGone
    ) -> tuple[Destination, int] | None:
        """A region thread that was deleted is made again, once per drain, and what it is
        owed goes there; any other deleted thread, or one that cannot be made, stops."""
        name = _describe(destination)
        if (
            destination.region_thread
            and destination.id not in self._remade
            and isinstance(adapter, RegionThreads)
        ):
            self._remade.add(destination.id)
            region = destination.regions[0] if destination.regions else ""
            parent = replace(destination.chat, thread_id="")
            language = destination.language or self.language
            try:
                made = await adapter.create_region_threads(parent, [region], language)
                thread_id = made[region]
            except (ThreadsRefused, SendError, KeyError, OSError, TimeoutError) as refused:
                error = ThreadGone(f"{error}; making it again failed: {refused}")
            else:
                log.info("outbox: %s was deleted; made again as thread %s", name, thread_id)
                return await self.storage.move_thread(destination, thread_id), 0
        log.warning("outbox: %s is gone (%s); deactivated", name, error)
        await self.storage.deactivate(destination, str(error))
        return None

    async def _write_marks(self) -> None:
        """Record accepted sends as sent, as many as are waiting per transaction, while
        the sends go on, until none is left. A write that fails is tried again with
        backoff."""
        retry = Backoff(WRITE_RETRY_FIRST, WRITE_RETRY_MAX)
        while self._accepted:
            group = list(islice(self._accepted.items(), MARKS_PER_WRITE))
            try:
                await self.storage.record_sent([(i, a.message_id, a.at) for i, a in group])
            except DB_ERRORS:
                if self.storage.health.writable:  # not the disk: a bug, say where
                    log.exception("outbox: could not record %d sends", len(group))
                self._settled.set()  # deliver_due need not wait for the disk
                if self._stopping.is_set():
                    return  # stop() says what is left
                await self._sleep(retry.next())
                continue
            for delivery_id, _ in group:
                del self._accepted[delivery_id]
            if retry.attempt:
                self.wake()  # writes work again: so may the sends
            retry.reset()
        self._settled.set()

    async def _postpone(self, name: str, deliveries: list[Delivery], error: Exception) -> None:
        delay = backoff(deliveries[0].attempts, self.retry_base, self.retry_max)
        log.warning("outbox: sending to %s failed (%s); retry in %.0fs", name, error, delay)
        await self.storage.postpone([d.id for d in deliveries], time.time() + delay, str(error))

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)


def _digest(destination: Destination, deliveries: list[Delivery]) -> Digest:
    """The digest these deliveries (all of one digest key) make for `destination`."""
    period = destination.digest.split()[0] if destination.digest else ""
    headlines = [d.headline for d in deliveries]
    return digests.build(deliveries[0].digest, period, headlines, destination.regions)


def _describe(destination: Destination) -> str:
    chat = destination.chat
    title = f" ({chat.title})" if chat.title else ""
    thread = f" thread {chat.thread_id}" if chat.thread_id else ""
    return f"{chat.platform} chat {chat.chat_id}{thread}{title}"
