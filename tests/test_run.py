"""`run` as an operator's process manager sees it: a stop is clean and quiet, and one
database has one running bot."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.feedserver import FeedServer, make_rss, sample_entries

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def write_config(path: Path, *feed_urls: str, extra: str = "") -> None:
    feeds = "".join(
        f'[[feeds]]\nname = "Feed {i}"\nurl = "{url}"\n' for i, url in enumerate(feed_urls)
    )
    path.write_text(f'database = "bot.db"\n{extra}\n{feeds}')


def start_bot(
    config: Path, stderr: Path, processes: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    with stderr.open("ab") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    processes.append(process)
    return process


async def wait_for(condition: Callable[[], bool], process: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the bot exited early with {process.returncode}")
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the bot")


async def test_sigterm_while_polls_are_in_flight_stops_quietly(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    async with FeedServer() as feeds:
        body = make_rss(sample_entries(3, start=datetime.now(UTC)))
        # Servers that never answer in time, and a fetch timeout longer than the test waits
        # for the stop: the stop must end these polls itself.
        feeds.set_feed("/slow-1", body, delay=600)
        feeds.set_feed("/slow-2", body, delay=600)
        config = tmp_path / "config.toml"
        write_config(
            config, feeds.url("/slow-1"), feeds.url("/slow-2"), extra="[fetch]\ntimeout = 600"
        )
        stderr = tmp_path / "stderr.log"

        bot = start_bot(config, stderr, processes)
        await wait_for(lambda: feeds.in_flight >= 2, bot)
        bot.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(bot.wait, 60)

    log = stderr.read_text()
    assert code == 0, log
    assert "bot: stopping" in log  # the stop was logged, and nothing worse was
    assert " ERROR " not in log and "Traceback" not in log, log
