"""The bot's lifecycle: open storage, take roles, connect the platforms, poll, deliver.

Start-up takes the roles free in the database (bot.roles: all of them when this is the
only process) and connects the platforms it holds, together; then APScheduler ticks:
every second the due feeds are claimed and polled, every two seconds the roles are
renewed (a platform whose lease another process let run out is taken over). The outbox
sends for the platforms held. Shutdown runs in reverse, leaves unsent deliveries pending
and gives the roles back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.backoff import Backoff
from bot.chat.commands import Commands
from bot.config import Config, FeedConfig
from bot.ingest.fetcher import Fetcher
from bot.ingest.poller import Poller, PollResult
from bot.ingest.workers import Parsers
from bot.models import ChatRef
from bot.ops import health
from bot.ops.alerts import Alerts
from bot.ops.http import HttpServer
from bot.ops.metrics import Metrics
from bot.outbox.sender import Outbox
from bot.ports import NO_OBSERVER, Adapter, CannotStart, Paced, PlatformHealth, Sharded
from bot.roles import MAINTENANCE, RENEW_EVERY, Roles, shard_role, share_of
from bot.store import DB_ERRORS, Storage, is_postgres
from bot.store.destinations import SPLIT_INTO_THREADS
from bot.store.leases import new_process_id

log = logging.getLogger(__name__)

# Waits between tries to connect a platform that could not start: a network outage or a
# platform's bad minute must not keep the bot off it until someone restarts it.
RECONNECT_FIRST = 5.0
RECONNECT_MAX = 300.0
# How long a stop lets the polls in flight finish, alongside the outbox's sends: enough for
# a poll that has its feed to parse and store it. A poll still waiting on a slow server is
# ended; it stored nothing half-done, and runs again at the next start.
POLL_GRACE = 3.0
# While the database cannot be written, a small write tries it this often: when one
# succeeds, polls and sends resume by themselves.
PROBE_EVERY = 10.0
# How often due digests are looked for: a digest goes within a minute of its time.
DIGEST_CHECK_EVERY = 60.0
# How often the operator's alerts are checked (bot.ops.alerts).
ALERTS_EVERY = 30.0
# How often due feeds are looked for: a feed is polled within a second of its time.
POLL_TICK = 1.0
# What a process taking a platform over is told was sent lately: the longest window a
# platform counts in (a Telegram group's minute).
PRIME_WINDOW = 60.0


class HeadlinesBot:
    def __init__(
        self,
        config: Config,
        adapters: Sequence[Adapter] = (),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.adapters = list(adapters)
        self.clock = clock  # when digests fall due: tests move it
        self._scheduler: AsyncIOScheduler | None = None
        self._outbox_task: asyncio.Task[None] | None = None
        self._started: list[Adapter] = []
        self._reconnects: dict[str, asyncio.Task[None]] = {}  # by platform
        self.process = new_process_id()  # this process's name in the database
        self._roles: Roles | None = None
        self._holders: dict[str, str] = {}  # the leases held now, by role: by whom
        self._unheld_since: dict[str, float] = {}  # platforms no process holds, since
        self._feeds = {f.name: f for f in config.feeds}
        self._beats: asyncio.Task[None] | None = None
        self._stopping = False
        self._poll_ended = asyncio.Event()  # a poll poll_due started has ended
        self._maintenance = False
        self._wanted: list[str] = []  # the roles asked for at the last beat
        self._shards_run: dict[str, frozenset[int]] = {}  # by platform: what runs here
        self._jobs: dict[str, asyncio.Task[object]] = {}  # scheduled work running, by name
        self._resources = contextlib.AsyncExitStack()  # what open() opened, to close
        # Operations (issue 11): metrics when something can read them, the HTTP listener,
        # and the platforms that are not connected: since when, and why.
        self.metrics = Metrics(tuple(config.platforms)) if config.http.listen else None
        self.observer = self.metrics or NO_OBSERVER
        for adapter in self.adapters:
            adapter.observer = self.observer
        self.http: HttpServer | None = None
        self._down: dict[str, tuple[float, str]] = {}

    async def open(self, *, sender: bool = True) -> None:
        """Open storage and make it agree with the config; connects to nothing. As a
        `sender` (a bot that may deliver), refuse an SQLite file another bot uses."""
        self.storage = await Storage.open(self.config.database)
        self._resources.push_async_callback(self.storage.close)
        if sender:
            await self.storage.claim_sender()
            if not is_postgres(self.config.database):
                # The file's lock says no other bot runs on it: what a killed one held (its
                # roles, its polls) is free at once, not when its leases run out.
                await self.storage.forget_processes()
        self._roles = Roles(self.storage, self.process)
        await self.storage.sync_feeds(self.config.feeds)
        for platform, destinations in self.config.destinations().items():
            for d in await self.storage.sync_destinations(platform, destinations):
                # A chat split into topics receives through them: nothing to warn of.
                if d.from_config and not d.active and d.inactive_reason != SPLIT_INTO_THREADS:
                    log.warning(
                        "bot: %s chat %s from the config receives nothing: %s "
                        "(`enable %s:%s` or /subscribe there resumes it)",
                        platform,
                        d.chat.chat_id,
                        d.inactive_reason,
                        platform,
                        d.chat.chat_id,
                    )
        self.commands = Commands(
            self.storage,
            tuple(f.name for f in self.config.feeds),
            self.config.language,
            clock=self.clock,
            adapters={a.platform: a for a in self.adapters},
            config=self.config,
        )
        fetch = self.config.fetch
        self.fetcher = Fetcher(
            timeout=fetch.timeout,
            max_bytes=fetch.max_bytes,
            user_agent=fetch.user_agent,
            concurrency=fetch.concurrency,
        )
        self._resources.push_async_callback(self.fetcher.close)
        self.parsers = Parsers(fetch.parse_workers)
        self._resources.push_async_callback(self.parsers.close)
        self.poller = Poller(
            self.config, self.storage, self.fetcher, self.parsers, process=self.process
        )
        self.alerts = Alerts(
            self.storage,
            self.config,
            lambda: {a.platform: self.platform_health(a) for a in self.adapters},
        )
        self.outbox = Outbox(
            self.storage,
            {a.platform: a for a in self.adapters},
            language=self.config.language,
            observer=self.observer,
            sending=self.holds,
        )

    @property
    def roles(self) -> Roles:
        assert self._roles is not None, "open() first"
        return self._roles

    def holder(self, role: str) -> str:
        """The process holding `role` at the last beat ("" if none)."""
        return self._holders.get(role, "")

    def holds(self, platform: str) -> bool:
        """Whether this process sends for `platform` now (it holds the platform's role)."""
        return self._roles is not None and self._roles.holds(platform)

    async def start(self) -> None:
        """Open, take the free roles and connect the platforms held, then poll on
        schedule, deliver continuously, and take over the roles other processes drop."""
        await self.open()
        await self.connect(retry=True, maintenance=True)
        await self.split_configured_chats()
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        now = datetime.now().astimezone()
        self._scheduler.add_job(
            self._in_background,
            IntervalTrigger(seconds=POLL_TICK),
            args=["poll the due feeds", self.poll_due],
            id="poll",
            name="poll the due feeds",
            coalesce=True,
            next_run_time=now,
        )
        if self.config.keep_days:
            self._scheduler.add_job(
                self._in_background,
                IntervalTrigger(hours=6),
                args=["forget old headlines", self._maintain, self.forget_old],
                id="forget",
                name="forget old headlines",
                coalesce=True,
                next_run_time=now + timedelta(minutes=1),
            )
        self._scheduler.add_job(
            self._in_background,
            IntervalTrigger(seconds=PROBE_EVERY),
            args=["probe the database", self.probe_storage],
            id="probe",
            name="try writing the database while it cannot be written",
            coalesce=True,
        )
        # Digests: every minute, those due are queued (at once too, for those that fell
        # due while the bot was down).
        self._scheduler.add_job(
            self._in_background,
            IntervalTrigger(seconds=DIGEST_CHECK_EVERY),
            args=["queue due digests", self._maintain, self.queue_digests],
            id="digests",
            name="queue due digests",
            coalesce=True,
            next_run_time=now,
        )
        self._scheduler.add_job(
            self._in_background,
            IntervalTrigger(seconds=ALERTS_EVERY),
            args=["check the alerts", self._maintain, self.check_alerts],
            id="alerts",
            name="check the operator's alerts",
            coalesce=True,
        )
        self._scheduler.start()
        self._outbox_task = asyncio.create_task(self.outbox.run(), name="outbox")
        await self._listen()
        log.info(
            "bot: running with %d feeds and %s (process %s)",
            len(self.config.feeds),
            ", ".join(a.platform for a in self._started) or "no platform",
            self.process,
        )

    async def connect(self, *, retry: bool = False, maintenance: bool = False) -> None:
        """Take the roles no other process holds (bot.roles) and start the adapters of the
        platforms taken, together; from then on, until stop(), renew the roles and take
        over those that others drop. With `maintenance`, the jobs that run once among
        the processes are wanted too. See `_start` for `retry`."""
        self._maintenance = maintenance
        gained, _ = await self._beat()
        # Beating from now on: connecting may take longer than a lease lasts.
        self._beats = asyncio.create_task(self._keep_roles(), name="roles")
        taken = [a for a in self.adapters if a.platform in gained]
        for adapter in taken:
            await self._prime(adapter)
        await self._start(taken, retry=retry)
        for adapter in self._sharded():
            await self._run_shards(adapter)

    async def _keep_roles(self) -> None:
        while True:
            await asyncio.sleep(RENEW_EVERY)
            try:
                await self.coordinate()
            except Exception:
                log.exception("roles: a beat failed; trying again")

    async def _start(self, adapters: Sequence[Adapter], *, retry: bool) -> None:
        """Start `adapters` together. One that cannot start is logged and left out (its
        deliveries wait in the outbox); with `retry`, it is tried again in the background
        until it starts. `CannotStart` (a rejected token) is raised: no retry can mend it."""
        results = await asyncio.gather(
            *(adapter.start(self.commands.handle) for adapter in adapters),
            return_exceptions=True,
        )
        fatal: BaseException | None = None
        for adapter, result in zip(adapters, results, strict=True):
            if result is None:
                self._started.append(adapter)  # so that stop() disconnects it, whatever else
                self._down.pop(adapter.platform, None)
            elif isinstance(result, CannotStart | asyncio.CancelledError):
                fatal = fatal or result
            else:
                self._down[adapter.platform] = (time.time(), f"could not start: {result}")
                log.error("bot: %s could not start: %s", adapter.platform, result)
                if retry:
                    self._retry(adapter, RECONNECT_FIRST)
        if fatal is not None:
            raise fatal

    def _retry(self, adapter: Adapter, first_wait: float) -> None:
        """Keep trying to start `adapter` in the background, the first time in `first_wait`s."""
        task = asyncio.create_task(self._reconnect(adapter, first_wait))
        self._reconnects[adapter.platform] = task
        task.add_done_callback(
            lambda t: (
                self._reconnects.pop(adapter.platform, None)
                if self._reconnects.get(adapter.platform) is t
                else None
            )
        )

    # -- roles: what this process does among those sharing the database (bot.roles) ---

    def _sharded(self) -> list[Sharded]:
        """The adapters whose updates come over several shards."""
        return [a for a in self.adapters if isinstance(a, Sharded) and a.shard_count > 1]

    def _wanted_roles(self, live: int) -> list[str]:
        wanted = [a.platform for a in self.adapters] + ([MAINTENANCE] if self._maintenance else [])
        busy = frozenset(r for r, who in self._holders.items() if who != self.process)
        for adapter in self._sharded():
            shards = [shard_role(adapter.platform, k) for k in range(adapter.shard_count)]
            wanted += share_of(shards, self.roles.held, busy, live, self.process)
        return wanted

    async def coordinate(self) -> None:
        """One beat of the roles, then what it changed, in the background (a beat must
        never wait for a platform to connect, or its leases could run out meanwhile):
        platforms taken over are connected, those lost disconnected, shards run again."""
        gained, lost = await self._beat()
        for adapter in self.adapters:
            if adapter.platform in lost:
                await self._in_background(
                    f"disconnect {adapter.platform}", self._disconnect, adapter
                )
            elif adapter.platform in gained:
                log.info("bot: taking over %s", adapter.platform)
                await self._prime(adapter)
                self._retry(adapter, 0.0)
        for adapter in self._sharded():
            if self._held_shards(adapter) != self._shards_run.get(adapter.platform):
                # One run at a time per platform; a run sees changes made while it ran.
                name = f"shards {adapter.platform}"
                await self._in_background(name, self._run_shards, adapter)
        if gained:
            self.outbox.wake()

    async def _beat(self) -> tuple[frozenset[str], frozenset[str]]:
        """Renew the roles and take those free and wanted; the roles gained and lost."""
        live = 1
        if self._sharded():
            with contextlib.suppress(*DB_ERRORS):  # as if alone: the beat says why
                live = await self.storage.live_processes(2 * RENEW_EVERY + 1)
        self._wanted = self._wanted_roles(live)
        gained, lost = await self.roles.beat(self._wanted)
        with contextlib.suppress(*DB_ERRORS):  # else kept from the last beat
            self._holders = {lease.name: lease.holder for lease in await self.storage.leases()}
        now = time.time()
        for adapter in self.adapters:
            if adapter.platform in self._holders:
                self._unheld_since.pop(adapter.platform, None)
            else:
                self._unheld_since.setdefault(adapter.platform, now)
        return gained, lost

    async def _prime(self, adapter: Adapter) -> None:
        """Tell an adapter that paces by what it sent lately what was sent from its
        platform in the last PRIME_WINDOW seconds, by whichever process held it."""
        if not isinstance(adapter, Paced):
            return
        try:
            sent = await self.storage.recent_sends(adapter.platform, time.time() - PRIME_WINDOW)
        except DB_ERRORS as error:
            log.warning("bot: %s paces from scratch: %s", adapter.platform, error)
            return
        adapter.prime(sent)

    def _held_shards(self, adapter: Sharded) -> frozenset[int]:
        return frozenset(
            k
            for k in range(adapter.shard_count)
            if shard_role(adapter.platform, k) in self.roles.held
        )

    async def _run_shards(self, adapter: Sharded) -> None:
        """Run the shards whose leases this process holds, until what runs is what is
        held (the leases may change while shards connect)."""
        while (held := self._held_shards(adapter)) != self._shards_run.get(adapter.platform):
            self._shards_run[adapter.platform] = held
            try:
                await adapter.run_shards(self.commands.handle, held)
            except Exception as error:
                # Its leases are kept: the adapter keeps trying a shard that dropped.
                log.error(
                    "bot: %s shards %s could not all start: %s",
                    adapter.platform,
                    sorted(held),
                    error,
                )

    async def _disconnect(self, adapter: Adapter) -> None:
        """Another process holds `adapter`'s platform now: stop reading and sending."""
        task = self._reconnects.pop(adapter.platform, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if adapter in self._started:
            self._started.remove(adapter)
            try:
                await adapter.stop()
            except Exception:
                log.exception("bot: %s did not stop cleanly", adapter.platform)

    async def _maintain(self, work: Callable[[], Coroutine[object, object, object]]) -> None:
        """Run a job that must run in one process only: the one holding "maintenance"."""
        if self.roles.holds(MAINTENANCE):
            await work()

    async def split_configured_chats(self) -> None:
        """Config destinations with `topics = true` that still receive as a whole are split
        into one thread per region, as /subscribe topics does; once split (or stopped by
        /unsubscribe) they are left as they are at the next start."""
        for platform, configured in self.config.destinations().items():
            for d in configured:
                if not d.topics:
                    continue
                destination = await self.storage.destination(ChatRef(platform, d.chat_id))
                if destination is None or not destination.active:
                    continue
                language = d.language or self.config.language
                try:
                    count = await self.commands.split_into_topics(destination.chat, language)
                except Exception as error:
                    log.warning(
                        "bot: %s chat %s is not split into topics: %s", platform, d.chat_id, error
                    )
                    continue
                log.info("bot: %s chat %s posts into %d topics", platform, d.chat_id, count)

    async def _reconnect(self, adapter: Adapter, first_wait: float) -> None:
        retry = Backoff(RECONNECT_FIRST, RECONNECT_MAX)
        delay = first_wait
        while True:
            await asyncio.sleep(delay)
            try:
                await adapter.start(self.commands.handle)
            except CannotStart as error:
                log.error(
                    "bot: %s cannot start and will not be retried: %s", adapter.platform, error
                )
                self._down[adapter.platform] = (0.0, f"cannot start: {error}")
                return
            except Exception as error:
                since = self._down.get(adapter.platform, (time.time(), ""))[0]
                self._down[adapter.platform] = (since, f"could not start: {error}")
                delay = retry.next()
                log.warning(
                    "bot: %s still cannot start (%s); next try in %.0fs",
                    adapter.platform,
                    error,
                    delay,
                )
                continue
            self._started.append(adapter)
            self._down.pop(adapter.platform, None)
            log.info("bot: %s connected", adapter.platform)
            self.outbox.wake()
            return

    async def _in_background(
        self, name: str, work: Callable[..., Coroutine[object, object, object]], *args: object
    ) -> None:
        """A scheduled job: start `work(*args)` as the bot's own task, unless the last one
        of that name is still running. The scheduler's shutdown cancels the jobs it is
        running and logs each as failed; the bot's own tasks stop() can wait for, or end."""
        if self._stopping:
            return  # a job that was running when the stop began starts nothing more
        if name in self._jobs:
            log.debug("bot: %s is still running; skipped this turn", name)
            return
        task: asyncio.Task[object] = asyncio.create_task(work(*args), name=name)
        self._jobs[name] = task
        task.add_done_callback(lambda _: self._jobs.pop(name, None))

    async def poll_due(self) -> None:
        """Claim the feeds due now that no process polls and poll them in the background:
        as many at a time as there is room for beside the polls in flight (twice
        `fetch.concurrency`, so that fetched bodies do not wait in memory for the
        parser), claiming more as polls end, until none is due. The scheduler's tick
        starts it again."""
        # The health says once a minute why nothing is polled while it cannot write.
        while not self._stopping and self.storage.health.writable:
            self._poll_ended.clear()
            polling = sum(name.startswith("poll ") for name in self._jobs)
            room = 2 * self.config.fetch.concurrency - polling
            if room <= 0:
                await self._poll_ended.wait()
                continue
            claimed = await self.storage.claim_due_feeds(
                self.process, self.poller.claim_ttl, time.time(), room
            )
            for name in claimed:
                if name not in self._feeds:
                    # Polled by the processes whose config still names it, if any.
                    await self.storage.update_feed(
                        name, poller="", poll_lease=0.0, next_poll_at=time.time() + 3600
                    )
                    continue
                await self._in_background(f"poll {name}", self._poll_claimed, name)
            if len(claimed) < room:
                return

    async def _poll_claimed(self, name: str) -> None:
        try:
            await self.poll_feed(name, claimed=True)
        finally:
            self._poll_ended.set()  # room for another

    async def poll_feed(
        self, name: str, *, force: bool = False, claimed: bool = False
    ) -> PollResult:
        """Poll `name` if it is due (or `force`), unless another process polls it now;
        `claimed`: this process claimed it already."""
        feed = self._feeds.get(name)
        if feed is None:
            raise KeyError(name)
        began = time.perf_counter()
        result = await self._poll_feed(feed, force, claimed)
        if result.outcome != "not due":
            outcome = f"error:{result.error or 'other'}" if result.error else result.outcome
            self.observer.polled(outcome, time.perf_counter() - began, result.new)
        return result

    async def _poll_feed(self, feed: FeedConfig, force: bool, claimed: bool) -> PollResult:
        name = feed.name
        health = self.storage.health
        if not health.writable:
            # What it found could not be stored; the health says why, once a minute.
            return PollResult(
                name, "failed", detail=f"not polled: {health.describe()}", error="storage"
            )
        try:
            result = await self.poller.poll(feed, force=force, claimed=claimed)
        except Exception as error:
            if isinstance(error, DB_ERRORS) and not health.writable:
                return PollResult(name, "failed", detail=health.describe(), error="storage")
            # A poll must never take the scheduler down; the next one tries again.
            log.exception("poller: unexpected error polling %s", name)
            return PollResult(
                name, "failed", detail="unexpected error, see the log", error="internal"
            )
        if result.deliveries:
            self.outbox.wake()
        return result

    async def poll_all(self, *, force: bool = True) -> list[PollResult]:
        """Poll every feed once, concurrently. Fetches are faster than parsing: at most
        twice `fetch.concurrency` feeds are between fetch and store at a time, so that a
        thousand fetched bodies do not wait in memory for their turn to be parsed."""
        slots = asyncio.Semaphore(2 * self.config.fetch.concurrency)

        async def poll(name: str) -> PollResult:
            async with slots:
                return await self.poll_feed(name, force=force)

        return list(await asyncio.gather(*(poll(f.name) for f in self.config.feeds)))

    async def probe_storage(self) -> None:
        """While the database cannot be written, try a small write; once one succeeds,
        sends resume at once (and polls at their next turn)."""
        if self.storage.health.writable:
            return
        try:
            await self.storage.probe()
        except DB_ERRORS:
            return  # the health logs it, once a minute
        self.outbox.wake()

    async def queue_digests(self, now: float | None = None) -> int:
        """Queue the digests due by `now` (default: the bot's clock) in the outbox; how many."""
        if not self.storage.health.writable:
            return 0
        try:
            queued = await self.storage.queue_due_digests(self.clock() if now is None else now)
        except Exception:
            log.exception("digest: could not queue the due digests; trying again later")
            return 0
        if queued:
            log.info("digest: %d digests queued", queued)
            self.outbox.wake()
        return queued

    async def forget_old(self) -> int:
        """Keep the archive to `keep_days`: what the feeds stopped listing long ago goes."""
        if not self.storage.health.writable:
            return 0
        try:
            gone = await self.storage.forget(time.time() - self.config.keep_days * 86400)
        except Exception:
            log.exception("storage: could not forget old headlines; trying again later")
            return 0
        if gone:
            log.info("storage: forgot %d headlines older than %d days", gone, self.config.keep_days)
        return gone

    # -- operations: health and metrics (issue 11) --------------------------------------

    async def _listen(self) -> None:
        """Serve /healthz and /metrics when `[http] listen` says where."""
        if self.metrics is None:
            return
        self.metrics.start()
        server = HttpServer(self.config.http, self.health, self.metrics_text)
        try:
            await server.start()
        except OSError as error:
            # The bot's job goes on; a probe that finds nothing there says the rest.
            log.error("http: cannot listen on %s: %s", self.config.http.listen, error)
            return
        self.http = server

    async def check_alerts(self) -> None:
        """Open and resolve the operator's alerts; their messages go out at once."""
        if not self.storage.health.writable:
            return  # the database's own error says it; alerts resume with the writes
        try:
            opened, resolved = await self.alerts.check()
        except DB_ERRORS:
            if self.storage.health.writable:
                log.exception("alerts: could not check the alerts; trying again later")
            return
        if opened or resolved:
            self.outbox.wake()

    def platform_health(self, adapter: Adapter) -> PlatformHealth:
        if adapter in self._started:
            return adapter.health()
        holder = self._holders.get(adapter.platform, "")
        if holder and holder != self.process:
            return PlatformHealth(True, detail=f"connected in process {holder}")
        if adapter.platform in self._unheld_since and adapter.platform not in self._down:
            since = self._unheld_since[adapter.platform]
            return PlatformHealth(False, since, detail="no process holds it")
        since, why = self._down.get(adapter.platform, (0.0, "not started"))
        return PlatformHealth(False, since, detail=why)

    async def health(self) -> dict[str, object]:
        """The health report of /healthz (bot.ops.health). The database is tried with a
        write that changes nothing, so that the answer is about now."""
        with contextlib.suppress(*DB_ERRORS):
            await self.storage.probe()  # its health records how it went
        scheduler = self._scheduler is not None and self._scheduler.running
        return health.report(
            writable=self.storage.health.writable,
            database_error=self.storage.health.error,
            scheduler=scheduler,
            platforms={a.platform: self.platform_health(a) for a in self.adapters},
        )

    async def metrics_text(self) -> bytes:
        assert self.metrics is not None
        roles = {role: self.roles.holds(role) for role in self._wanted}
        await self.metrics.refresh(self.storage, self.parsers.restarts, roles)
        return self.metrics.exposition()

    async def stop(self) -> None:
        """Stop polling, let polls and sends in flight finish (for a bounded time),
        disconnect, close the database."""
        self._stopping = True
        if self.http is not None:
            await self.http.stop()
            self.http = None
        if self.metrics is not None:
            await self.metrics.stop()
        if self._scheduler is not None:
            # Paused, then one turn of the loop: a job the scheduler has just started runs
            # its only step (starting a task) rather than being cancelled by the shutdown.
            self._scheduler.pause()
            await asyncio.sleep(0)
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        if self._beats is not None:
            self._beats.cancel()
            await asyncio.gather(self._beats, return_exceptions=True)
            self._beats = None
        for task in list(self._reconnects.values()):
            task.cancel()
        await asyncio.gather(*self._reconnects.values(), return_exceptions=True)
        await asyncio.gather(self._stop_jobs(), self._stop_outbox())
        # A sharded platform may run shards here without being started itself.
        sharded = [a for a in self.adapters if isinstance(a, Sharded) and a.shard_count > 1]
        for adapter in [*reversed(self._started), *(a for a in sharded if a not in self._started)]:
            try:
                await adapter.stop()
            except Exception:
                log.exception("bot: %s did not stop cleanly", adapter.platform)
        self._started.clear()
        if self._roles is not None:
            await self._roles.release()  # the others take over at their next beat
        await self.close()

    async def _stop_jobs(self) -> None:
        # A job (the due feeds') may start others while it ends: wait for those too.
        deadline = time.monotonic() + POLL_GRACE
        while self._jobs:
            jobs = list(self._jobs.values())
            _, late = await asyncio.wait(jobs, timeout=max(0.0, deadline - time.monotonic()))
            for task in late:
                log.info("bot: %s ended by the stop", task.get_name())
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _stop_outbox(self) -> None:
        if self._outbox_task is not None:
            await self.outbox.stop()
            self._outbox_task.cancel()
            await asyncio.gather(self._outbox_task, return_exceptions=True)
            self._outbox_task = None

    async def close(self) -> None:
        await self._resources.aclose()

    async def run_until_signal(self) -> None:
        """Run until SIGINT or SIGTERM, then stop cleanly."""
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await self.start()
            await stopping.wait()
            log.info("bot: stopping")
        finally:
            await self.stop()
