"""Takeover benchmark: how long Telegram goes unserved when the process holding its role
is SIGKILLed.

Three `python -m bot run` processes share a PostgreSQL server of the benchmark's own
(testing/postgres.py), with the fake Telegram (its limits enforced) and a feed server in
the benchmark's event loop. A feed of 1,000 entries is queued at start for 10 private
chats (1 message a second each, 10 a second in all: the outbox always has something to
send, and no chat is at its limit; with `--channels`, for 10 channels instead, whose 20
messages a minute the backlog fills). Then, `--kills` times: the holder
of the "telegram" lease is SIGKILLed, a user sends /help at once, and three times are
taken from the kill: until (a) another process holds the lease, (b) the /help is
answered, (c) a headline reaches a channel again (the first message arriving more than
0.25 s after the kill: what the killed process had already sent lands within
milliseconds). A fresh process is started after each kill, so that two or more run at
all times. Prints each kill's times and the 429s the fake answered from the kill until
the fresh process ran, then the median and worst of each time (goal: worst under 15 s).

    .venv/bin/python -m benchmarks.takeover [--kills 10] [--processes 3] [--chats 10]
        [--channels]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._cluster import Cluster, cluster, write_config
from bot.roles import LEASE_TTL, RENEW_EVERY
from testing import postgres
from testing.fake_telegram import FakeLimits, FakeTelegram
from testing.feedserver import FeedServer, make_rss, sample_entries

FEEDS = ("Backlog",)
BACKLOG = 1000  # entries per feed, all queued at the first poll
USER = 2001  # who sends /help after each kill
IN_FLIGHT = 0.25  # seconds after the kill in which the killed process's last sends land
GOAL = 15.0


@dataclass
class Kill:
    lease: float  # seconds until another process held the "telegram" lease
    answered: float  # until the /help sent right after the kill was answered
    drained: float  # until a headline reached a destination again
    too_many: int = 0  # 429s the fake answered from the kill until the fresh process ran

    def line(self, number: int) -> str:
        return (
            f"{number:>4} {self.lease:>8.2f} {self.answered:>8.2f} {self.drained:>8.2f}"
            f" {self.too_many:>5}"
        )


HEADER = f"{'kill':>4} {'lease s':>8} {'/help s':>8} {'outbox s':>8} {'429s':>5}"


async def takeover(bots: Cluster, telegram: FakeTelegram, chats: list[int], before: float) -> Kill:
    """SIGKILL the holder of the "telegram" lease, once it has been sending for `before`
    seconds; the times until the others served Telegram again."""
    to_chats = {str(c) for c in chats}

    def sent_since(at: float, to: set[str]) -> bool:
        for message in reversed(telegram.sent):  # newest first, back to `at`
            if message.at <= at:
                return False
            if message.chat_id in to:
                return True
        return False

    # The holder is sending: its first messages are out.
    await bots.until(lambda: sent_since(time.monotonic() - 1, to_chats), "sending", 120)
    await asyncio.sleep(before)
    holder = bots.holder("telegram")
    assert holder is not None
    bots.kill(holder)
    killed = time.monotonic()
    await telegram.private_command("/help", user_id=USER)
    # All three are watched together: each is when its condition first held.
    watch = {
        "lease": lambda: (h := bots.holder("telegram")) is not None and h != holder,
        "answered": lambda: sent_since(killed, {str(USER)}),
        "drained": lambda: sent_since(killed + IN_FLIGHT, to_chats),
    }
    times = await asyncio.gather(
        *(bots.until(condition, what, 120) for what, condition in watch.items())
    )
    lease, answered, drained = (at - killed for at in times)
    return Kill(lease, answered, drained)


def refused(telegram: FakeTelegram) -> int:
    """The 429s the fake answered: past a limit, or to a chat still held by one."""
    return telegram.too_many + telegram.too_early


async def run(database: str, kills: int, processes: int, chats: int, channels: bool) -> list[Kill]:
    start = datetime.now(UTC)
    first = -1001000000001 if channels else 3001
    destinations = [first - i if channels else first + i for i in range(chats)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        async with (
            FeedServer(log_requests=False) as feeds,
            FakeTelegram(limits=FakeLimits()) as telegram,
        ):
            for name in FEEDS:
                entries = sample_entries(BACKLOG, start=start, seed=f"{name}-")
                feeds.set_feed(f"/{name}", make_rss(entries))
            config = Path(tmp) / "config.toml"
            write_config(
                config,
                database,
                {name: feeds.url(f"/{name}") for name in FEEDS},
                backfill=BACKLOG,
                telegram=(telegram.url, destinations),
            )
            with cluster(config, Path(tmp), database) as bots:
                for _ in range(processes):
                    bots.start()
                await bots.until(lambda: len(bots.live()) == processes, "all running", 120)
                for number in range(1, kills + 1):
                    before = refused(telegram)
                    kill = await takeover(bots, telegram, destinations, before=3)
                    # A fresh process in place of the killed one, running before the next.
                    fresh = bots.start().pid
                    await bots.until(lambda new=fresh: new in bots.live(), "a fresh process", 120)
                    kill.too_many = refused(telegram) - before
                    results.append(kill)
                    print(kill.line(number), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--processes", type=int, default=3, help="bot processes (2 or more)")
    parser.add_argument("--chats", type=int, default=10, help="chats the backlog goes to")
    parser.add_argument(
        "--channels", action="store_true", help="the chats are channels (20 a minute each)"
    )
    args = parser.parse_args()
    if args.processes < 2:
        parser.error("--processes: at least 2, one to kill and one to take over")
    kind = "channels" if args.channels else "private chats"
    print(
        f"LEASE_TTL {LEASE_TTL:g} s, RENEW_EVERY {RENEW_EVERY:g} s; {args.processes} processes; "
        f"a backlog for {args.chats} {kind}"
    )
    print(HEADER)
    with postgres.running() as server:
        results = asyncio.run(
            run(server.database("takeover"), args.kills, args.processes, args.chats, args.channels)
        )
    for what in ("lease", "answered", "drained"):
        times = [getattr(k, what) for k in results]
        worst = max(times)
        print(
            f"{what:>8}: median {statistics.median(times):.2f} s, worst {worst:.2f} s"
            f" ({'under' if worst < GOAL else 'OVER'} the goal of {GOAL:g} s)"
        )
    print(f"429s after the kills: {sum(k.too_many for k in results)}")
    print("lease: another process holds it; answered: the /help sent after the kill;")
    print(f"drained: a headline reaches a chat (arriving {IN_FLIGHT:g} s or more after the kill)")


if __name__ == "__main__":
    main()
