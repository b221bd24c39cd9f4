"""The bot process is killed with SIGKILL in the middle of deliveries and started again:
nothing is lost, and at most the delivery in flight to each chat is repeated."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram
from tests.feedserver import FeedServer, make_rss, sample_entries

ROOT = Path(__file__).resolve().parents[1]
CHATS = [1001 + i for i in range(8)]  # private chats: the bot sends ~1/s to each
PER_CHAT = 4


def write_config(path: Path, feed_url: str, api_url: str) -> None:
    chats = "".join(f"\n[[telegram.destinations]]\nchat = {c}\n" for c in CHATS)
    path.write_text(
        f"""
database = "bot.db"
backfill = {PER_CHAT}
max_age_hours = 0
[[feeds]]
name = "World"
url = "{feed_url}"
[telegram]
token = "123456:TEST-token-never-logged"
api_base_url = "{api_url}"
{chats}"""
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def start_bot(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PTB_TIMEDELTA": "1"}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "--log-level", "debug", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_sigkill_during_delivery_loses_nothing(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    entries = sample_entries(PER_CHAT, start=datetime.now(UTC))
    total = len(CHATS) * PER_CHAT
    async with FeedServer() as feeds, FakeTelegram() as telegram:
        feeds.set_feed("/news", make_rss(entries))
        config = tmp_path / "config.toml"
        log = tmp_path / "bot.log"
        write_config(config, feeds.url("/news"), telegram.url)

        first = start_bot(config, log)
        processes.append(first)
        await wait_for(lambda: len(telegram.sent) >= total // 3, first, log)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait)
        delivered_before = len(telegram.sent)
        assert delivered_before < total, "the crash came too late to test anything"

        second = start_bot(config, log)
        processes.append(second)
        everything = {(str(c), e.title) for c in CHATS for e in entries}
        await wait_for(lambda: received(telegram) >= everything, second, log)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 20) == 0, log.read_text()[-3000:]

    counts = Counter((m.chat_id, title_of(m.text)) for m in telegram.sent)
    assert set(counts) == everything
    repeats = Counter(chat for (chat, _), n in counts.items() for _ in range(n - 1))
    assert all(n <= 1 for n in repeats.values()), repeats
    for chat in CHATS:  # and each chat got its headlines oldest first
        titles = [title_of(m.text) for m in telegram.messages(chat)]
        firsts = list(dict.fromkeys(titles))
        assert firsts == [e.title for e in reversed(entries)]
    text = log.read_text()
    assert "TEST-token-never-logged" not in text and "Traceback" not in text


def received(telegram: FakeTelegram) -> set[tuple[str, str]]:
    return {(m.chat_id, title_of(m.text)) for m in telegram.sent}


def title_of(text: str) -> str:
    return text.splitlines()[0]


async def wait_for(condition: object, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(300):
        if condition():  # type: ignore[operator]
            return
        if process.poll() is not None:
            raise AssertionError(f"the bot exited early:\n{tail(log)}")
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for the bot:\n{tail(log)}")


def tail(log: Path) -> str:
    return log.read_text()[-3000:]
