"""Helpers for the benchmarks that run several `python -m bot run` processes on one
PostgreSQL database (takeover, fanout_processes): their config, starting and stopping
them, and reading the leases. Not a benchmark itself (its name starts with `_`)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

from testing.processes import start_bot, tail


def write_config(
    path: Path,
    database: str,
    feeds: dict[str, str],
    *,
    interval: int = 3600,
    backfill: int = 0,
    telegram: tuple[str, list[int]] | None = None,
    discord: tuple[str, str, list[str]] | None = None,
) -> None:
    """A config for every process: `feeds` by name: URL; `telegram` (API URL, chats) and
    `discord` (API URL, token, channels) with those destinations."""
    text = f"""
database = "{database}"
backfill = {backfill}
max_posts_per_poll = {max(backfill, 1)}
max_age_hours = 0
[fetch]
parse_workers = 0
"""
    for name, url in feeds.items():
        text += f'\n[[feeds]]\nname = "{name}"\nurl = "{url}"\ninterval = {interval}\n'
    if telegram:
        url, chats = telegram
        text += f'\n[telegram]\ntoken = "123456:TEST-token-never-logged"\napi_base_url = "{url}"\n'
        text += "".join(f"\n[[telegram.destinations]]\nchat = {c}\n" for c in chats)
    if discord:
        url, token, channels = discord
        text += f'\n[discord]\ntoken = "{token}"\napi_base_url = "{url}"\n'
        text += "".join(f'\n[[discord.destinations]]\nchannel = "{c}"\n' for c in channels)
    path.write_text(text)


class Cluster:
    """The bot processes of one config, each logging to a file of its own in `folder`."""

    def __init__(self, config: Path, folder: Path, database: str) -> None:
        self.config = config
        self.folder = folder
        self.database = database
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.logs: dict[int, Path] = {}
        self._db: psycopg.Connection | None = None

    def start(self) -> subprocess.Popen[bytes]:
        log = self.folder / f"bot{len(self.logs)}.log"
        process = start_bot(self.config, log)
        self.processes[process.pid] = process
        self.logs[process.pid] = log
        return process

    def kill(self, pid: int) -> None:
        process = self.processes.pop(pid)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()
        if self._db is not None:
            self._db.close()

    def tails(self) -> str:
        return "\n".join(f"== {log}\n{tail(log)}" for log in self.logs.values())

    def _query(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        if self._db is None:
            self._db = psycopg.connect(self.database, autocommit=True)
        try:
            return self._db.execute(sql, args).fetchall()
        except psycopg.errors.UndefinedTable:  # no bot has made the tables yet
            return []

    def holder(self, role: str) -> int | None:
        """The pid of the process holding `role`'s lease now, if any."""
        rows = self._query(
            "SELECT holder FROM leases WHERE name = %s AND expires >= extract(epoch FROM now())",
            (role,),
        )
        return pid_of(str(rows[0][0])) if rows else None

    def live(self, within: float = 3.0) -> set[int]:
        """The pids of the processes that beat in the last `within` seconds."""
        rows = self._query(
            "SELECT pid FROM processes WHERE last_seen >= extract(epoch FROM now()) - %s",
            (within,),
        )
        return {int(r[0]) for r in rows}  # type: ignore[call-overload]

    async def until(self, condition: Callable[[], bool], what: str, seconds: float) -> float:
        """Wait (checking every 50 ms) until `condition()`; when it first held
        (time.monotonic()). Fails with the processes' logs after `seconds`, or if one exits."""
        deadline = time.monotonic() + seconds
        while True:
            if condition():
                return time.monotonic()
            for pid, process in self.processes.items():
                if process.poll() is not None:
                    raise SystemExit(f"bot {pid} exited ({process.returncode}):\n{self.tails()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {what}\n{self.tails()}")
            await asyncio.sleep(0.05)


@contextlib.contextmanager
def cluster(config: Path, folder: Path, database: str) -> Iterator[Cluster]:
    running = Cluster(config, folder, database)
    try:
        yield running
    finally:
        running.stop()


def pid_of(process_id: str) -> int:
    """The pid in a process id of the database (host:pid:random)."""
    return int(process_id.rsplit(":", 2)[1])
