"""The database's disk fills up in the middle of a fan-out, then has room again: nothing is
posted twice, polls and sends wait meanwhile with one clear error, and everything goes out
once writes succeed. The disk is a real one: a small tmpfs, really filled."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bot.outbox.sender
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.config import TelegramConfig
from bot.app import HeadlinesBot
from bot.config import load_config
from bot.outbox.sender import Outbox
from bot.store import Storage
from testing.fake_telegram import TOKEN, FakeTelegram
from testing.feedserver import FeedServer, make_rss, sample_entries
from testing.processes import bot_cli
from tests.outbox.test_outbox import owe, statuses

CHATS = [str(2001 + i) for i in range(8)]  # private chats: one message a second each
PER_CHAT = 4


class SmallDisk:
    """A small filesystem of its own, which a test can fill and free again."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / "filler"

    def fill(self) -> None:
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC, error
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    path = tmp_path / "disk"
    path.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mount.returncode != 0:
        # SQLite's max_page_count is no stand-in: it stops a database growing, but marking
        # a delivery sent rewrites pages it has and would still succeed.
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {mount.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "--lazy", str(path)], check=True)


async def until(condition: Callable[[], object], what: str, seconds: float = 30.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


async def test_a_disk_full_during_a_fan_out_repeats_nothing_and_delivers_all_later(
    small_disk: SmallDisk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(bot.outbox.sender, "WRITE_RETRY_FIRST", 0.2)
    storage = await Storage.open(small_disk.path / "bot.db")
    await owe(storage, PER_CHAT, *CHATS, platform="telegram")
    async with FakeTelegram() as telegram:
        adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=telegram.url))
        await adapter.start(_no_commands)
        # The outbox looks again often: the old outbox re-sent at every look.
        outbox = Outbox(storage, {"telegram": adapter}, check_every=0.1)
        held = telegram.hold(CHATS[0])
        running = asyncio.create_task(outbox.run())
        try:
            await asyncio.wait_for(held.arrived.wait(), 10)
            await until(lambda: len(telegram.sent) >= len(CHATS), "the fan-out is under way")

            small_disk.fill()
            held.release.set()  # Telegram takes a send whose record cannot be written
            await asyncio.sleep(1.5)  # what was in flight lands; old code re-sent meanwhile
            stalled = len(telegram.sent)
            await asyncio.sleep(1.5)  # ~15 outbox checks, and a second for every chat
            assert max(Counter(_keys(telegram)).values()) == 1, "posted twice"
            assert len(telegram.sent) == stalled, "sends went on while nothing is recorded"
            assert stalled < len(CHATS) * PER_CHAT, "the disk filled too late to test"
            assert not storage.health.writable

            small_disk.free()
            everything = {c: ["sent"] * PER_CHAT for c in CHATS}
            assert await _wait_recorded(storage, everything) == everything
            assert storage.health.writable
        finally:
            await outbox.stop()
            running.cancel()
            await adapter.stop()
            await storage.close()

    counts = Counter(_keys(telegram))
    assert len(counts) == len(CHATS) * PER_CHAT and set(counts.values()) == {1}
    unwritable = [
        r for r in caplog.records if r.levelno == logging.ERROR and "cannot be written" in r.message
    ]
    assert len(unwritable) == 1, unwritable  # one line a minute, not one per attempt
    assert "database or disk is full" in unwritable[0].message
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert "can be written again" in caplog.text


async def test_polls_wait_while_the_database_cannot_be_written_and_status_says_so(
    small_disk: SmallDisk, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    start = datetime.now(UTC)
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=start)))
        config_file = tmp_path / "config.toml"
        config_file.write_text(
            f'database = "{small_disk.path / "bot.db"}"\n'
            f'[[feeds]]\nname = "News"\nurl = "{feeds.url("/news")}"\n'
        )
        config = load_config(config_file)
        headlines = HeadlinesBot(config)
        await headlines.open()
        try:
            assert (await headlines.poll_feed("News", force=True)).outcome == "first"
            later = sample_entries(6, seed="b", start=start + timedelta(hours=1))
            feeds.set_feed("/news", make_rss(later))

            small_disk.fill()
            failed = await headlines.poll_feed("News", force=True)
            assert failed.outcome == "failed" and "cannot be written" in failed.detail
            fetched = len(feeds.requests_to("/news"))
            skipped = await headlines.poll_feed("News", force=True)
            assert skipped.detail.startswith("not polled: storage: the database")
            assert len(feeds.requests_to("/news")) == fetched  # not even fetched

            code, out, err = await bot_cli("status", "--config", str(config_file))
            assert code == 0, err
            assert "DATABASE CANNOT BE WRITTEN (database or disk is full)" in out

            await headlines.probe_storage()
            assert not headlines.storage.health.writable  # still full: still waiting
            small_disk.free()
            await headlines.probe_storage()
            assert headlines.storage.health.writable
            resumed = await headlines.poll_feed("News", force=True)
            assert (resumed.outcome, resumed.new) == ("new", 6)
        finally:
            await headlines.stop()
    code, out, err = await bot_cli("status", "--config", str(config_file))
    assert code == 0 and "CANNOT BE WRITTEN" not in out, out + err
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


async def _no_commands(command: object) -> None:
    raise AssertionError("no commands in this test")


def _keys(telegram: FakeTelegram) -> list[tuple[str, str]]:
    return [(m.chat_id, m.text.splitlines()[0]) for m in telegram.sent]


async def _wait_recorded(storage: Storage, wanted: dict[str, list[str]]) -> dict[str, list[str]]:
    """What is recorded, once it is `wanted` or after 30 s."""
    found: dict[str, list[str]] = {}
    for _ in range(300):
        found = await statuses(storage)
        if found == wanted:
            break
        await asyncio.sleep(0.1)
    return found
