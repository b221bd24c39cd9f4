"""The bot's health as a supervisor asks for it (GET /healthz) and `status` shows it: the
database takes writes, the scheduler runs, and every platform is connected or still
within its reconnect window. A part that fails is named, with why."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from bot.ports import PlatformHealth

# A platform that lost its connection this recently is still healthy: reconnecting after
# a dropped connection or a network blip takes seconds, and a probe must not restart the
# bot for it. One paused (a token reset, a ban) is unhealthy at once.
RECONNECT_WINDOW = 120.0


@dataclass(frozen=True, slots=True)
class Part:
    ok: bool
    detail: str = ""


def platform_part(health: PlatformHealth, now: float) -> Part:
    if health.paused:
        return Part(False, f"paused: {health.paused}")
    if health.connected:
        return Part(True, "connected")
    if health.since and now - health.since < RECONNECT_WINDOW:
        return Part(True, f"reconnecting ({health.detail or 'disconnected'})")
    return Part(False, f"disconnected: {health.detail}" if health.detail else "disconnected")


def report(
    *,
    writable: bool,
    database_error: str,
    scheduler: bool,
    platforms: dict[str, PlatformHealth],
    now: float | None = None,
) -> dict[str, Any]:
    """The health as JSON-ready data: `ok`, the names of the `failing` parts, and each
    part's `ok` and `detail`. No secret is in it."""
    now = time.time() if now is None else now
    parts = {
        "database": Part(writable, "writable" if writable else f"cannot write: {database_error}"),
        "scheduler": Part(scheduler, "running" if scheduler else "not running"),
        **{f"platform:{name}": platform_part(h, now) for name, h in platforms.items()},
    }
    failing = [name for name, part in parts.items() if not part.ok]
    return {
        "ok": not failing,
        "failing": failing,
        "parts": {name: {"ok": p.ok, "detail": p.detail} for name, p in parts.items()},
    }
