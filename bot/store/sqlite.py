"""The SQLite backend: one file through one aiosqlite connection; the embedded default
for one process. The PRAGMAs, BEGIN IMMEDIATE, sqlite3's error codes, the lock file and
the migrations runner (PRAGMA user_version) live here."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import aiosqlite

from bot.store.db import DatabaseInUse, StorageError
from bot.store.lockfile import Held, LockFile
from bot.store.schema import MIGRATIONS, hour_sql

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


def cannot_write(error: BaseException) -> bool:
    """Whether `error` says the database file takes no writes now (rather than a bug)."""
    code = getattr(error, "sqlite_errorcode", None)
    return isinstance(error, sqlite3.Error) and code is not None and code & 0xFF in _CANNOT_WRITE


class SqliteBackend:
    def __init__(self, db: aiosqlite.Connection, path: str | Path) -> None:
        self.db = db
        self.path = path
        self.name = str(path)
        self.for_update = ""  # BEGIN IMMEDIATE has locked the whole file already
        self.skip_locked = ""
        self.now_sql = "((julianday('now') - 2440587.5) * 86400.0)"
        self._sender_lock: LockFile | None = None

    @classmethod
    async def open(cls, path: str | Path) -> Self:
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            # Autocommit: transactions are explicit (`begin`), never implied.
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

    def hour_sql(self, published: str) -> str:
        return hour_sql(published)

    def cannot_write(self, error: BaseException) -> bool:
        return cannot_write(error)

    def search_sql(self, terms: Sequence[str], region: str | None) -> tuple[str, list[Any]]:
        # FTS5's index, headlines_search. Every term is quoted, so nothing a user typed
        # reaches its query syntax (NEAR, *, :, parentheses).
        query = " ".join('"' + term.replace('"', '""') + '"' for term in terms)
        where, args = ["headlines_search MATCH ?"], [query]
        if region is not None:
            where.append(
                """EXISTS (SELECT 1 FROM headline_regions r
                WHERE r.headline_id = headlines_search.rowid AND r.region = ?)"""
            )
            args.append(region)
        sql = f"""SELECT rowid AS id FROM headlines_search WHERE {" AND ".join(where)}
            ORDER BY rowid DESC LIMIT ?"""
        return sql, args

    async def execute(self, sql: str, args: Sequence[Any]) -> int:
        cursor = await self.db.execute(sql, args)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self.db.executemany(sql, rows)

    async def fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self.db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def fetchone(self, sql: str, args: Sequence[Any]) -> Any:
        async with self.db.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def begin(self) -> None:
        await self.db.execute("BEGIN IMMEDIATE")

    async def commit(self) -> None:
        await self.db.commit()

    async def rollback(self) -> None:
        # SQLite may have rolled back already (a full disk does): a ROLLBACK then fails,
        # and must not hide the error that caused it. A transaction left open (a busy
        # COMMIT keeps it) must end, or no later BEGIN could start.
        if self.db.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                await self.db.rollback()

    async def probe(self) -> None:
        # A full disk fails here too: the commit writes a page.
        await self.db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    async def claim_sender(self) -> None:
        """An OS lock on `<database>.lock`, which a crash releases too."""
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

    async def close(self) -> None:
        await self.db.close()
        if self._sender_lock is not None:
            self._sender_lock.release()
            self._sender_lock = None


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
