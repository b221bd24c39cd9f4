"""`run` as an operator's process manager sees it: a stop is clean and quiet, and one
database has one running bot."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testing.feedserver import FeedServer, make_rss, sample_entries
from testing.postgres import PostgresServer

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
            config, feeds.url("/slow-1"), feeds.url("/slow-2"), extra="[fetch]\ntimeout = 300"
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


async def bot_cli(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:  # timed out: a bot that should have exited did not
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_second_run_on_the_same_database_is_refused(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        config = tmp_path / "config.toml"
        write_config(config, feeds.url("/news"))
        stderr = tmp_path / "first.log"
        first = start_bot(config, stderr, processes)
        await wait_for(lambda: "bot: running" in stderr.read_text(), first)

        code, _, err = await bot_cli("run", "--config", str(config))
        assert code == 2, err
        assert err.startswith(
            f"error: storage: another bot sends from the database {tmp_path / 'bot.db'} "
            f"(pid {first.pid} on {socket.gethostname()}"
        ), err
        assert "Traceback" not in err
        assert first.poll() is None  # the first one runs on, and stops cleanly
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 60) == 0, stderr.read_text()


async def test_a_second_run_on_one_postgresql_database_is_refused(
    tmp_path: Path,
    processes: list[subprocess.Popen[bytes]],
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Until processes share the work, PostgreSQL keeps one sending bot per database too,
    by an advisory lock, with the same message and exit status."""
    url = postgres_server.database()
    monkeypatch.setenv("HEADLINES_DATABASE_URL", url)  # for both bots, over the file's
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        config = tmp_path / "config.toml"
        write_config(config, feeds.url("/news"))
        stderr = tmp_path / "first.log"
        first = start_bot(config, stderr, processes)
        await wait_for(lambda: "bot: running" in stderr.read_text(), first)

        code, _, err = await bot_cli("run", "--config", str(config))
        assert code == 2, err
        assert err.startswith(
            f"error: storage: another bot sends from the database {url} "
            f"(headlines-bot pid {first.pid} on {socket.gethostname()}"
        ), err
        assert "Traceback" not in err
        assert first.poll() is None
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 60) == 0, stderr.read_text()
    assert not (tmp_path / "bot.db").exists()  # the URL was used, not the file


async def test_after_a_crash_the_next_run_starts(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        config = tmp_path / "config.toml"
        write_config(config, feeds.url("/news"))
        first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
        first = start_bot(config, first_log, processes)
        await wait_for(lambda: "bot: running" in first_log.read_text(), first)
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait)

        second = start_bot(config, second_log, processes)
        await wait_for(lambda: "bot: running" in second_log.read_text(), second)
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 60) == 0, second_log.read_text()


async def test_status_and_poll_once_work_beside_a_running_bot(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        config = tmp_path / "config.toml"
        write_config(config, feeds.url("/news"), extra="[console]\nenabled = true")
        stderr = tmp_path / "bot.log"
        bot = start_bot(config, stderr, processes)
        await wait_for(lambda: "poller: Feed 0: 3 new" in stderr.read_text(), bot)

        # New headlines since the bot's first poll: `poll --once` stores them, and leaves
        # sending them to the running bot rather than posting them a second time.
        feeds.set_feed("/news", make_rss(sample_entries(5, seed="new-", start=datetime.now(UTC))))
        code, out, err = await bot_cli("poll", "--once", "--config", str(config))
        assert code == 0, err
        assert "Feed 0: 5 entries, 5 new, 5 deliveries queued" in out
        assert f"delivered 0: the bot running on this database (pid {bot.pid} on " in out
        assert "\n* " not in out and not out.startswith("* ")  # no post printed here

        code, out, err = await bot_cli("status", "--config", str(config))
        assert code == 0, err
        assert "Feed 0: " + feeds.url("/news") in out
        assert bot.poll() is None
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(bot.wait, 60) == 0, stderr.read_text()
