"""What every request discord.py makes passes through: the pacer that keeps the bot below
Discord's global limit, the pause for answers about the bot as a whole, and the filter that
keeps tokens out of the logs."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any

import aiohttp
from discord.http import Route

from adapters.discord.config import TOKEN_ENV
from adapters.discord.limits import LONGEST_WAIT, UNAUTHORIZED_PAUSE
from bot.ports import NO_OBSERVER, Observer, RetryAfter

log = logging.getLogger(__name__)

# Discord allows 50 requests/s. The margin is for requests that the event loop or the
# network holds up between the pacer and Discord's counter, so that they arrive closer
# together than they left (at 48/s the benchmark's fake now and then counted 51 in a second).
REQUESTS_PER_SECOND = 47.0


class RedactTokens(logging.Filter):
    """Takes secrets out of log records. discord.py logs request URLs and gateway events
    at DEBUG, and an interaction's callback and follow-up URLs and its INTERACTION_CREATE
    carry its token (good for 15 minutes, for answering as the bot)."""

    PATTERNS = (
        (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"), r"\1[token]"),
        (re.compile(r"""(['"]token['"]:\s*['"])[^'"]+"""), r"\1[token]"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()  # the bot tokens in use

    def redact(self, text: str) -> str:
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        for secret in self.secrets:
            text = text.replace(secret, "[bot token]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted here, so that what handlers print is the redacted text.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True

    def install(self) -> None:
        """On discord.py's loggers and ours (a filter on a logger sees only its own
        records, not those of the loggers below it)."""
        ours = __name__.rpartition(".")[0]  # adapters.discord, whose modules all log
        names = [
            n
            for n in logging.root.manager.loggerDict
            if n.split(".")[0] == "discord" or n.startswith(ours + ".")
        ]
        for name in [*names, "discord", __name__]:
            logging.getLogger(name).addFilter(self)


REDACT = RedactTokens()


class RequestPacer:
    """Lets REST requests leave at most `rate` per second, evenly spaced.

    Each request takes the slot one interval after the previous one's, or now if that has
    passed, and only once the previous request has left: a late wake-up does not push the
    schedule back (no drift), and after the event loop stalled, one request leaves at once
    and the rest keep their spacing (no catch-up burst). So any 51 consecutive requests
    span at least 49 intervals (above a second at 47/s: 1.04 s). It runs as an
    aiohttp trace hook, after discord.py's own per-channel wait, right before a request
    is sent. Interaction responses are exempt, as on Discord: an answer to a user must
    not queue behind a large fan-out, and it has its own 3-second deadline.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._lock = asyncio.Lock()
        self._next = float("-inf")

    def reserve(self, now: float) -> float:
        """Take the next slot, asked at `now`: the time the request may leave."""
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self.reserve(loop.time()) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


def counts_against_global_limit(url: str) -> bool:
    """REST calls count; interaction callbacks and follow-ups (webhooks) and the gateway
    connection do not."""
    if not url.startswith(Route.BASE):
        return False
    path = url[len(Route.BASE) :]
    return not path.startswith(("/interactions/", "/webhooks/"))


def header_seconds(headers: Any) -> float:
    """Retry-After in seconds (a Cloudflare ban says how long there; 60 s if not)."""
    try:
        return max(1.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return 60.0


def is_global(headers: Any) -> bool:
    return (
        headers.get("X-RateLimit-Global", "").lower() == "true"
        or headers.get("X-RateLimit-Scope") == "global"
    )


class RequestGate:
    """Every request discord.py makes passes here (as aiohttp trace hooks): REST calls wait
    for the pacer and are refused while sending is paused, and every answer is looked at
    for a reason to pause all sending. `running` says whether the client is connected (a
    401 at login is a wrong token, not a reason to pause)."""

    def __init__(self, requests_per_second: float, running: Callable[[], bool]) -> None:
        self.pacer = RequestPacer(requests_per_second)
        self._running = running
        self.observer: Observer = NO_OBSERVER  # told of every 429
        # Until when (event loop time) no REST request may leave at all, and why.
        self._paused_until = float("-inf")
        self._pause_reason = ""

    def trace_config(self) -> aiohttp.TraceConfig:
        """The hooks, for discord.Client's http_trace."""
        trace = aiohttp.TraceConfig()

        async def on_request_start(
            session: aiohttp.ClientSession,
            context: Any,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            if counts_against_global_limit(str(params.url)):
                self._refuse_while_paused()
                await self.pacer.wait()
                self._refuse_while_paused()  # a pause may have begun while it waited

        async def on_request_end(
            session: aiohttp.ClientSession,
            context: Any,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            self._watch(str(params.url), params.response)

        trace.on_request_start.append(on_request_start)
        trace.on_request_end.append(on_request_end)
        return trace

    def _watch(self, url: str, response: aiohttp.ClientResponse) -> None:
        """Pause all sending for answers about the bot as a whole, which a per-channel
        retry would only repeat (and 10,000 of 401/403/429 in 10 minutes get the IP
        banned): a Cloudflare ban, a long global rate limit, a token no longer valid."""
        headers = response.headers
        if response.status == 429:
            self.observer.rate_limited("discord")
        if response.status == 429 and not headers.get("Via"):
            self._pause(header_seconds(headers), "Cloudflare refuses our requests (429 ban)")
        elif response.status == 429 and is_global(headers):
            seconds = header_seconds(headers)
            if seconds > LONGEST_WAIT:  # shorter ones discord.py waits out for every route
                self._pause(seconds, "Discord's global rate limit")
        elif response.status == 401 and counts_against_global_limit(url) and self._running():
            # (At login, a 401 is a wrong token: start says so, and nothing is paused.)
            self._pause(
                UNAUTHORIZED_PAUSE,
                "Discord no longer accepts the bot token (401); if it was reset, set the new "
                f"one as {TOKEN_ENV} and restart",
            )

    def _pause(self, seconds: float, reason: str) -> None:
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until:
            self._paused_until, self._pause_reason = until, reason
            log.error("discord: %s; all sending paused for %.0fs", reason, seconds)

    def paused(self) -> str:
        """Why all sending is paused now, or "" if it is not."""
        left = self._paused_until - asyncio.get_running_loop().time()
        return f"{self._pause_reason} ({left:.0f}s more)" if left > 0 else ""

    def _refuse_while_paused(self) -> None:
        left = self._paused_until - asyncio.get_running_loop().time()
        if left > 0:
            raise RetryAfter(left, f"discord: {self._pause_reason}; paused for {left:.0f}s more")
