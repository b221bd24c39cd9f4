"""The waits between retries, the same rule everywhere: the first wait doubled per
attempt up to a maximum, spread a little at random so that many waiters (feeds, chats,
reconnecting platforms) do not all try again at the same moment."""

from __future__ import annotations

import random

# 2 ** 64 times any first wait is past every maximum; more would only overflow a float.
_MAX_DOUBLINGS = 64


def backoff(attempt: int, first: float, maximum: float, jitter: float = 0.2) -> float:
    """The wait before retry `attempt` (0: the first retry): `first` * 2 ** `attempt`,
    at most `maximum`, then times a random factor within 1 +- `jitter` (0: exact)."""
    delay = min(maximum, first * 2 ** min(max(attempt, 0), _MAX_DOUBLINGS))
    return delay * random.uniform(1 - jitter, 1 + jitter) if jitter else delay


class Backoff:
    """For a loop that keeps retrying: each `next()` waits longer, until `reset()`."""

    def __init__(self, first: float, maximum: float, jitter: float = 0.2) -> None:
        self.first = first
        self.maximum = maximum
        self.jitter = jitter
        self.attempt = 0

    def next(self) -> float:
        """The wait before the next try."""
        delay = backoff(self.attempt, self.first, self.maximum, self.jitter)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        """A success: the next failure waits `first` again."""
        self.attempt = 0
