"""Telegram's sending limits, kept on our side: sliding windows per chat and in all."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Telegram's sending limits: `total` messages per `total_period` seconds over all chats,
    `group` per `group_period` into one group or channel, `private` per `private_period`
    into one private chat. Benchmarks and tests may scale them."""

    total: int = 30
    total_period: float = 1.0
    group: int = 20
    group_period: float = 60.0
    private: int = 1
    private_period: float = 1.0


class Window:
    """At most `limit` sends in any `period` seconds.

    A send counts from when its request completed, and one in flight holds its place until
    then: the server received it before we saw the answer, so however requests queue on
    the way, it never sees more than `limit` arrive within `period`.
    """

    __slots__ = ("done", "held_until", "in_flight", "limit", "period")

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self.done: deque[float] = deque()
        self.in_flight = 0
        self.held_until = 0.0

    def room(self, now: float) -> int:
        """How many sends may start now."""
        self._forget(now)
        if now < self.held_until:
            return 0
        return max(0, self.limit - len(self.done) - self.in_flight)

    def delay(self, now: float) -> float | None:
        """Seconds until a send may start; None while every place is taken by a send in
        flight (wait for one to finish)."""
        held = max(0.0, self.held_until - now)
        if self.room(now) or held:
            return held
        if not self.done:
            return None
        return self.done[0] + self.period - now

    def idle(self, now: float) -> bool:
        return self.room(now) == self.limit and now >= self.held_until

    def _forget(self, now: float) -> None:
        while self.done and self.done[0] <= now - self.period:
            self.done.popleft()


@dataclass(slots=True)
class ChatState:
    window: Window
    lock: asyncio.Lock
    private: bool


class Pacer:
    """Waits before each send until every window it counts in has room: the chat's own
    and the total. Sends into one chat go one at a time, in order; sends waiting for the
    total queue first come, first served."""

    def __init__(self, limits: RateLimits) -> None:
        self.limits = limits
        self.total = Window(limits.total, limits.total_period)
        self._total_turn = asyncio.Lock()  # FIFO: only the head of the queue watches the clock
        self._freed = asyncio.Event()
        self._chats: dict[str, ChatState] = {}
        self._uses = 0

    def set_total(self, limit: int) -> None:
        """Change the overall limit from now on (paid broadcasting ended): sends already
        counted in the window still count against the new limit."""
        self.total.limit = limit

    def prime(self, chat_id: str, kind: str, ages: Sequence[float]) -> None:
        """Count sends made into `chat_id` `ages` seconds ago (from this token, by another
        process) in the chat's window, as if made here."""
        window = self._state(chat_id, kind).window
        now = time.monotonic()
        recent = sorted(now - age for age in ages if 0 <= age < window.period)
        window.done = deque(sorted([*window.done, *recent]))

    def _state(self, chat_id: str, kind: str) -> ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            private = is_private(chat_id, kind)
            window = (
                Window(self.limits.private, self.limits.private_period)
                if private
                else Window(self.limits.group, self.limits.group_period)
            )
            state = self._chats[chat_id] = ChatState(window, asyncio.Lock(), private)
        return state

    @contextlib.asynccontextmanager
    async def chat(self, chat_id: str, kind: str = "") -> AsyncIterator[ChatState]:
        """Hold the chat's turn: sends into it happen one after another."""
        state = self._state(chat_id, kind)
        async with state.lock:
            yield state
        self._uses += 1
        if self._uses % 1000 == 0:
            self._prune()

    @contextlib.asynccontextmanager
    async def slot(self, chat: ChatState) -> AsyncIterator[None]:
        """Wait until one more send fits, and count the send made inside."""
        await self._wait(chat.window)
        async with self._total_turn:
            await self._wait(self.total)
            self.total.in_flight += 1
            # The overall limit spread evenly over its period rather than `limit` sends
            # at once: the same rate, and few sends in flight at any moment, so a crash
            # leaves few that Telegram took but the outbox had not recorded (they repeat).
            spacing = self.total.period / self.total.limit
            self.total.held_until = max(self.total.held_until, time.monotonic() + spacing)
        chat.window.in_flight += 1
        try:
            yield
        finally:
            now = time.monotonic()
            for window in (self.total, chat.window):
                window.in_flight -= 1
                window.done.append(now)
            self._freed.set()

    async def _wait(self, window: Window) -> None:
        while True:
            self._freed.clear()
            delay = window.delay(time.monotonic())
            if delay == 0:
                return
            if delay is None:
                await self._freed.wait()
            else:
                await asyncio.sleep(delay)

    def _prune(self) -> None:
        now = time.monotonic()
        for chat_id, state in list(self._chats.items()):
            if not state.lock.locked() and state.window.idle(now):
                del self._chats[chat_id]


def is_private(chat_id: str, kind: str = "") -> bool:
    """Private chats have positive ids; groups negative ones, channels and supergroups
    -100... or an @username."""
    if kind:
        return kind == "private"
    return chat_id.isdigit()
