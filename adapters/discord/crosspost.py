"""Publishing (crossposting) the bot's messages in announcement channels, in the background.

Discord allows about 10 crossposts an hour per channel. The bot's client gives up on any
bucket whose reset is more than 30 s away (`max_ratelimit_timeout`, so that a send is
never held up for long), and the crosspost bucket resets an hour out: through that client
every crosspost after the first of an hour would be refused before it left. So crossposts
go through a second discord.py HTTP client of their own, which waits on the bucket as
long as Discord says, and never on the path that sends headlines: `send` queues the
message here and returns. One task per channel publishes its queue, oldest first, at most
`per_window` in any `window` seconds (Discord's own bucket is the backstop). The requests
pass the same pacer and pause as every other (http.py). A crosspost Discord refuses for
good (the message is gone, the bot lacks the permission, it was published already) is
dropped and logged.

The queue lives in memory: at a stop, crossposts not yet made are dropped (and counted
in the log); their messages stay posted in the channel, only not published to the
servers that follow it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import aiohttp
import discord
from discord.http import HTTPClient

from bot.ports import RetryAfter

log = logging.getLogger(__name__)

CROSSPOSTS_PER_HOUR = 10
HOUR = 3600.0
# After a network error, a server error or a pause: try that channel again this much later.
TROUBLE_WAIT = 30.0


class Crossposter:
    """The queue of messages to publish, and the tasks that publish them."""

    def __init__(self, per_window: int = CROSSPOSTS_PER_HOUR, window: float = HOUR) -> None:
        self.per_window = per_window
        self.window = window
        self._queued: dict[int, deque[int]] = {}  # channel id: message ids, oldest first
        self._done: dict[int, deque[float]] = {}  # channel id: when its recent ones went
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._http: HTTPClient | None = None
        self.published = 0

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queued.values())

    async def start(self, token: str, trace: aiohttp.TraceConfig) -> None:
        """Log in a client of its own (no limit on how long it waits on a bucket)."""
        http = HTTPClient(asyncio.get_running_loop(), http_trace=trace)
        await http.static_login(token)
        self._http = http
        for channel_id in self._queued:
            self._work(channel_id)

    def queue(self, channel_id: int, message_id: int) -> None:
        """Publish this message when the channel's pacing allows; returns at once."""
        self._queued.setdefault(channel_id, deque()).append(message_id)
        self._work(channel_id)

    async def stop(self) -> None:
        workers, self._workers = list(self._workers.values()), {}
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        dropped = self.pending
        if dropped:
            log.warning(
                "discord: %d crosspost(s) not made before the stop are dropped; their "
                "messages stay posted, unpublished",
                dropped,
            )
        self._queued.clear()
        http, self._http = self._http, None
        if http is not None:
            await http.close()

    def _work(self, channel_id: int) -> None:
        worker = self._workers.get(channel_id)
        if self._http is not None and (worker is None or worker.done()):
            self._workers[channel_id] = asyncio.create_task(
                self._publish_queue(channel_id), name=f"discord-crosspost-{channel_id}"
            )

    async def _publish_queue(self, channel_id: int) -> None:
        loop = asyncio.get_running_loop()
        queued = self._queued[channel_id]
        done = self._done.setdefault(channel_id, deque())
        while queued:
            now = loop.time()
            while done and done[0] <= now - self.window:
                done.popleft()
            if len(done) >= self.per_window:
                await asyncio.sleep(done[0] + self.window - now)
                continue
            # Off the queue while in flight: discord.py may hold the request until the
            # bucket resets even after Discord took it, and a stop meanwhile must not
            # count it as not made.
            message_id = queued.popleft()
            wait = await self._publish(channel_id, message_id)
            if wait:
                queued.appendleft(message_id)
                await asyncio.sleep(wait)
                continue
            done.append(loop.time())

    async def _publish(self, channel_id: int, message_id: int) -> float:
        """Crosspost one message: 0 when done with it (published or refused for good),
        else how long to wait before trying again."""
        assert self._http is not None
        try:
            await self._http.publish_message(channel_id, message_id)
        except RetryAfter as error:  # all sending is paused (http.py)
            return error.seconds
        except discord.HTTPException as error:
            if error.status == 429 or error.status >= 500:
                return TROUBLE_WAIT  # (discord.py has already waited out and retried)
            log.warning(
                "discord: could not publish message %s in %s (HTTP %s, code %s): %s",
                message_id,
                channel_id,
                error.status,
                error.code,
                error.text,
            )
            return 0.0
        except (aiohttp.ClientError, OSError, TimeoutError):
            return TROUBLE_WAIT
        self.published += 1
        return 0.0
