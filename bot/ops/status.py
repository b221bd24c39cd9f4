"""What `status`, `status --json` and the alert chat's /status show: the same data, read
from the database, with stable keys for scripts."""

from __future__ import annotations

import contextlib
from typing import Any

from bot.chat.i18n import tr
from bot.config import Config
from bot.models import DeliveryStatus
from bot.ops.alerts import Alerts
from bot.roles import LEASE_TTL
from bot.store import DB_ERRORS, Storage, describe

# What `status` counts per destination (cancelled deliveries are not shown).
SHOWN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENT, DeliveryStatus.FAILED)


async def collect(storage: Storage, config: Config) -> dict[str, Any]:
    """Everything `status` shows. `health.ok` is false while the database cannot be
    written or any alert is open; `health.failing` names them."""
    with contextlib.suppress(*DB_ERRORS):  # the health says why
        await storage.probe()  # a write that changes nothing: can the bot write now?
    writable, error = storage.health.writable, storage.health.error
    held = await storage.held_counts()
    feeds = [
        {
            "name": s.name,
            "url": s.url,
            "configured": config.feed(s.name) is not None,
            "last_poll_at": s.last_poll_at,
            "last_success_at": s.last_success_at,
            "last_status": s.last_status,
            "last_error": s.last_error,
            "failures": s.failures,
            "failing_since": s.failing_since,
            "next_poll_at": s.next_poll_at,
            "disabled_reason": s.disabled_reason,
            "headlines": s.headlines,
            "held": held.get(s.name, 0),
            "poller": s.poller,
            "poll_lease": s.poll_lease,
        }
        for s in await storage.feed_states()
    ]
    counts = await storage.delivery_counts()
    destinations = [
        {
            "platform": d.chat.platform,
            "chat_id": d.chat.chat_id,
            "title": d.chat.title,
            "origin": "config" if d.from_config else "subscribed",
            "regions": list(d.regions),
            "active": d.active,
            "inactive_reason": d.inactive_reason,
            "deliveries": {s.value: counts.get(d.id, {}).get(s, 0) for s in SHOWN_STATUSES},
            "thread_id": d.chat.thread_id,
            "digest": d.digest,
            "held": counts.get(d.id, {}).get(DeliveryStatus.HELD, 0),
        }
        for d in await storage.destinations()
    ]
    alerts = [
        {"kind": a.kind, "subject": a.subject, "detail": a.detail, "opened": a.opened}
        for a in await storage.open_alerts()
    ]
    processes = await _processes(storage, feeds)
    failing = ([] if writable else ["database"]) + [f"{a['kind']}:{a['subject']}" for a in alerts]
    return {
        "health": {"ok": not failing, "failing": failing},
        "database": {"path": describe(config.database), "writable": writable, "error": error},
        "feeds": feeds,
        "destinations": destinations,
        "alerts": alerts,
        "processes": processes,
    }


async def _processes(storage: Storage, feeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bot processes on this database, most recently seen first: whether each is
    alive (seen within a lease's life), the roles it holds and the feeds it polls now."""
    now = await storage.database_now()
    roles: dict[str, list[str]] = {}
    for lease in await storage.leases():
        roles.setdefault(lease.holder, []).append(lease.name)
    polling: dict[str, list[str]] = {}
    for feed in feeds:
        if feed["poller"] and feed["poll_lease"] >= now:
            polling.setdefault(feed["poller"], []).append(feed["name"])
    return [
        {
            "id": p.id,
            "host": p.host,
            "pid": p.pid,
            "started": p.started,
            "last_seen": p.last_seen,
            "seconds_since_seen": max(0.0, now - p.last_seen),
            "alive": now - p.last_seen <= LEASE_TTL,
            "roles": roles.get(p.id, []),
            "polling": polling.get(p.id, []),
        }
        for p in await storage.processes()
    ]


async def summary(storage: Storage, config: Config, language: str) -> str:
    """The short status of the alert chat's /status, in `language`."""
    data = await collect(storage, config)
    database = data["database"]
    feeds = [f for f in data["feeds"] if f["configured"]]
    lines = [
        tr(
            language,
            "status_summary",
            database=tr(language, "database_ok")
            if database["writable"]
            else tr(language, "database_failing", error=database["error"]),
            feeds=len(feeds),
            failing=sum(1 for f in feeds if f["failures"] and not f["disabled_reason"]),
            disabled=sum(1 for f in feeds if f["disabled_reason"]),
            active=sum(1 for d in data["destinations"] if d["active"]),
            inactive=sum(1 for d in data["destinations"] if not d["active"]),
            pending=sum(d["deliveries"]["pending"] for d in data["destinations"]),
        )
    ]
    alerts = Alerts(storage, config)
    open_alerts = await storage.open_alerts()
    if open_alerts:
        lines.append(tr(language, "open_alerts"))
        lines += [f"- {alerts.text(a, language)}" for a in open_alerts]
    else:
        lines.append(tr(language, "no_alerts"))
    return "\n".join(lines)
