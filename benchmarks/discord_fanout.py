"""Discord fan-out benchmark: headlines to many channels and to one, through the real core.

The real outbox and Discord adapter (discord.py over loopback HTTP and a websocket) send to
the fake Discord, which enforces Discord's limits (5 messages per 5 s per channel, 50
requests/s in all, over a sliding second) and answers 429 past them. Scenarios: one
headline to 500 subscribed channels; 30 headlines to one channel as the outbox sends them
(up to 10 embeds a message); the same 30 one per message, which runs into the channel's
5 per 5 s. Prints the seconds taken against the limit, the 429s received (goal 0) and the
deliveries lost (must be 0).

    .venv/bin/python -m benchmarks.discord_fanout [--channels 500] [--burst 30]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from adapters.discord.http import REQUESTS_PER_SECOND
from bot.chat.commands import Commands
from bot.config import DestinationConfig, FeedConfig
from bot.models import Headline
from bot.ops.metrics import Metrics
from bot.outbox.sender import Outbox
from bot.ports import NO_OBSERVER, Observer
from bot.store import Storage
from testing.fake_discord import TOKEN, FakeDiscord

FEED = FeedConfig("World", "http://127.0.0.1:1/feed", 600)
GLOBAL_PER_SECOND = 50
CHANNEL_LIMIT, CHANNEL_WINDOW = 5, 5.0


@dataclass
class Result:
    name: str
    deliveries: int
    messages: int
    seconds: float  # until the last message was posted
    returned: float  # until the outbox returned
    limit: float
    too_many: int
    lost: int
    duplicates: int

    def line(self) -> str:
        ratio = self.seconds / self.limit if self.limit else 0.0
        return (
            f"{self.name:<36} {self.deliveries:>6} {self.messages:>6} {self.seconds:>8.2f}"
            f" {self.limit:>8.2f} {ratio:>6.2f} {self.returned:>8.2f} {self.too_many:>5}"
            f" {self.lost:>5} {self.duplicates:>5}"
        )


HEADER = (
    f"{'scenario':<36} {'deliv':>6} {'msgs':>6} {'seconds':>8} {'limit s':>8} {'ratio':>6}"
    f" {'return s':>8} {'429s':>5} {'lost':>5} {'dups':>5}"
)


def limit_seconds(per_channel: Counter[str]) -> float:
    """The fastest Discord allows for these messages: 50/s in all, and in each channel 5,
    then 5 more once 5 s have passed."""
    total = sum(per_channel.values()) / GLOBAL_PER_SECOND
    busiest = max(per_channel.values(), default=0)
    return max(total, (math.ceil(busiest / CHANNEL_LIMIT) - 1) * CHANNEL_WINDOW)


def headlines(count: int) -> list[Headline]:
    now = datetime.now(UTC)
    return [
        Headline(
            feed=FEED.name,
            entry_id=f"story-{i}",
            title=f"Pakistan: nationwide protests against rising cost of electricity ({i})",
            link=f"https://news.example/story/{i}",
            summary=(
                "Thousands marched in Karachi and Lahore as power bills doubled; traders "
                "closed their shops and the government promised relief within the month."
            ),
            published=now - timedelta(seconds=count - i),
            regions=("Asia",),
        )
        for i in range(count)
    ]


# --metrics: the sends are counted as `[http] listen` has the bot count them.
OBSERVER: Observer = NO_OBSERVER


async def fanout(
    name: str, database: Path, channels: list[str], posts: int, rate: float, batch: int = 10
) -> Result:
    storage = await Storage.open(database)
    try:
        await storage.sync_feeds([FEED])
        await storage.add_headlines(FEED.name, [])  # the feed's quiet first poll
        await storage.sync_destinations("discord", [DestinationConfig(c) for c in channels])
        queued = await storage.add_headlines(FEED.name, headlines(posts), max_per_poll=posts)
        async with FakeDiscord(enforce_limits=True, channels=channels) as fake:
            config = DiscordConfig(token=TOKEN, api_base_url=fake.url)
            adapter = DiscordAdapter(config, guild_ready_timeout=0.05, requests_per_second=rate)
            adapter.observer = OBSERVER
            await adapter.start(Commands(storage).handle)
            before = fake.rate_limited  # start-up requests are not the benchmark's
            loop = asyncio.get_running_loop()
            try:
                started = loop.time()
                await Outbox(
                    storage, {"discord": adapter}, batch=batch, observer=OBSERVER
                ).deliver_due()
                returned = loop.time() - started
            finally:
                await adapter.stop()
        counts = await storage.delivery_counts()
        sent = sum(c.get("sent", 0) for c in counts.values())
        # Every (channel, headline) the fake shows, to count losses and repeats on its side.
        shown = Counter((m.channel_id, e["title"]) for m in fake.messages for e in m.embeds)
        return Result(
            name,
            deliveries=queued.deliveries,
            messages=len(fake.messages),
            seconds=max((m.at for m in fake.messages), default=started) - started,
            returned=returned,
            limit=limit_seconds(Counter(m.channel_id for m in fake.messages)),
            too_many=fake.rate_limited - before,
            lost=queued.deliveries - min(sent, len(shown)),
            duplicates=sum(n - 1 for n in shown.values()),
        )
    finally:
        await storage.close()


async def run(channels: int, burst: int, rate: float) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        if channels:
            ids = [str(10_000 + i) for i in range(channels)]
            results.append(
                await fanout(f"1 headline -> {channels} channels", Path(tmp, "c.db"), ids, 1, rate)
            )
        if burst:
            results.append(
                await fanout(
                    f"{burst} headlines -> 1 channel", Path(tmp, "b.db"), ["9"], burst, rate
                )
            )
            results.append(
                await fanout(
                    f"{burst} headlines -> 1 channel, 1 a msg",
                    Path(tmp, "o.db"),
                    ["9"],
                    burst,
                    rate,
                    batch=1,
                )
            )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channels", type=int, default=500, help="channels (0: skip)")
    parser.add_argument("--burst", type=int, default=30, help="headlines to one channel")
    parser.add_argument(
        "--rate", type=float, default=REQUESTS_PER_SECOND, help="the adapter's requests/s ceiling"
    )
    parser.add_argument(
        "--metrics", action="store_true", help="count the sends as [http] has the bot do"
    )
    args = parser.parse_args()
    if args.metrics:
        global OBSERVER
        OBSERVER = Metrics(("discord",))
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = asyncio.run(run(args.channels, args.burst, args.rate))
    print(HEADER)
    for result in results:
        print(result.line())
    print(
        "seconds: until the last message was posted; limit s: max(messages / 50,\n"
        "(ceil(busiest channel / 5) - 1) * 5); ratio 1.10 = 10% over the limit; return s: until\n"
        "the outbox returned (discord.py holds the send that empties a channel's bucket\n"
        "until the bucket resets)"
    )


if __name__ == "__main__":
    main()
