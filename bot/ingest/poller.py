"""One poll of one feed: fetch politely, parse off the event loop, store what is new.

Politeness lives here: a feed is polled no more often than its interval, or than it asks
(ttl, sy:updatePeriod, Cache-Control max-age, Retry-After); a failing feed backs off
exponentially and is disabled, with the reason stored and logged, after too many failures.
A poll is claimed in the database first, so that processes sharing one poll each feed as
often as one process would.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from bot.backoff import backoff
from bot.config import Config, FeedConfig
from bot.ingest.fetcher import Fetcher, FetchError, redact_url
from bot.ingest.workers import Parsers
from bot.models import ParseError
from bot.store import DB_ERRORS, FeedState, Storage
from bot.store.leases import new_process_id

log = logging.getLogger(__name__)

# A feed may ask for less frequent polls, but not for fewer than one a day.
MAX_HINTED_INTERVAL = 24 * 3600
# Seconds a poll's claim lasts beyond its fetches: to parse and store what it found. One
# that outlasts its claim is polled a second time by another process, which costs the
# feed's server a request and stores nothing twice.
CLAIM_SLACK = 15.0


@dataclass(frozen=True, slots=True)
class PollResult:
    feed: str
    outcome: str  # "new", "unchanged", "first", "failed", "disabled", "not due"
    entries: int = 0
    new: int = 0
    deliveries: int = 0
    detail: str = ""
    error: str = ""  # a failure's kind: the fetch's ("timeout", "http"...), "parse", "storage"

    def describe(self) -> str:
        """One line for a person: what this poll did and why."""
        match self.outcome:
            case "first":
                return (
                    f"{self.feed}: first poll, {self.new} entries stored as already seen, "
                    f"{self.deliveries} deliveries queued (newest `backfill` only)"
                )
            case "new":
                return (
                    f"{self.feed}: {self.entries} entries, {self.new} new, "
                    f"{self.deliveries} deliveries queued"
                )
            case "unchanged":
                return f"{self.feed}: not modified ({self.detail})"
            case _:
                return f"{self.feed}: {self.outcome}" + (f" ({self.detail})" if self.detail else "")


class Poller:
    def __init__(
        self,
        config: Config,
        storage: Storage,
        fetcher: Fetcher,
        parsers: Parsers,
        process: str = "",
    ) -> None:
        self.config = config
        self.storage = storage
        self.fetcher = fetcher
        self.parsers = parsers
        self.process = process or new_process_id()  # whose claim a poll is
        # A poll's claim outlasts its fetch (the timeout, twice: the fetch may wait for a
        # connection slot first) by CLAIM_SLACK.
        self.claim_ttl = 2 * config.fetch.timeout + CLAIM_SLACK

    async def poll(
        self, feed: FeedConfig, *, force: bool = False, claimed: bool = False
    ) -> PollResult:
        """Poll `feed` if it is due (or `force`) and no other process polls it now, and
        record how it went. `claimed`: this process claimed it (claim_due_feeds)."""
        state = await self.storage.feed_state(feed.name)
        now = time.time()
        if not claimed:
            if state.disabled_reason:
                return PollResult(feed.name, "disabled", detail=state.disabled_reason)
            if not force and state.next_poll_at > now:
                wait = duration(state.next_poll_at - now)
                return PollResult(feed.name, "not due", detail=wait)
            # Another process may have read it due too: the claim lets one of them poll.
            due_by = None if force else now
            if not await self.storage.claim_feed(feed.name, self.process, self.claim_ttl, due_by):
                return PollResult(feed.name, "not due", detail="another process polls it")
        try:
            return await self._poll(feed, state, now)
        except (FetchError, ParseError) as error:
            return await self._failed(feed, state, now, error)
        except Exception:
            # A bug: the claim is given back for the next turn rather than left to run out.
            with contextlib.suppress(*DB_ERRORS):
                await self.storage.update_feed(feed.name, poller="", poll_lease=0.0)
            raise

    async def _poll(self, feed: FeedConfig, state: FeedState, now: float) -> PollResult:
        fetched = await self.fetcher.fetch(state.url, state.etag, state.last_modified)
        url = fetched.moved_to or state.url
        if fetched.moved_to:
            log.info("poller: %s moved permanently to %s", feed.name, redact_url(fetched.moved_to))
        if fetched.status == 304:
            await self._succeeded(feed, state, now, "304 not modified", url, fetched.max_age)
            return PollResult(feed.name, "unchanged", detail="304")
        parsed = await self.parsers.parse(fetched.body, feed, url=fetched.url)
        if parsed.bozo:
            log.info("poller: %s is malformed but readable: %s", feed.name, parsed.bozo)
        stored = await self.storage.add_headlines(
            feed.name,
            parsed.headlines,
            backfill=self.config.backfill,
            max_per_poll=self.config.max_posts_per_poll,
            release_every=feed.interval,
            max_age=self.config.max_age_hours * 3600,
            now=now,
        )
        hinted = max(parsed.hints.ttl, parsed.hints.update_period, fetched.max_age)
        if stored.first_run:
            # Say why nothing was posted: the most asked question about feed bots.
            status = (
                f"200, first poll: {len(stored.new)} entries stored as already seen, "
                f"{stored.deliveries} deliveries (backfill {self.config.backfill})"
            )
        else:
            status = f"200, {len(parsed.headlines)} entries, {len(stored.new)} new"
        await self._succeeded(
            feed,
            state,
            now,
            status,
            url,
            hinted,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
        )
        outcome = "first" if stored.first_run else "new"
        if stored.held:
            log.warning(
                "poller: %s lists %d entries never seen, in place of those it had: its ids "
                "changed; %d held, not posted, until `enable %s` (or /release) releases them",
                feed.name,
                len(stored.new),
                stored.held,
                feed.name,
            )
        elif stored.new:
            log.info(
                "poller: %s: %d new, %d deliveries", feed.name, len(stored.new), stored.deliveries
            )
        return PollResult(
            feed.name, outcome, len(parsed.headlines), len(stored.new), stored.deliveries
        )

    async def _succeeded(
        self,
        feed: FeedConfig,
        state: FeedState,
        now: float,
        status: str,
        url: str,
        hinted: int,
        **validators: str,
    ) -> None:
        min_interval = min(hinted, MAX_HINTED_INTERVAL)
        interval = max(feed.interval, min_interval)
        await self.storage.update_feed(
            feed.name,
            url=url,
            last_poll_at=now,
            last_success_at=now,
            last_status=status,
            last_error="",
            failures=0,
            failing_since=0.0,
            min_interval=min_interval,
            next_poll_at=now + interval,
            poller="",
            poll_lease=0.0,
            **validators,
        )

    async def _failed(
        self, feed: FeedConfig, state: FeedState, now: float, error: Exception
    ) -> PollResult:
        failures = state.failures + 1
        fetch = self.config.fetch
        delay = backoff(failures - 1, feed.interval, fetch.max_backoff, jitter=0)
        delay = max(delay, getattr(error, "retry_after", 0.0))
        disabled = ""
        if failures >= fetch.max_failures:
            disabled = f"disabled after {failures} consecutive failures; last: {error}"
            log.error("poller: %s %s", feed.name, disabled)
        else:
            log.warning(
                "poller: %s failed (%d in a row), next try in %s: %s",
                feed.name,
                failures,
                duration(delay),
                error,
            )
        await self.storage.update_feed(
            feed.name,
            last_poll_at=now,
            last_status="failed",
            last_error=str(error),
            failures=failures,
            failing_since=state.failing_since or now,
            next_poll_at=now + delay,
            disabled_reason=disabled,
            poller="",
            poll_lease=0.0,
        )
        kind = getattr(error, "kind", "parse")
        return PollResult(
            feed.name, "disabled" if disabled else "failed", detail=str(error), error=kind
        )


def duration(seconds: float) -> str:
    """90 -> '90s', 600 -> '10min', 9000 -> '2.5h'."""
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.1f}h"
