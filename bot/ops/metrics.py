"""The bot's Prometheus metrics, through the official prometheus-client library.

`Metrics` is the `Observer` the core and the adapters report to as things happen (polls,
sends, 429s); what is a state rather than an event (the outbox's backlog, feeds failing,
destinations) is read from the database when /metrics is asked for. Each bot has its own
registry, not the library's global one, so that tests and several bots in one process do
not share counters. Labels are bounded: outcome kinds and platform names only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.ports import Observer
from bot.store import Storage

# How often the event loop's lag is measured: a sleep of this long that wakes late.
LAG_EVERY = 1.0


class Metrics(Observer):
    def __init__(self, platforms: Sequence[str] = ()) -> None:
        # The platforms the bot was built with: each gets its gauges, at 0 when idle.
        self.platforms = tuple(platforms)
        self.registry = registry = CollectorRegistry()
        self.polls = Counter(
            "headlines_polls",
            "Polls by outcome (error:KIND for a failure)",
            ["outcome"],
            registry=registry,
        )
        self.entries = Counter(
            "headlines_entries_stored", "New feed entries stored", registry=registry
        )
        self.poll_seconds = Histogram(
            "headlines_poll_duration_seconds",
            "One poll of one feed: fetch, parse and store",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
        self.feeds = Gauge(
            "headlines_feeds",
            "Feeds by state (ok, failing, disabled)",
            ["state"],
            registry=registry,
        )
        self.pending = Gauge(
            "headlines_outbox_pending",
            "Deliveries owed, per platform",
            ["platform"],
            registry=registry,
        )
        self.oldest = Gauge(
            "headlines_outbox_oldest_pending_seconds",
            "How long the most overdue pending delivery has been due, per platform",
            ["platform"],
            registry=registry,
        )
        self.deliveries = Counter(
            "headlines_deliveries",
            "Deliveries per platform by result (sent, failed, postponed)",
            ["platform", "result"],
            registry=registry,
        )
        self.rate_limits = Counter(
            "headlines_rate_limited", "429 answers per platform", ["platform"], registry=registry
        )
        self.retries = Counter(
            "headlines_send_retries",
            "Sends tried again after the platform asked to wait",
            ["platform"],
            registry=registry,
        )
        self.latency = Histogram(
            "headlines_publish_to_post_seconds",
            "From an entry's published time to the platform's acceptance",
            ["platform"],
            buckets=(10, 30, 60, 120, 300, 600, 1800, 3600, 3 * 3600, 12 * 3600, 86400),
            registry=registry,
        )
        self.destinations = Gauge(
            "headlines_destinations",
            "Destinations per platform by state (active, inactive)",
            ["platform", "state"],
            registry=registry,
        )
        self.roles = Gauge(
            "headlines_roles_held",
            "The roles this process wants (bot.roles): 1 where it holds the role's lease",
            ["role"],
            registry=registry,
        )
        self.worker_restarts = Counter(
            "headlines_parse_worker_restarts",
            "Parse worker pools replaced (recycled, or a worker died)",
            registry=registry,
        )
        self.loop_lag = Gauge(
            "headlines_event_loop_lag_seconds",
            f"How late a {LAG_EVERY:g}s sleep of the event loop last woke",
            registry=registry,
        )
        self._restarts_seen = 0
        self._lag_task: asyncio.Task[None] | None = None

    # -- the Observer: events as they happen ---------------------------------------------

    def polled(self, outcome: str, seconds: float, stored: int) -> None:
        self.polls.labels(outcome).inc()
        self.poll_seconds.observe(seconds)
        if stored:
            self.entries.inc(stored)

    def delivered(self, platform: str, count: int, published: Sequence[float]) -> None:
        self.deliveries.labels(platform, "sent").inc(count)
        now = time.time()
        latency = self.latency.labels(platform)
        for at in published:
            latency.observe(max(0.0, now - at))

    def delivery_failed(self, platform: str, result: str, count: int = 1) -> None:
        self.deliveries.labels(platform, result).inc(count)

    def rate_limited(self, platform: str) -> None:
        self.rate_limits.labels(platform).inc()

    def retried(self, platform: str) -> None:
        self.retries.labels(platform).inc()

    # -- states, read when asked -----------------------------------------------------------

    async def refresh(
        self,
        storage: Storage,
        worker_restarts: int = 0,
        roles: Mapping[str, bool] | None = None,
    ) -> None:
        """Read what the database holds now into the gauges, and whether this process
        holds each of the `roles` it wants."""
        for role, held in (roles or {}).items():
            self.roles.labels(role).set(1 if held else 0)
        states = {"ok": 0, "failing": 0, "disabled": 0}
        for feed in await storage.feed_states():
            state = "disabled" if feed.disabled_reason else "failing" if feed.failures else "ok"
            states[state] += 1
        for state, count in states.items():
            self.feeds.labels(state).set(count)
        counts: dict[tuple[str, str], int] = {
            (p, s): 0 for p in self.platforms for s in ("active", "inactive")
        }
        for d in await storage.destinations():
            key = (d.chat.platform, "active" if d.active else "inactive")
            counts[key] = counts.get(key, 0) + 1
        for (platform, state), count in counts.items():
            self.destinations.labels(platform, state).set(count)
        backlog = await storage.backlog(time.time())
        for platform in {*self.platforms, *backlog}:
            pending, overdue = backlog.get(platform, (0, 0.0))
            self.pending.labels(platform).set(pending)
            self.oldest.labels(platform).set(overdue)
        if worker_restarts > self._restarts_seen:
            self.worker_restarts.inc(worker_restarts - self._restarts_seen)
            self._restarts_seen = worker_restarts

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)

    # -- the event loop's lag --------------------------------------------------------------

    def start(self) -> None:
        self._lag_task = asyncio.create_task(self._watch_lag(), name="event loop lag")

    async def stop(self) -> None:
        if self._lag_task is not None:
            self._lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lag_task
            self._lag_task = None

    async def _watch_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_EVERY)
            self.loop_lag.set(max(0.0, loop.time() - before - LAG_EVERY))
