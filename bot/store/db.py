"""The database itself: which backend it is, the one connection, transactions, whether it
takes writes, the sender's claim on it and the migrations.

Two backends stand behind `Database`: an SQLite file (sqlite.py: the embedded default
for one process) and a PostgreSQL server (postgres.py: for a bot that outgrows one
machine). The table modules (feeds, headlines, deliveries, destinations) write their
SQL once, with `?` placeholders, through `_execute`, `_executemany`, `_fetchall` and
`_fetchone`; a backend rewrites the placeholders to its driver's style, and the few
spots where the dialects differ (the hour of a time) ask the backend for their SQL.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, Self

log = logging.getLogger(__name__)

SQL_VARS = 500  # SQLite's variable limit is 32766 today; stay far below it.
# While the database cannot be written, say so once a minute: not once per attempt.
UNWRITABLE_LOG_EVERY = 60.0
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class StorageError(Exception):
    """The database cannot be opened or used; the message names it (never a password)."""


class DatabaseInUse(StorageError):
    """Another process sends from this database; the message names it, `holder` too."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


def is_postgres(target: str | Path) -> bool:
    """Whether the config's `database` names a PostgreSQL server rather than a file."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def describe(target: str | Path) -> str:
    """The database as messages name it: a file's path, a URL without its password."""
    if is_postgres(target):
        from bot.store.postgres import redact

        return redact(str(target))
    return str(target)


class Backend(Protocol):
    """What `Database` needs of an SQLite file or a PostgreSQL server. Statements take `?`
    placeholders; errors are the driver's own (`DB_ERRORS`)."""

    name: str  # for messages: the path, or the URL without its password
    for_update: str  # what ends a SELECT that locks its rows: " FOR UPDATE", or ""
    skip_locked: str  # what ends one that locks them, skipping rows others locked
    # The database's clock in seconds since the epoch, as SQL: leases are timed by it, so
    # that processes on hosts whose clocks disagree still agree on when one runs out.
    now_sql: str

    def hour_sql(self, published: str) -> str: ...

    def search_sql(self, terms: Sequence[str], region: str | None) -> tuple[str, list[Any]]:
        """A SELECT of the `id`s of the headlines holding every one of `terms` (words, or
        phrases of words separated by spaces), of `region` if given, most recently stored
        first, ending in `LIMIT ?` (the last argument to add), and its arguments."""
        ...

    def cannot_write(self, error: BaseException) -> bool: ...
    async def execute(self, sql: str, args: Sequence[Any]) -> int: ...
    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...
    async def fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]: ...
    async def fetchone(self, sql: str, args: Sequence[Any]) -> Any: ...
    async def begin(self) -> None: ...
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...
    async def probe(self) -> None: ...
    async def claim_sender(self) -> None: ...
    async def close(self) -> None: ...


def _driver_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    import psycopg

    return (sqlite3.Error, psycopg.Error)


# What a database operation raises when the database, not the bot, is the matter: catch
# these (rather than sqlite3.Error) where the bot must keep going.
DB_ERRORS = _driver_errors()


def cannot_write(error: BaseException) -> bool:
    """Whether `error` says the database takes no writes now (rather than a bug)."""
    from bot.store import postgres, sqlite

    return sqlite.cannot_write(error) or postgres.cannot_write(error)


class WriteHealth:
    """Whether the database takes writes: every transaction reports here. While it does
    not, the bot starts no polls and no sends; an ERROR line a minute says why, and the
    first write that succeeds again clears it."""

    def __init__(self, path: str = "") -> None:
        self.path = path
        self.failing_since = 0.0
        self.error = ""
        self._logged_at = 0.0

    @property
    def writable(self) -> bool:
        return not self.failing_since

    def failed(self, error: BaseException) -> None:
        if not cannot_write(error):
            return
        now = time.time()
        self.failing_since = self.failing_since or now
        self.error = str(error).strip()
        if now - self._logged_at >= UNWRITABLE_LOG_EVERY:
            self._logged_at = now
            log.error("%s; no polls or sends until it can", self.describe())

    def succeeded(self) -> None:
        if self.failing_since:
            log.info(
                "storage: the database %s can be written again (it could not for %.0fs)",
                self.path,
                time.time() - self.failing_since,
            )
            self.failing_since = 0.0
            self.error = ""
            self._logged_at = 0.0

    def describe(self) -> str:
        since = datetime.fromtimestamp(self.failing_since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"storage: the database {self.path} cannot be written since {since}: {self.error}"


class Database:
    """The bot's database through one backend; the table parts of `Storage` extend it
    with their queries."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.name = backend.name
        # One connection serves every task: transactions take turns on it.
        self._lock = asyncio.Lock()
        self.health = WriteHealth(backend.name)

    @classmethod
    async def open(cls, target: str | Path) -> Self:
        """Open the database `target` names (an SQLite file, created if needed, or a
        postgresql:// URL) and bring its schema up to date. Raises StorageError, naming
        it, when that cannot be done."""
        if is_postgres(target):
            from bot.store.postgres import PostgresBackend

            return cls(await PostgresBackend.open(str(target)))
        from bot.store.sqlite import SqliteBackend

        return cls(await SqliteBackend.open(target))

    async def close(self) -> None:
        await self.backend.close()

    async def claim_sender(self) -> None:
        """On an SQLite file, make this process the only bot on it until `close()` (an OS
        lock on `<database>.lock`, which a crash releases too), or raise DatabaseInUse
        naming the one that is. Reading, polling and `enable` need no claim. On
        PostgreSQL there is nothing to claim: processes share the database, each sending
        for the platforms whose lease it holds (bot/roles.py)."""
        await self.backend.claim_sender()

    async def probe(self) -> None:
        """Commit a write that changes nothing; raises the driver's error that says why
        the database cannot be written."""
        async with self._transaction():
            await self.backend.probe()

    # -- helpers for the table parts -----------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self.backend, self._lock, self.health)

    def _hour_sql(self, published: str) -> str:
        return self.backend.hour_sql(published)

    def _for_update(self) -> str:
        """What ends a SELECT to lock the rows it reads until the transaction ends."""
        return self.backend.for_update

    async def _execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        """Run a statement; how many rows it changed."""
        return await self.backend.execute(sql, args)

    async def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self.backend.executemany(sql, rows)

    async def _fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]:
        return await self.backend.fetchall(sql, args)

    async def _fetchone(self, sql: str, args: Sequence[Any]) -> Any:
        return await self.backend.fetchone(sql, args)

    async def _fetch_in(self, sql: str, first: Sequence[Any], values: Sequence[Any]) -> list[Any]:
        """The rows of `sql`, whose `{}` is the placeholders of an IN list, for all of
        `values`: asked in chunks, after the arguments `first`."""
        rows: list[Any] = []
        for start in range(0, len(values), SQL_VARS):
            chunk = values[start : start + SQL_VARS]
            query = sql.format(", ".join("?" * len(chunk)))
            rows += await self._fetchall(query, (*first, *chunk))
        return rows


def not_in(column: str, values: Sequence[Any]) -> str:
    """SQL for `column NOT IN (?, ...)` over `values`; true when there are none (SQLite
    takes an empty list, PostgreSQL does not)."""
    if not values:
        return "1 = 1"
    return f"{column} NOT IN ({', '.join('?' * len(values))})"


class _Transaction:
    """`async with`: BEGIN ... COMMIT, or ROLLBACK on any error; one at a time. Whether
    the database took the write goes to `health`."""

    def __init__(self, backend: Backend, lock: asyncio.Lock, health: WriteHealth) -> None:
        self._backend = backend
        self._lock = lock
        self._health = health

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        try:
            await self._backend.begin()
        except BaseException as error:
            self._lock.release()
            self._health.failed(error)
            raise

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                try:
                    await self._backend.commit()
                except BaseException as error:
                    self._health.failed(error)
                    await self._backend.rollback()
                    raise
                self._health.succeeded()
            else:
                self._health.failed(exc)
                await self._backend.rollback()
        finally:
            self._lock.release()
