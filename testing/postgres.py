"""A PostgreSQL server of its own for the tests and the benchmarks: initdb in a temporary
folder, listening on 127.0.0.1 on a free port, fsync off (its data is thrown away).

PostgreSQL refuses to run as root, and the tests and CI run as root: the server's
commands then run as the `postgres` system user (Debian's package creates it), in a
folder that user owns. The server binaries are found through `pg_config --bindir`, then
Debian's /usr/lib/postgresql/*/bin, then PATH.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL's server (initdb, pg_ctl) is not installed: `apt-get install postgresql` "
    "(Debian, Ubuntu) or your system's package, then run the tests again"
)


class Unavailable(Exception):
    """No PostgreSQL server can be started here; the message says how to install one."""


def find_bindir() -> Path:
    """The folder of initdb and pg_ctl, or Unavailable."""
    candidates: list[str] = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=10
        )
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise Unavailable(INSTALL_HINT)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One server; `database()` makes a fresh, empty database on it and returns its URL."""

    def __init__(self, folder: Path, bindir: Path, port: int, user: str) -> None:
        self.folder = folder
        self.bindir = bindir
        self.port = port
        self.user = user  # the database role the URLs log in as (trust auth, no password)
        self._names = itertools.count(1)

    @classmethod
    def start(cls) -> PostgresServer:
        bindir = find_bindir()
        folder = Path(tempfile.mkdtemp(prefix="headlines-pg-"))
        as_root = os.geteuid() == 0
        if as_root:
            if shutil.which("runuser") is None:
                raise Unavailable("running as root needs `runuser` to start PostgreSQL")
            shutil.chown(folder, "postgres", "postgres")
        server = cls(folder, bindir, _free_port(), "postgres")
        data = folder / "data"
        server._run(
            "initdb",
            "-D",
            str(data),
            "-U",
            server.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-p {server.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories="
            f"{folder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        server._run(
            "pg_ctl", "-D", str(data), "-l", str(folder / "log"), "-o", options, "-w", "start"
        )
        return server

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode:
            log = self.folder / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise Unavailable(
                f"{program} failed ({result.returncode}): {result.stderr.strip()} {tail}"
            )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def database(self, prefix: str = "test") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database of `url` (one of `database()`'s), closing its connections."""
        import psycopg

        name = url.rpartition("/")[2]
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        with contextlib.suppress(Unavailable, OSError, subprocess.SubprocessError):
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def running() -> Iterator[PostgresServer]:
    """A server for the length of the `with`."""
    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()
