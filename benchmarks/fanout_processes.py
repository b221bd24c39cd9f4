"""Fan-out with several processes: one headline to many channels, sent by `python -m bot
run` processes sharing a PostgreSQL database, to the fakes with their limits enforced.

`--processes` bot processes (default 3) run on one config against a PostgreSQL server of
the benchmark's own (testing/postgres.py); the fake Telegram (30 messages/s in all, 20 a
minute per channel) and the fake Discord (50 requests/s, 5 messages per 5 s per channel)
and a feed server run in the benchmark's event loop. The feed holds one entry, queued at
its first poll (`backfill = 1`) for every channel. Only the process holding a platform's
lease sends to it, so what this shows is that the other processes (polling, beating,
standing by) do not slow it down or push it past the limit; `--processes 1` is the
comparison. Prints, per platform: messages, seconds from the first message's arrival to
the last's, messages/s against the limit, the 429s answered (goal 0), lost and repeated.

    .venv/bin/python -m benchmarks.fanout_processes [--processes 3] [--telegram 300]
        [--discord 500]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._cluster import cluster, write_config
from testing import postgres
from testing.fake_discord import TOKEN as DISCORD_TOKEN
from testing.fake_discord import FakeDiscord, Posted
from testing.fake_telegram import FakeLimits, FakeTelegram, SentMessage
from testing.feedserver import FeedServer, make_rss, sample_entries

LIMITS = {"telegram": 30, "discord": 50}  # messages (requests) a second, per bot token


@dataclass
class Result:
    platform: str
    processes: int
    channels: int
    messages: int
    seconds: float  # from the first message's arrival to the last's
    too_many: int
    lost: int
    repeated: int

    def line(self) -> str:
        # K messages at the limit's pace take (K - 1) / limit from the first to the last.
        rate = (self.messages - 1) / self.seconds if self.seconds else 0.0
        limit = LIMITS[self.platform]
        return (
            f"{self.platform:<9} {self.processes:>5} {self.messages:>6} {self.seconds:>8.2f}"
            f" {rate:>7.1f} {limit:>5} {rate / limit:>6.2f} {self.too_many:>5}"
            f" {self.lost:>5} {self.repeated:>5}"
        )


HEADER = (
    f"{'platform':<9} {'procs':>5} {'msgs':>6} {'seconds':>8} {'msgs/s':>7} {'limit':>5}"
    f" {'ratio':>6} {'429s':>5} {'lost':>5} {'dups':>5}"
)


async def fanout(database: str, platform: str, processes: int, channels: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        async with FeedServer(log_requests=False) as feeds:
            feeds.set_feed("/World", make_rss(sample_entries(1, start=datetime.now(UTC))))
            config = Path(tmp) / "config.toml"
            urls = {"World": feeds.url("/World")}
            if platform == "telegram":
                chats = [-1007000000000 - i for i in range(channels)]
                async with FakeTelegram(limits=FakeLimits()) as telegram:
                    write_config(config, database, urls, backfill=1, telegram=(telegram.url, chats))
                    arrivals = await deliver(config, database, processes, telegram.sent, channels)
                    too_many = telegram.too_many
                    to = Counter(m.chat_id for m in telegram.sent)
            else:
                ids = [str(10_000 + i) for i in range(channels)]
                async with FakeDiscord(enforce_limits=True, channels=ids) as discord:
                    write_config(
                        config,
                        database,
                        urls,
                        backfill=1,
                        discord=(discord.url, DISCORD_TOKEN, ids),
                    )
                    sent = discord.messages
                    arrivals = await deliver(config, database, processes, sent, channels)
                    too_many = discord.rate_limited
                    to = Counter(m.channel_id for m in discord.messages)
    return Result(
        platform,
        processes,
        channels,
        messages=len(arrivals),
        seconds=max(arrivals) - min(arrivals),
        too_many=too_many,
        lost=channels - len(to),
        repeated=sum(n - 1 for n in to.values()),
    )


async def deliver(
    config: Path, database: str, processes: int, sent: Sequence[SentMessage | Posted], channels: int
) -> list[float]:
    """Start the processes, wait for a message to every channel (and a second more for
    any repeat), stop them; when each message arrived."""
    with cluster(config, config.parent, database) as bots:
        for _ in range(processes):
            bots.start()
        await bots.until(lambda: len(sent) >= channels, "every channel's message", 300)
        await asyncio.sleep(1)
    return [m.at for m in sent]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--telegram", type=int, default=300, help="Telegram channels (0: skip)")
    parser.add_argument("--discord", type=int, default=500, help="Discord channels (0: skip)")
    args = parser.parse_args()
    results = []
    with postgres.running() as server:
        for platform in ("telegram", "discord"):
            if channels := getattr(args, platform):
                database = server.database(platform)
                results.append(asyncio.run(fanout(database, platform, args.processes, channels)))
    print(HEADER)
    for result in results:
        print(result.line())
    print(
        "seconds: from the first message's arrival to the last's; msgs/s: (messages - 1) /\n"
        "seconds; ratio: msgs/s over the limit (0.90 = 10% under it)"
    )


if __name__ == "__main__":
    main()
