"""Shared fixtures: a real database per test (an SQLite file, and a fresh database on the
session's own PostgreSQL server), the shared test corpus location, and two commands added
to the spec."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.chat import spec
from bot.chat.commands import Commands
from bot.chat.spec import CommandSpec, Param, Words
from bot.models import Command, Reply
from bot.regions.names import display_name, find_region
from bot.store import Storage
from testing.postgres import PostgresServer, Unavailable

# As bot.cli does: python-telegram-bot then gives retry_after as a timedelta, unwarned.
os.environ.setdefault("PTB_TIMEDELTA", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started on first use. Where none can be
    started, the PostgreSQL tests skip saying how to install it; in CI they fail."""
    try:
        server = PostgresServer.start()
    except Unavailable as error:
        if os.environ.get("CI"):
            pytest.fail(str(error))
        pytest.skip(str(error))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """What `database` names in the config: an SQLite file in the test's folder, or a new
    empty database on the session's PostgreSQL server (dropped after the test); every
    test using it runs on both."""
    if request.param == "sqlite":
        yield tmp_path / "bot.db"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.database()
    yield url
    server.drop(url)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Bot processes a test started: any still running at its end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
async def storage(database: Path | str) -> AsyncIterator[Storage]:
    store = await Storage.open(database)
    try:
        yield store
    finally:
        await store.close()


class ExtendedCommands(Commands):
    """The core's commands plus the handlers of `EXTRA_COMMANDS`: what a change adding a
    command writes, next to its spec entry."""

    async def _echo(self, command: Command, language: str) -> Reply:
        region = find_region(" ".join(command.args), world=True)
        shown = display_name(region, language) if region else "?"
        return Reply(text=f"echo: {shown}", language=language)

    async def _wipe(self, command: Command, language: str) -> Reply:
        return Reply(text="wiped", language=language)


EXTRA_COMMANDS = (
    CommandSpec(
        "echo",
        Words("Says a region back", "Repite una región"),
        params=(
            Param(
                "region",
                "region",
                Words("A world region", "Una región del mundo"),
                Words("region", "región"),
                "región",
            ),
        ),
    ),
    CommandSpec(
        "wipe", Words("Forget this chat", "Olvidar este chat"), admin_only=True, private=True
    ),
)


@pytest.fixture
def extra_commands(monkeypatch: pytest.MonkeyPatch) -> type[Commands]:
    """Adds /echo (anyone, one region) and /wipe (admins only) to the command spec, for
    as long as the test runs; answer commands with the `Commands` class returned."""
    monkeypatch.setattr(spec, "COMMANDS", (*spec.COMMANDS, *EXTRA_COMMANDS))
    return ExtendedCommands
