"""Telegram fan-out benchmark: one headline to many chats, through the real core.

The real outbox and Telegram adapter (python-telegram-bot over loopback HTTP) send to the
fake Bot API server, which enforces Telegram's limits over true sliding windows (30
messages/s in total, 20 a minute into a group or channel, 1 a second into a private chat)
and answers 429 past them. Scenarios: one headline to 1,000 subscribed private chats, one
to 100 channels, and a burst of 100 headlines into one channel (packed to keep within its
20 a minute); with `--filtered`, the private chats again, each with a keyword filter of
50 terms the headline passes. Prints the seconds taken against the limit (K/30 s for K
messages), the 429s received (goal 0) and the deliveries lost (must be 0). The fake runs
in the bot's own process and event loop: 30 messages a second is little work for either.
With `--paid`, every scenario with paid broadcasts on (`allow_paid_broadcast`, up to 1,000
messages/s, the limit K/1000 s) and the Stars the fake charged (0.1 per message over 30/s).

    .venv/bin/python -m benchmarks.telegram_fanout [--private 1000] [--channels 100]
        [--burst 100] [--unpaced] [--filtered] [--paid]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.config import PAID_RATE_MOST, TelegramConfig
from adapters.telegram.pacing import RateLimits
from bot.chat.commands import Commands
from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Headline
from bot.ops.metrics import Metrics
from bot.outbox.sender import Outbox
from bot.ports import NO_OBSERVER, Observer
from bot.store import Storage
from testing.fake_telegram import TOKEN, FakeLimits, FakeTelegram

FEED = FeedConfig("World", "http://127.0.0.1:1/feed", 600)
TOTAL_PER_SECOND = 30


@dataclass
class Result:
    name: str
    deliveries: int
    messages: int
    seconds: float
    too_many: int
    lost: int
    duplicates: int
    fan_out: bool = True
    stars: float = 0.0
    rate: int = TOTAL_PER_SECOND

    def line(self) -> str:
        if self.fan_out:
            # The fastest Telegram allows: K messages at 30 a second (paid: 1,000).
            limit = self.messages / self.rate
            against = f"{limit:>8.2f} {self.seconds / limit:>6.2f}"
        else:  # one channel: its 20 a minute is the limit, shown by the message count
            against = f"{'-':>8} {'-':>6}"
        return (
            f"{self.name:<34} {self.deliveries:>6} {self.messages:>6} {self.seconds:>8.2f}"
            f" {against} {self.too_many:>5} {self.lost:>5} {self.duplicates:>5}"
            f" {self.stars:>6.1f}"
        )


HEADER = (
    f"{'scenario':<34} {'deliv':>6} {'msgs':>6} {'seconds':>8} {'limit s':>8} {'ratio':>6}"
    f" {'429s':>5} {'lost':>5} {'dups':>5} {'stars':>6}"
)


def headlines(count: int) -> list[Headline]:
    now = datetime.now(UTC)
    return [
        Headline(
            feed=FEED.name,
            entry_id=f"story-{i}",
            title=f"Pakistan: nationwide protests against rising cost of electricity ({i})",
            link=f"https://news.example/story/{i}",
            summary="Thousands marched in Karachi and Lahore as power bills doubled.",
            published=now - timedelta(seconds=count - i),
            regions=("Asia",),
        )
        for i in range(count)
    ]


# --filtered: every private chat has a keyword filter of 50 terms (bot.filters) that the
# headline passes, so the same messages go out and the difference is the filters' cost.
FILTER = (
    (*(f"word{i}" for i in range(20)), "general strike", "power cuts", "electricity"),
    (*(f"other{i}" for i in range(20)), *(f"the phrase {i}" for i in range(7))),
)
# --metrics: the sends are counted as `[http] listen` has the bot count them.
OBSERVER: Observer = NO_OBSERVER


async def fanout(
    name: str,
    database: Path,
    private: list[str],
    channels: list[str],
    posts: int,
    limits: RateLimits,
    filtered: bool = False,
    paid: bool = False,
) -> Result:
    storage = await Storage.open(database)
    try:
        await storage.sync_feeds([FEED])
        await storage.add_headlines(FEED.name, [])  # the feed's quiet first poll
        for chat in private:
            await storage.subscribe(ChatRef("telegram", chat, "private"))
            if filtered:
                await storage.set_filter(ChatRef("telegram", chat), lambda *_: FILTER)
        await storage.sync_destinations("telegram", [DestinationConfig(c) for c in channels])
        queued = await storage.add_headlines(FEED.name, headlines(posts), max_per_poll=posts)
        async with FakeTelegram(limits=FakeLimits()) as fake:
            config = TelegramConfig(token=TOKEN, api_base_url=fake.url, allow_paid_broadcast=paid)
            adapter = TelegramAdapter(config, limits=limits)
            adapter.observer = OBSERVER
            await adapter.start(Commands(storage).handle)
            try:
                started = time.perf_counter()
                await Outbox(storage, {"telegram": adapter}, observer=OBSERVER).deliver_due()
                seconds = time.perf_counter() - started
            finally:
                await adapter.stop()
        counts = await storage.delivery_counts()
        sent = sum(c.get("sent", 0) for c in counts.values())
        # Lost: not marked sent, or marked sent but never shown in the chat.
        shown = Counter((m.chat_id, title) for m in fake.sent for title in m.styled("bold"))
        return Result(
            name,
            deliveries=queued.deliveries,
            messages=len(fake.sent),
            seconds=seconds,
            too_many=fake.too_many,
            lost=queued.deliveries - min(sent, len(shown)),
            duplicates=sum(n - 1 for n in shown.values()),
            fan_out=posts == 1,
            stars=fake.stars_spent,
            rate=PAID_RATE_MOST if paid else TOTAL_PER_SECOND,
        )
    finally:
        await storage.close()


async def run(
    private: int,
    channels: int,
    burst: int,
    unpaced: bool,
    filtered: bool = False,
    paid: bool = False,
) -> list[Result]:
    # --unpaced: the adapter's total and per-group windows opened wide, to show that the
    # fake does answer 429 and that the outbox still loses nothing.
    limits = RateLimits(total=10_000, group=10_000) if unpaced else RateLimits()
    suffix = " (paid)" if paid else ""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if private:
            chats = [str(100_000 + i) for i in range(private)]
            results.append(
                await fanout(
                    f"1 headline -> {private} private{suffix}",
                    Path(tmp, "p.db"),
                    chats,
                    [],
                    1,
                    limits,
                    paid=paid,
                )
            )
            if filtered:
                name = f"1 headline -> {private} filtered{suffix}"
                path = Path(tmp, "f.db")
                results.append(
                    await fanout(name, path, chats, [], 1, limits, filtered=True, paid=paid)
                )
        if channels:
            chats = [f"-100{7_000_000_000 + i}" for i in range(channels)]
            results.append(
                await fanout(
                    f"1 headline -> {channels} channels{suffix}",
                    Path(tmp, "c.db"),
                    [],
                    chats,
                    1,
                    limits,
                    paid=paid,
                )
            )
        if burst:
            results.append(
                await fanout(
                    f"{burst} headlines -> 1 channel{suffix}",
                    Path(tmp, "b.db"),
                    [],
                    ["@world"],
                    burst,
                    limits,
                    paid=paid,
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--private", type=int, default=1000, help="private chats (0: skip)")
    parser.add_argument("--channels", type=int, default=100, help="channels (0: skip)")
    parser.add_argument("--burst", type=int, default=100, help="headlines to one channel")
    parser.add_argument(
        "--unpaced", action="store_true", help="turn the adapter's pacing off (429s expected)"
    )
    parser.add_argument(
        "--filtered",
        action="store_true",
        help="the private chats again, each with a keyword filter of 50 terms",
    )
    parser.add_argument(
        "--metrics", action="store_true", help="count the sends as [http] has the bot do"
    )
    parser.add_argument(
        "--paid",
        action="store_true",
        help="paid broadcasts on (allow_paid_broadcast): up to 1,000 messages/s, for Stars",
    )
    args = parser.parse_args()
    if args.metrics:
        global OBSERVER
        OBSERVER = Metrics(("telegram",))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = asyncio.run(
        run(args.private, args.channels, args.burst, args.unpaced, args.filtered, args.paid)
    )
    print(HEADER)
    for result in results:
        print(result.line())
    rate = PAID_RATE_MOST if args.paid else TOTAL_PER_SECOND
    print(f"limit s: messages / {rate} (Telegram's total); ratio 1.10 = 10% over the limit")
    if args.paid:
        print("stars: what the fake charged, 0.1 a message over Telegram's free 30/s")


if __name__ == "__main__":
    main()
