"""Commands with hostile text: event-loop time for the longest text a platform delivers.

Each case is a command as a user can send it: a Telegram message of up to 4096 characters,
split by the Telegram adapter's own `parse_command_text`, or Discord options of up to 6000
characters; the real `Commands` answers it from an SQLite archive in a temporary folder.
What is measured is the CPU time of the event loop's thread while the command is handled
(`time.thread_time`): SQLite runs in aiosqlite's thread, so this is the time during which
no other delivery, command or signal could be served. Also `suggest_region` on its own,
given the whole 4096 characters (the commands never pass it more than they read).

    .venv/bin/python -m benchmarks.commands_text [--repeat 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from adapters.telegram.adapter import parse_command_text
from bot.chat.commands import MAX_ARGS_CHARS, Commands
from bot.config import FeedConfig
from bot.models import ChatRef, Command, Headline
from bot.regions.names import suggest_region
from bot.store import Storage

TELEGRAM_CHARS = 4096
DISCORD_CHARS = 6000
GOAL_MS = 50.0

# The most words a text of n characters can hold: one-letter words that name nothing,
# so that every rule that looks for a region has to try them all.
WORDS = " ".join(["x"] * DISCORD_CHARS)


def telegram(text: str) -> str:
    return text[:TELEGRAM_CHARS]


# (what, how the adapter hands it over: a Command, or text for parse_command_text)
CASES: list[tuple[str, str | tuple[str, tuple[str, ...]]]] = [
    ("Telegram /region, 4096 chars of one-letter words", telegram("/region " + WORDS)),
    ("Telegram /latest, 4096 chars, a quote left open", telegram('/latest 5 "' + WORDS)),
    ("Telegram /subscribe, 4096 chars of region names", telegram("/subscribe " + "Asia, " * 700)),
    ("Telegram, a 4096-char unknown command", "/" + "z" * (TELEGRAM_CHARS - 1)),
    ("Telegram /region, the longest text read", "/region " + WORDS[:MAX_ARGS_CHARS]),
    ("Telegram /subscribe, the longest text read", "/subscribe " + WORDS[:MAX_ARGS_CHARS]),
    ("Discord /latest, 6000-char region option", ("latest", ("3", WORDS[: DISCORD_CHARS - 1]))),
    ("Discord /subscribe, 6000-char region option", ("subscribe", (WORDS[:DISCORD_CHARS],))),
]


def loop_ms(run: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        run()
        times.append((time.thread_time() - start) * 1000)
    return times


async def command_ms(commands: Commands, case: str | tuple[str, tuple[str, ...]]) -> float:
    start = time.thread_time()
    name, args = parse_command_text(case) if isinstance(case, str) else case
    reply = await commands.handle(Command(name, args, ChatRef("bench", "1"), True, "en"))
    spent = (time.thread_time() - start) * 1000
    assert reply.error, reply  # every case is refused or answered "unknown region"
    return spent


async def main(repeat: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        storage = await Storage.open(Path(folder) / "bench.db")
        await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
        await storage.add_headlines(
            "World",
            [
                Headline(
                    "World",
                    str(n),
                    f"Headline {n}",
                    f"https://example.org/{n}",
                    "",
                    datetime.now(UTC),
                )
                for n in range(100)
            ],
        )
        commands = Commands(storage, ("World",))
        print(f"{'case':50} {'median ms':>10} {'max ms':>8}   (event-loop CPU, {repeat} runs)")
        worst = 0.0
        for what, case in CASES:
            times = [await command_ms(commands, case) for _ in range(repeat)]
            worst = max(worst, *times)
            print(f"{what:50} {statistics.median(times):10.2f} {max(times):8.2f}")
        await storage.close()
    times = loop_ms(lambda: suggest_region(WORDS[:TELEGRAM_CHARS]), repeat)
    what = "suggest_region alone, 4096 chars (2048 words)"
    print(f"{what:50} {statistics.median(times):10.2f} {max(times):8.2f}")
    print(f"worst command: {worst:.2f} ms (goal: under {GOAL_MS:.0f} ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=50, help="runs of each case")
    asyncio.run(main(parser.parse_args().repeat))
