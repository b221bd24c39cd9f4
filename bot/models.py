"""Plain data passed between the modules: no I/O, no platform code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# The languages the bot speaks (bot.chat.i18n) and reads headlines in (bot.ingest.parser,
# bot.regions): a config's or chat's language, a feed's language, the classifier's names.
LANGUAGES = ("en", "es")


@dataclass(frozen=True, slots=True)
class Headline:
    """One feed entry as the bot keeps it.

    `id` is the database row id (0 until stored); `entry_id` is the stable id within the
    feed (guid, else normalised link, else a hash of title and summary).
    """

    feed: str
    entry_id: str
    title: str
    link: str
    summary: str
    published: datetime
    categories: tuple[str, ...] = ()
    language: str = "en"
    regions: tuple[str, ...] = ()
    id: int = 0
    image: str = ""  # the entry's picture: an http(s) URL, or empty


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A place the bot talks to: a platform and that platform's id for the chat.

    `kind` is "private", "group", "channel" (Telegram) or "channel"/"dm" (Discord);
    adapters fill it in when they know it and the core only uses it for wording.
    """

    platform: str
    chat_id: str
    kind: str = ""
    title: str = ""
    username: str = ""  # a public @name the chat can also be addressed by (Telegram)
    # A part of the chat that is a destination of its own (a Telegram forum topic's
    # message_thread_id); empty: the chat itself.
    thread_id: str = ""


@dataclass(frozen=True, slots=True)
class Destination:
    """A chat that receives new headlines, with its region filter (empty: all regions)
    and its keyword filter (`include`, `exclude`: terms of bot.filters; empty: none)."""

    id: int
    chat: ChatRef
    regions: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    language: str = ""
    active: bool = True
    inactive_reason: str = ""
    from_config: bool = False
    # Digests: "daily 08:00 Europe/Madrid" (bot.outbox.digest), or "" for each headline as
    # it comes; `timezone` is the chat's saved IANA zone, for a digest given without one.
    digest: str = ""
    timezone: str = ""
    # One of the threads `/subscribe topics` made, one per region (its only region): the
    # outbox makes it again if it was deleted.
    region_thread: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class DeliveryStatus(StrEnum):
    """Where a delivery stands; the database stores the value."""

    PENDING = "pending"  # owed: not yet accepted by the platform
    SENT = "sent"  # the platform accepted it
    FAILED = "failed"  # refused, or its destination went away
    CANCELLED = "cancelled"  # no longer owed: unsubscribed, or moved to a chat that had it
    HELD = "held"  # owed to the chat's next digest: pending once the digest is due


@dataclass(frozen=True, slots=True)
class Delivery:
    """A headline owed to a destination; marked sent only after the platform accepted it."""

    id: int
    destination: Destination
    headline: Headline
    attempts: int = 0
    digest: int = 0  # the digest it goes out in (its deliveries share it); 0: on its own


@dataclass(frozen=True, slots=True)
class DigestSection:
    """One region's part of a digest (`region` "" for world news): its newest headlines,
    newest first, and how many more it had."""

    region: str
    headlines: tuple[Headline, ...]
    more: int = 0


@dataclass(frozen=True, slots=True)
class Digest:
    """The headlines a chat was owed over one period, sent as one delivery. `key` is the
    same for the same digest across restarts; `period` is "hourly", "daily" or "weekly";
    `total` counts every headline, shown or not."""

    key: int
    period: str
    sections: tuple[DigestSection, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Command:
    """A user's command, neutral of the platform it came from.

    `can_admin` says whether the sender may change what this chat receives (a chat
    administrator, a channel post, or the user of a private chat).
    """

    name: str
    args: tuple[str, ...]
    chat: ChatRef
    can_admin: bool = False
    language: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What the bot answers: localised plain text and optionally a list of headlines.

    Adapters render it in their own markup; `text` is never markup. `private` asks for
    an answer only the sender sees where the platform has one (Discord ephemeral).
    """

    text: str = ""
    headlines: tuple[Headline, ...] = ()
    language: str = "en"
    error: bool = False
    private: bool = False
    title: str = ""


@dataclass(frozen=True, slots=True)
class FeedHints:
    """What a feed says about how often it wants to be polled, in seconds (0: nothing)."""

    ttl: int = 0
    update_period: int = 0


class ParseError(Exception):
    """The body is not a feed at all; the message is meant for the feed's status. Here
    rather than in the parser: it crosses from parse worker processes, which need not
    load the parser into the bot's own process to read it."""


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    headlines: tuple[Headline, ...]
    title: str = ""
    hints: FeedHints = field(default_factory=FeedHints)
    bozo: str = ""
