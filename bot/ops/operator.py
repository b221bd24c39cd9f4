"""What the operator does, from the command line (`enable`) or the alert chat (/enable,
/release): the same steps either way."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Config
from bot.store import Storage


@dataclass(frozen=True, slots=True)
class Enabled:
    """What `enable NAME` did: a feed polled again (with `released` held entries queued),
    or a destination (`chat`, as PLATFORM:CHAT) receiving again."""

    feed: str = ""
    chat: str = ""
    released: int = 0


async def enable(storage: Storage, config: Config, name: str) -> Enabled | None:
    """Poll the feed `name` again and release what it holds, or resume the destination
    PLATFORM:CHAT; None if it is neither."""
    if config.feed(name) is not None and await storage.enable_feed(name):
        return Enabled(feed=name, released=await release(storage, config, name) or 0)
    platform, _, chat = name.partition(":")
    if chat and (destination := await storage.resume(platform, chat)):
        return Enabled(chat=f"{platform}:{destination.chat.chat_id}")
    return None


async def release(storage: Storage, config: Config, name: str) -> int | None:
    """Queue the entries held for the feed `name` (it changed its ids), paced as a poll's:
    how many; None if the config has no such feed."""
    feed = config.feed(name)
    if feed is None:
        return None
    return await storage.release(
        name, max_per_poll=config.max_posts_per_poll, release_every=feed.interval
    )
