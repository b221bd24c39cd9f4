"""Feed parsing in worker processes, off the event loop and outside the bot's own process.

feedparser is pure Python and holds the GIL, so threads cannot parse two feeds at once:
worker processes use every core. They also keep the bot safe from its inputs: a feed that
crashes or bloats the parser takes one worker down, not the bot, and the workers are
replaced after about `RECYCLE_AFTER` feeds each, so feedparser's memory fragmentation in a
long run (feedparser #287) is handed back to the system.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.config import FeedConfig
from bot.models import ParsedFeed, ParseError

log = logging.getLogger(__name__)

RECYCLE_AFTER = 500


class Parsers:
    """`await parsers.parse(body, feed, url)`: `parse_feed` in one of `workers` processes,
    or in a thread when `workers` is 0."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._jobs = 0  # given to the current pool
        self._retiring: set[asyncio.Task[None]] = set()
        self._starting = asyncio.Lock()
        self.restarts = 0  # pools replaced: recycled, or after a worker died

    async def parse(self, body: bytes, feed: FeedConfig, url: str) -> ParsedFeed:
        job = functools.partial(_parse, body, feed, url)
        pool = await self._current()
        if pool is None:
            return await asyncio.to_thread(job)
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job)
        except BrokenProcessPool:
            # A worker died (killed, out of memory, a crash in a C extension): the pool
            # cannot be used again. This feed fails; the next parse gets a new pool.
            if self._pool is pool:
                self._retire()
            log.error("parser: a worker process died parsing %s; starting new ones", feed.name)
            raise ParseError("parser: the parser process died on this feed") from None

    async def close(self) -> None:
        self._retire(cancel=True)
        await asyncio.gather(*self._retiring)

    async def _current(self) -> ProcessPoolExecutor | None:
        """The pool to parse in; None (parse in a thread) where processes cannot start."""
        async with self._starting:
            if self._pool is not None and self._jobs >= RECYCLE_AFTER * self.workers:
                self._retire()
            if self._pool is None and self.workers:
                try:
                    # Starting processes (the first time, the fork server that imports the
                    # parser) takes a while: not on the event loop.
                    self._pool = await asyncio.to_thread(self._new_pool)
                except (OSError, ImportError) as error:  # no /dev/shm, a process limit
                    log.error(
                        "parser: cannot start worker processes (%s); parsing in a thread "
                        "instead (fetch.parse_workers = 0 says so without trying)",
                        error,
                    )
                    self.workers = 0
                self._jobs = 0
            self._jobs += 1
            return self._pool

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers fork from a clean process that has imported the parser (and
        # built the place tables) once, rather than from this one with its threads.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["bot.ingest.parser"])
        pool = ProcessPoolExecutor(self.workers, mp_context=context)
        # Every worker starts now, and the pool never starts another: on Python 3.11 a
        # worker started while another is being killed can wait for ever on the queue lock
        # the dead one held, and the pool then hangs at shutdown. (That is also why workers
        # are recycled by replacing the pool, not with max_tasks_per_child.)
        started = [pool.submit(os.getpid) for _ in range(self.workers)]
        for future in started:
            future.result()
        return pool

    def _retire(self, cancel: bool = False) -> None:
        """Stop giving the current pool work; its workers finish what they have (unless
        `cancel`), then exit."""
        pool, self._pool = self._pool, None
        if pool is not None:
            self.restarts += not cancel
            task = asyncio.create_task(
                asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=cancel)
            )
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)


def _parse(body: bytes, feed: FeedConfig, url: str) -> ParsedFeed:
    # Imported here, in the worker: the bot's own process then never loads feedparser and
    # the place tables, which only parsing needs.
    from bot.ingest.parser import parse_feed

    return parse_feed(body, feed, url=url)
