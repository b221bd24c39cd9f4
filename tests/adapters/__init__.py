"""What the adapter tests share: a feed, headlines of it, and storing them as a poll's
new entries, as the core would before the outbox hands them to an adapter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import FeedConfig
from bot.models import Headline
from bot.store import Storage

NOW = datetime.now(UTC).replace(microsecond=0)
FEED = FeedConfig("World", "http://127.0.0.1:1/feed", 600)


def headline(title: str, regions: tuple[str, ...] = ("Asia",), n: int = 0, **kw: str) -> Headline:
    """Headline `n` of FEED, published `60 - n` minutes before NOW."""
    return Headline(
        feed=kw.get("feed", "World"),
        entry_id=kw.get("entry_id", f"e{n}-{title}"),
        title=title,
        link=kw.get("link", f"https://news.example/story/{n}"),
        summary=kw.get("summary", "A short summary."),
        published=NOW - timedelta(minutes=60 - n),
        regions=regions,
        image=kw.get("image", ""),
    )


async def seed(storage: Storage, *headlines: Headline) -> None:
    """Store `headlines` as one poll's new entries of FEED (after a quiet first poll)."""
    await storage.sync_feeds([FEED])
    await storage.add_headlines(FEED.name, [], now=NOW.timestamp() - 3600)
    await storage.add_headlines(FEED.name, list(headlines))
