"""The database itself: opening the SQLite file, the one connection, transactions, whether
it takes writes, the sender's claim on it and the migrations runner.

Everything SQLite-specific beyond the SQL of the tables lives here (and in lockfile.py):
the PRAGMAs, BEGIN IMMEDIATE, sqlite3's error codes, the lock file. The table modules
(feeds, headlines, deliveries, destinations) build on `Database` and only write SQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import aiosqlite

from bot.store.lockfile import Held, LockFile
from bot.store.schema import MIGRATIONS

log = logging.getLogger(__name__)

SQL_VARS = 500  # SQLite's variable limit is 32766 today; stay far below it.
# SQLite's answers that say the file takes no writes now (disk full, I/O error, read-only
# file or directory, locked by another process for too long), not that a query is wrong.
_CANNOT_WRITE = {
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
}
# While the database cannot be written, say so once a minute: not once per attempt.
UNWRITABLE_LOG_EVERY = 60.0


class StorageError(Exception):
    """The database cannot be opened or used; the message names the file."""


class DatabaseInUse(StorageError):
    """Another process sends from this database; the message names it, `holder` too."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


def cannot_write(error: BaseException) -> bool:
    """Whether `error` says the database file takes no writes now (rather than a bug)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _CANNOT_WRITE


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
        self.error = str(error)
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
    """One SQLite file through one aiosqlite connection; the table parts of `Storage`
    extend it with their queries."""

    def __init__(self, db: aiosqlite.Connection, path: str | Path = ":memory:") -> None:
        self._db = db
        self.path = path
        self._sender_lock: LockFile | None = None
        # One connection serves every task: transactions take turns on it.
        self._lock = asyncio.Lock()
        self.health = WriteHealth(str(path))

    @classmethod
    async def open(cls, path: str | Path) -> Self:
        """Open (creating if needed) the database at `path` and bring its schema up to date.
        Raises StorageError, naming the file, when that cannot be done."""
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: transactions are explicit (`_transaction`), never implied.
            db = await aiosqlite.connect(path, isolation_level=None)
        except (OSError, sqlite3.Error) as error:
            raise StorageError(f"storage: cannot open the database {path}: {error}") from None
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            await _migrate(db)
        except sqlite3.Error as error:
            await db.close()
            raise StorageError(f"storage: cannot use the database {path}: {error}") from None
        except BaseException:
            await db.close()
            raise
        return cls(db, path)

    async def close(self) -> None:
        await self._db.close()
        if self._sender_lock is not None:
            self._sender_lock.release()
            self._sender_lock = None

    async def claim_sender(self) -> None:
        """Make this process the one that sends from this database until `close()`, or
        raise DatabaseInUse naming the one that does: two senders draining one outbox
        would post the same headline twice. Reading, polling and `enable` need no claim:
        SQLite's own locking keeps their writes apart.

        Here the claim is an OS lock on `<database>.lock`, which a crash releases too."""
        if self._sender_lock is not None or str(self.path) == ":memory:":
            return
        lock_path = Path(f"{self.path}.lock")
        try:
            self._sender_lock = LockFile.acquire(lock_path)
        except Held as held:
            raise DatabaseInUse(
                f"storage: another bot sends from the database {self.path} ({held.holder}, "
                f"holding {lock_path}): one database has one sending bot. Stop that one "
                "first, or give this one its own `database`.",
                held.holder,
            ) from None
        except OSError as error:
            raise StorageError(
                f"storage: cannot lock the database {self.path} for this bot ({lock_path}): {error}"
            ) from None

    async def probe(self) -> None:
        """Commit a write that changes nothing; raises the sqlite3.Error that says why the
        database cannot be written (a full disk fails here too: the commit writes a page)."""
        async with self._transaction():
            await self._db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    # -- helpers for the table parts -----------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock, self.health)

    async def _fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self._db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, args: Sequence[Any]) -> Any:
        async with self._db.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def _fetch_in(self, sql: str, first: Sequence[Any], values: Sequence[Any]) -> list[Any]:
        """The rows of `sql`, whose `{}` is the placeholders of an IN list, for all of
        `values`: asked in chunks, after the arguments `first`."""
        rows: list[Any] = []
        for start in range(0, len(values), SQL_VARS):
            chunk = values[start : start + SQL_VARS]
            query = sql.format(", ".join("?" * len(chunk)))
            rows += await self._fetchall(query, (*first, *chunk))
        return rows


class _Transaction:
    """`async with`: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error; one at a time.
    Whether the database took the write goes to `health`."""

    def __init__(self, db: aiosqlite.Connection, lock: asyncio.Lock, health: WriteHealth) -> None:
        self._db = db
        self._lock = lock
        self._health = health

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        try:
            await self._db.execute("BEGIN IMMEDIATE")
        except BaseException as error:
            self._lock.release()
            self._health.failed(error)
            raise

    async def __aexit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                try:
                    await self._db.commit()
                except BaseException as error:
                    self._health.failed(error)
                    await self._rollback()
                    raise
                self._health.succeeded()
            else:
                self._health.failed(exc)
                await self._rollback()
        finally:
            self._lock.release()

    async def _rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does): a ROLLBACK then fails,
        # and must not hide the error that caused it. A transaction left open (a busy
        # COMMIT keeps it) must end, or no later BEGIN could start.
        if self._db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self._db.rollback()


async def _migrate(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    version = row[0] if row else 0
    if version > len(MIGRATIONS):
        raise StorageError(
            f"storage: database schema version {version} is newer than this bot "
            f"({len(MIGRATIONS)}); upgrade the bot"
        )
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # Foreign keys off while a migration runs, as SQLite's way of changing a table's
        # constraints asks (build the new table, drop the old, rename): dropping a table
        # that others reference would fail otherwise. The pragma only works outside a
        # transaction; the check before COMMIT keeps every reference sound.
        await db.executescript(
            f"PRAGMA foreign_keys=OFF; BEGIN; {script}; PRAGMA user_version = {number};"
        )
        async with db.execute("PRAGMA foreign_key_check") as cursor:
            broken = await cursor.fetchall()
        if broken:
            await db.rollback()
            raise StorageError(f"storage: migration {number} broke references: {broken[:3]}")
        await db.execute("COMMIT")
        await db.execute("PRAGMA foreign_keys=ON")
