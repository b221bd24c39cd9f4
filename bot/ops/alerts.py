"""Alerts to the operator's chats: what needs a person, said once per incident, with one
message when it is over.

Each check reads what is wrong now (from the database, and from the platforms' health)
and makes the open alerts agree with it (`Storage.sync_alerts`): a condition that
appears opens an alert and queues its message to every alert chat, one that is gone
resolves it and queues the "resolved" message, in the same transaction. The state is in
the database, so a restart neither repeats an alert nor forgets one; the messages go
out through the outbox's sender, so none is lost either.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping

from bot.chat.i18n import tr
from bot.config import Config
from bot.ingest.poller import duration
from bot.ops.health import platform_part
from bot.ports import PlatformHealth
from bot.store import REMOVED_FROM_CONFIG, Alert, Storage
from bot.store.alerts import AlertKey

log = logging.getLogger(__name__)

# The kinds of alert, each with its subject: a feed's name, a platform, PLATFORM:CHAT.
FEED_FAILING = "feed_failing"
FEED_DISABLED = "feed_disabled"
FEED_IDS_CHANGED = "feed_ids_changed"
DESTINATION_INACTIVE = "destination_inactive"
PLATFORM = "platform"
BACKLOG = "backlog"
KINDS = (FEED_FAILING, FEED_DISABLED, FEED_IDS_CHANGED, DESTINATION_INACTIVE, PLATFORM, BACKLOG)

# Why a destination stops that is no one's problem: its own choice, or the config's.
QUIET_REASONS = (REMOVED_FROM_CONFIG, "unsubscribed")


class Alerts:
    """Checks what is wrong and keeps the alerts open for it. `platforms` gives each
    platform's health (None where the platforms are not known: then their alerts stay
    as they are)."""

    def __init__(
        self,
        storage: Storage,
        config: Config,
        platforms: Callable[[], Mapping[str, PlatformHealth]] | None = None,
    ) -> None:
        self.storage = storage
        self.config = config
        self.platforms = platforms

    async def check(self, now: float | None = None) -> tuple[list[Alert], list[Alert]]:
        """Open and resolve alerts as things are now; returns (opened, resolved)."""
        now = time.time() if now is None else now
        wanted = await self.conditions(now)
        if self.platforms is None:  # keep the platforms' alerts as they are
            for alert in await self.storage.open_alerts():
                if alert.kind == PLATFORM:
                    wanted[(alert.kind, alert.subject)] = alert.detail
        opened, resolved = await self.storage.sync_alerts(
            wanted, self.text, self.config.alerts.chats(), now
        )
        for alert in opened:
            log.warning("alert: %s", self.text(alert, "en"))
        for alert in resolved:
            log.info("alert: %s", self.text(alert, "en"))
        return opened, resolved

    async def conditions(self, now: float) -> dict[AlertKey, str]:
        """What needs a person now: (kind, subject) -> detail."""
        alerts = self.config.alerts
        wanted: dict[AlertKey, str] = {}
        for feed in await self.storage.feed_states():
            if self.config.feed(feed.name) is None:
                continue  # no longer in the config: nobody's concern
            if feed.disabled_reason:
                wanted[(FEED_DISABLED, feed.name)] = feed.disabled_reason
            # Failing until a poll succeeds, disabled or not: enabling it mends nothing yet.
            if feed.failing_since and now - feed.failing_since >= alerts.feed_failing_after:
                wanted[(FEED_FAILING, feed.name)] = feed.last_error
        for name, held in (await self.storage.held_counts()).items():
            if held:
                wanted[(FEED_IDS_CHANGED, name)] = str(held)
        for d in await self.storage.destinations():
            reason = d.inactive_reason
            if d.active or reason in QUIET_REASONS or reason.startswith("moved to "):
                continue
            wanted[(DESTINATION_INACTIVE, f"{d.chat.platform}:{d.chat.chat_id}")] = reason
        if self.platforms is not None:
            for platform, health in self.platforms().items():
                part = platform_part(health, now)
                if not part.ok:
                    wanted[(PLATFORM, platform)] = part.detail
        for platform, (pending, overdue) in (await self.storage.backlog(now)).items():
            if overdue >= alerts.backlog_after:
                wanted[(BACKLOG, platform)] = str(pending)
        return wanted

    def text(self, alert: Alert, language: str | None = None) -> str:
        """The alert's message (or its "resolved" one) in the bot's language."""
        language = language or self.config.language
        key = f"{'resolved' if alert.resolved else 'alert'}_{alert.kind}"
        return tr(
            language,
            key,
            subject=alert.subject,
            detail=alert.detail,
            after=duration(
                self.config.alerts.feed_failing_after
                if alert.kind == FEED_FAILING
                else self.config.alerts.backlog_after
            ),
        )
