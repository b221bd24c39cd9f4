"""The whole contract between the core and a chat platform.

An adapter turns platform events into neutral `Command`s, hands them to the core's
callback, renders the `Reply` it gets back, and sends `Headline`s to destinations.
Sending raises one of the errors below so the outbox knows what to do with a delivery.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.models import ChatRef, Command, Digest, Headline, Reply

CommandCallback = Callable[[Command], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Sent:
    """The platform accepted the first `count` headlines given, as message `message_id`."""

    message_id: str
    count: int = 1


class SendError(Exception):
    """Base of the errors `Adapter.send` may raise; anything else counts as temporary."""


class RetryAfter(SendError):
    """The platform asked us to wait; the delivery stays pending."""

    def __init__(self, seconds: float, detail: str = "") -> None:
        super().__init__(detail or f"rate limited, retry after {seconds:g}s")
        self.seconds = seconds


class DestinationGone(SendError):
    """The chat cannot receive anything any more (bot kicked or blocked, channel deleted,
    missing permissions). The destination is deactivated, not deleted."""


class DestinationMoved(SendError):
    """The chat lives on under another id (a Telegram group upgraded to a supergroup)."""

    def __init__(self, new_chat_id: str, detail: str = "") -> None:
        super().__init__(detail or f"chat moved to {new_chat_id}")
        self.new_chat_id = new_chat_id


class ContentRejected(SendError):
    """The platform refused the first headline given, even after the adapter's fallbacks
    (plain text instead of markup); that delivery is closed as failed, the rest go on."""


class TemporaryFailure(SendError):
    """Network trouble or a server error: try again later with backoff."""


class ThreadGone(SendError):
    """The chat's thread (a forum topic) the destination posts into was deleted. The outbox
    makes a region thread again, once; any other such destination is deactivated."""


class ThreadClosed(SendError):
    """The thread (a forum topic) is closed to posts: what the destination is owed now is
    skipped, and it receives again what comes once the thread is reopened."""


class CannotStart(Exception):
    """`Adapter.start` failed in a way that retrying will not mend (a rejected token); the
    message says what to fix and never quotes a secret. Any other error from `start` is
    taken as temporary, and the core tries again later."""


# -- what operators see (issue 11): a platform's health and what happens, as it happens --


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    """Whether a platform can take posts now. `since`: when it last changed (time.time(),
    0 if never); `paused`: why sending is held for the bot as a whole (a token reset, a
    Cloudflare ban, a global limit), "" if not; `detail`: the last trouble, for a person."""

    connected: bool
    since: float = 0.0
    paused: str = ""
    detail: str = ""


class Observer:
    """What the core and the adapters report as it happens, for metrics. This one does
    nothing: it is what runs when no one listens. Labels stay bounded: outcome kinds and
    platform names, never a chat or a headline."""

    def polled(self, outcome: str, seconds: float, stored: int) -> None:
        """A poll ended with `outcome` ("new", "unchanged", "error:timeout"...)."""

    def delivered(self, platform: str, count: int, published: Sequence[float]) -> None:
        """The platform accepted `count` deliveries; `published`: their headlines' times."""

    def delivery_failed(self, platform: str, result: str, count: int = 1) -> None:
        """`result` is "failed" (closed for good) or "postponed" (tried again later)."""

    def rate_limited(self, platform: str) -> None:
        """The platform answered 429."""

    def retried(self, platform: str) -> None:
        """A send waits out the platform's answer and is tried again."""


NO_OBSERVER = Observer()


class Adapter(Protocol):
    """A chat platform. `platform` is the name used in destinations ("telegram", ...).
    `observer` is told of 429s (the core sets it; by default nobody listens)."""

    platform: str
    observer: Observer

    async def start(self, on_command: CommandCallback) -> None:
        """Connect and begin passing commands to `on_command`; return once connected.

        Raises `CannotStart` when trying again cannot help; after any failure the adapter
        is left stopped, so that `start` may be called again."""

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        """Post the first one or more of `headlines` (oldest first) to `chat`.

        The adapter decides how many share one message (at least one) and says so in
        `Sent.count`. Raises a `SendError` when it cannot.
        """

    async def send_digest(self, chat: ChatRef, digest: Digest, language: str) -> Sent:
        """Post `digest` to `chat` whole: as many messages as the platform's limits need,
        each paced like any other. Raises a `SendError` as `send` does (a retry sends it
        all again)."""

    async def stop(self) -> None:
        """Disconnect; sends in flight finish or fail, nothing new starts."""

    async def send_text(self, chat: ChatRef, text: str) -> Sent:
        """Post plain `text` (an operator's alert) to `chat`, raising `SendError`s as
        `send` does."""

    def health(self) -> PlatformHealth:
        """Whether the platform is connected now, or paused, and since when."""


# -- chats split by region into threads (Telegram forum topics) ---------------------------


class ThreadsRefused(Exception):
    """`create_region_threads` could not make the threads. `reason` says why, for the core's
    localised answer: "not_forum" (the chat has no topics), "no_rights" (the bot may not
    manage them), "failed" (anything else; `str()` says what). `created` are the threads
    made before it stopped, by region."""

    def __init__(self, reason: str, detail: str = "", created: dict[str, str] | None = None):
        super().__init__(detail or reason)
        self.reason = reason
        self.created = dict(created or {})


@runtime_checkable
class RegionThreads(Protocol):
    """An adapter whose chats can be split into threads (Telegram forum topics): the core
    checks for this capability before `/subscribe topics`."""

    async def create_region_threads(
        self, chat: ChatRef, regions: Sequence[str], language: str
    ) -> dict[str, str]:
        """Make one thread in `chat` per region of `regions` (WORLD: world news), named in
        `language`; their thread ids by region. Raises `ThreadsRefused`."""


@runtime_checkable
class Sharded(Protocol):
    """An adapter whose updates arrive over connections split into shards (Discord's gateway):
    several processes can each run some of them."""

    shard_count: int

    async def run_shards(self, handle: CommandCallback, shards: frozenset[int]) -> None:
        """Run exactly these shards' connections from now on: start the missing ones and
        close the others. May be called with or without start(); stop() ends them all."""


@runtime_checkable
class Paced(Protocol):
    """An adapter that paces its sends by what it sent lately (Telegram's per-chat
    windows). One that takes a platform over from another process is told what that one
    sent, so that it does not send into a chat whose window is already full."""

    def prime(self, sent: Sequence[tuple[ChatRef, float]]) -> None:
        """Count these sends (a chat, and when, as time.time()) as if made from here."""
