"""`run` as an operator's process manager sees it: a stop is clean and quiet, and one
database has one running bot."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testing.feedserver import FeedServer, make_rss, sample_entries
from testing.postgres import PostgresServer
from testing.processes import bot_cli, start_bot, wait_for


def write_config(path: Path, *feed_urls: str, extra: str = "") -> None:
    feeds = "".join(
        f'[[feeds]]\nname = "Feed {i}"\nurl = "{url}"\n' for i, url in enumerate(feed_urls)
    )
    path.write_text(f'database = "bot.db"\n{extra}\n{feeds}')


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

        bot = start_bot(config, stderr)

        processes.append(bot)
        await wait_for(lambda: feeds.in_flight >= 2, bot, stderr)
        bot.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(bot.wait, 60)

    log = stderr.read_text()
    assert code == 0, log
    assert "bot: stopping" in log  # the stop was logged, and nothing worse was
    assert " ERROR " not in log and "Traceback" not in log, log


@pytest.fixture
async def feeds() -> AsyncIterator[FeedServer]:
    """A feed server with three fresh entries at /news, for the bots of a test."""
    async with FeedServer() as server:
        server.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        yield server


async def running_bot(
    config: Path, log: Path, processes: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    """`run` in the background, once it says it runs."""
    bot = start_bot(config, log)
    processes.append(bot)
    await wait_for(lambda: "bot: running" in log.read_text(), bot, log)
    return bot


async def test_a_second_run_on_the_same_database_is_refused(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], feeds: FeedServer
) -> None:
    """An SQLite file has one bot: a second `run` exits 2 at once, and the first runs on
    and stops cleanly."""
    config = tmp_path / "config.toml"
    write_config(config, feeds.url("/news"))
    stderr = tmp_path / "first.log"
    first = await running_bot(config, stderr, processes)

    code, _, err = await bot_cli("run", "--config", str(config))
    assert code == 2, err
    assert "Traceback" not in err
    assert first.poll() is None  # the first one runs on, and stops cleanly
    first.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 60) == 0, stderr.read_text()
    assert err.startswith(
        f"error: storage: another bot sends from the database {tmp_path / 'bot.db'} "
        f"(pid {first.pid} on {socket.gethostname()}"
    ), err


async def test_a_second_run_on_one_postgresql_database_stands_by_and_takes_over(
    tmp_path: Path,
    feeds: FeedServer,
    processes: list[subprocess.Popen[bytes]],
    postgres_server: PostgresServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Processes share a PostgreSQL database: a second `run` starts beside the first,
    `status` lists both and who holds what, and when the first stops the second takes
    its role at its next beat."""
    url = postgres_server.database()
    monkeypatch.setenv("HEADLINES_DATABASE_URL", url)  # for both bots, over the file's
    config = tmp_path / "config.toml"
    write_config(config, feeds.url("/news"))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = await running_bot(config, first_log, processes)
    second = await running_bot(config, second_log, processes)

    code, out, err = await bot_cli("status", "--json", "--config", str(config))
    assert code == 0, err
    listed = {p["pid"]: p for p in json.loads(out)["processes"]}
    assert listed[first.pid]["alive"] and listed[second.pid]["alive"]
    assert listed[first.pid]["roles"] == ["maintenance"]
    assert listed[second.pid]["roles"] == []
    code, out, err = await bot_cli("status", "--config", str(config))
    assert f"(pid {second.pid} on {socket.gethostname()}): alive" in out, out

    first.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(first.wait, 60) == 0, first_log.read_text()
    taken = "roles: this process now holds maintenance"
    await wait_for(lambda: taken in second_log.read_text(), second, second_log, tries=200)
    second.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(second.wait, 60) == 0, second_log.read_text()
    assert not (tmp_path / "bot.db").exists()  # the URL was used, not the file


async def test_after_a_crash_the_next_run_starts(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], feeds: FeedServer
) -> None:
    config = tmp_path / "config.toml"
    write_config(config, feeds.url("/news"))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = await running_bot(config, first_log, processes)
    first.send_signal(signal.SIGKILL)
    await asyncio.to_thread(first.wait)

    second = await running_bot(config, second_log, processes)
    second.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(second.wait, 60) == 0, second_log.read_text()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_status_and_poll_once_work_beside_a_running_bot(
    tmp_path: Path,
    feeds: FeedServer,
    processes: list[subprocess.Popen[bytes]],
    backend: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("HEADLINES_DATABASE_URL", server.database())
    config = tmp_path / "config.toml"
    write_config(config, feeds.url("/news"), extra="[console]\nenabled = true")
    stderr = tmp_path / "bot.log"
    bot = start_bot(config, stderr)
    processes.append(bot)
    await wait_for(lambda: "poller: Feed 0: 3 new" in stderr.read_text(), bot, stderr)

    # New headlines since the bot's first poll: `poll --once` stores them, and leaves
    # sending them to the running bot rather than posting them a second time: the
    # file's lock says so on SQLite, the console's lease on PostgreSQL.
    feeds.set_feed("/news", make_rss(sample_entries(5, seed="new-", start=datetime.now(UTC))))
    code, out, err = await bot_cli("poll", "--once", "--config", str(config))
    assert code == 0, err
    assert "Feed 0: 5 entries, 5 new, 5 deliveries queued" in out
    if backend == "sqlite":
        assert f"delivered 0: the bot running on this database (pid {bot.pid} on " in out
    else:
        assert "delivered 0\n" in out
        assert f"console: sent by the bot running as {socket.gethostname()}:{bot.pid}:" in out
    assert "\n* " not in out and not out.startswith("* ")  # no post printed here

    code, out, err = await bot_cli("status", "--config", str(config))
    assert code == 0, err
    assert "Feed 0: " + feeds.url("/news") in out
    assert bot.poll() is None
    bot.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(bot.wait, 60) == 0, stderr.read_text()
