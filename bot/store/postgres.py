"""The PostgreSQL backend: a server that several bot processes can share.

Through psycopg 3's AsyncConnection, in autocommit mode: transactions are explicit
(BEGIN ... COMMIT), as on SQLite. The statements' `?` placeholders become psycopg's `%s`.
A connection that broke (the server restarted, the network dropped) is opened again by
the next statement; until then the write health says the database cannot be written.

Migrations run one transaction each, under a transaction-level advisory lock, so two
processes starting at once apply each migration once. Which process sends for a
platform is settled by leases in the database (bot/roles.py), not by a lock here.
"""

from __future__ import annotations

import functools
import os
import re
import socket
from collections.abc import Sequence
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from bot.store.db import StorageError
from bot.store.schema_postgres import MIGRATIONS, hour_sql

# The advisory locks' keys: (this application, what is locked). Per database, so bots on
# other databases of the same server are not affected.
LOCK_SPACE = 0x68656164  # "head"
MIGRATIONS_LOCK = 0
CONNECT_TIMEOUT = 10  # seconds
MAX_PARAMS = 5000  # per statement; the protocol's limit is 65535
# Matches of a search read off the index before choosing how to find the newest: at
# least the window of newest matches a search orders (headlines.SEARCH_WINDOW, 200).
SEARCH_CANDIDATES = 500
# An INSERT whose VALUES is one row of placeholders, made into many rows by executemany.
_MULTI_ROW = re.compile(r"(\s*INSERT\s.*?\bVALUES\s*)(\((?:\s*\?\s*,)*\s*\?\s*\))(.*)", re.S | re.I)

# SQLSTATE classes and codes that say the server takes no writes now: connection
# exceptions (08), insufficient resources (53: disk full 53100, out of memory, too many
# connections), operator intervention (57P: shutting down, starting up), system errors
# (58: I/O), a read-only transaction (25006: a standby, default_transaction_read_only)
# and a role without the right (42501), as SQLite's read-only or permission errors.
_CANNOT_WRITE_CLASSES = ("08", "53", "57P", "58")
_CANNOT_WRITE_CODES = {"25006", "42501"}


def cannot_write(error: BaseException) -> bool:
    """Whether `error` says the server takes no writes now (rather than a bug)."""
    if not isinstance(error, psycopg.Error):
        return False
    state = error.sqlstate
    if state is None:  # no answer from the server: the connection is gone or closed
        return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)
    return state.startswith(_CANNOT_WRITE_CLASSES) or state in _CANNOT_WRITE_CODES


def redact(url: str) -> str:
    """`url` without its password (in the authority or as a `password=` parameter)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        query = urlencode([(k, "***" if k == "password" else v) for k, v in pairs], safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _secrets(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [parts.password] if parts.password else []
    found += [v for k, v in parse_qsl(parts.query) if k == "password" and v]
    return found


@functools.lru_cache(maxsize=512)
def to_psycopg(sql: str) -> str:
    """`sql` with psycopg's placeholders: `?` -> `%s`, a literal `%` -> `%%`."""
    return sql.replace("%", "%%").replace("?", "%s")


def _say(url: str, text: str) -> str:
    """A StorageError's message: `text`, with no password of `url` in it anywhere (a
    driver's error could quote the connection string)."""
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return f"storage: {text}"


async def _connect(url: str) -> psycopg.AsyncConnection[Any]:
    return await psycopg.AsyncConnection.connect(
        url,
        autocommit=True,
        connect_timeout=CONNECT_TIMEOUT,
        application_name=whoami(),
        # Plans made for the values at hand: a prepared statement's generic plan cannot
        # use the partial index of pending deliveries (its status is a parameter), and
        # misjudges the IN lists; planning these is cheap.
        options="-c plan_cache_mode=force_custom_plan",
    )


def whoami() -> str:
    return f"headlines-bot pid {os.getpid()} on {socket.gethostname()}"[:63]


class PostgresBackend:
    def __init__(self, url: str, db: psycopg.AsyncConnection[Any]) -> None:
        self.url = url
        self.name = redact(url)
        self.for_update = " FOR UPDATE"
        self.skip_locked = " FOR UPDATE SKIP LOCKED"
        self.now_sql = "extract(epoch FROM statement_timestamp())::float8"
        self._db = db

    @classmethod
    async def open(cls, url: str) -> Self:
        try:
            db = await _connect(url)
        except psycopg.Error as error:
            message = f"cannot open the database {redact(url)}: {error}"
            raise StorageError(_say(url, message)) from None
        backend = cls(url, db)
        try:
            await backend._migrate()
        except psycopg.Error as error:
            await db.close()
            message = f"cannot use the database {backend.name}: {error}"
            raise StorageError(_say(url, message)) from None
        except BaseException:
            await db.close()
            raise
        return backend

    async def _connection(self) -> psycopg.AsyncConnection[Any]:
        """The connection, opened again if it broke; a failure to reconnect raises
        psycopg's OperationalError, which the write health counts."""
        if self._db.closed or self._db.broken:
            self._db = await _connect(self.url)
        return self._db

    def hour_sql(self, published: str) -> str:
        return hour_sql(published)

    def cannot_write(self, error: BaseException) -> bool:
        return cannot_write(error)

    def search_sql(self, terms: Sequence[str], region: str | None) -> tuple[str, list[Any]]:
        # The tsvector of migration 6 under its GIN index. Each term is a phrase query of
        # its own (a word is a phrase of one), its accents folded as the index's, joined
        # with &&: phraseto_tsquery reads no operators, so user text is never query
        # syntax.
        term = "phraseto_tsquery('simple', headlines_fold(?))"
        where = [f"h.search_vector @@ ({' && '.join([term] * len(terms))})"]
        args: list[Any] = list(terms)
        if region is not None:
            where.append(
                """EXISTS (SELECT 1 FROM headline_regions r
                WHERE r.headline_id = h.id AND r.region = ?)"""
            )
            args.append(region)
        matches = f"SELECT h.id FROM headlines h WHERE {' AND '.join(where)}"
        # How the newest matches are found depends on how many there are, which the
        # planner cannot know for a word it has no statistics for (nor for a phrase, whose
        # words it judges apart): read newest first, the archive for a word found nowhere
        # is read whole (286 ms at 1,000,000). So the index's matches are read first, up
        # to SEARCH_CANDIDATES: fewer than that are all there are, and are sorted here;
        # as many means a common word, whose newest are read newest first, soon found.
        few = SEARCH_CANDIDATES
        sql = f"""WITH m AS MATERIALIZED ({matches} LIMIT {few}),
                n AS (SELECT count(*) AS found FROM m)
            SELECT id FROM (
                SELECT id FROM m WHERE (SELECT found FROM n) < {few}
                UNION ALL
                (SELECT h.id FROM headlines h WHERE {" AND ".join(where)}
                    AND (SELECT found FROM n) >= {few} ORDER BY h.id DESC LIMIT {few})
            ) u ORDER BY id DESC LIMIT ?"""
        return sql, args + args

    async def execute(self, sql: str, args: Sequence[Any]) -> int:
        db = await self._connection()
        cursor = await db.execute(to_psycopg(sql), args)
        return cursor.rowcount

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        db = await self._connection()
        insert = _MULTI_ROW.match(sql)
        async with db.cursor() as cursor:
            if insert is None:
                await cursor.executemany(to_psycopg(sql), rows)
                return
            # An INSERT of many rows is one statement of many VALUES: one round trip, one
            # plan, where executemany would run the statement once per row.
            head, row, tail = insert.groups()
            per_statement = max(1, MAX_PARAMS // max(1, row.count("?")))
            for start in range(0, len(rows), per_statement):
                chunk = rows[start : start + per_statement]
                values = ", ".join([row] * len(chunk))
                await cursor.execute(
                    to_psycopg(f"{head}{values}{tail}"), [v for r in chunk for v in r]
                )

    async def fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]:
        db = await self._connection()
        cursor = await db.execute(to_psycopg(sql), args)
        return await cursor.fetchall()

    async def fetchone(self, sql: str, args: Sequence[Any]) -> Any:
        db = await self._connection()
        cursor = await db.execute(to_psycopg(sql), args)
        return await cursor.fetchone()

    async def begin(self) -> None:
        db = await self._connection()
        try:
            await db.execute("BEGIN")
        except psycopg.OperationalError:
            if not db.broken:
                raise
            # The server ended the session while it was idle (a restart, a failover, an
            # idle timeout): nothing was done in it, so a new one starts the transaction.
            db = await self._connection()
            await db.execute("BEGIN")

    async def commit(self) -> None:
        await self._db.execute("COMMIT")

    async def rollback(self) -> None:
        # A broken connection took its transaction with it; the error that broke it is
        # the one to report, not the ROLLBACK's.
        if not (self._db.closed or self._db.broken):
            try:
                await self._db.execute("ROLLBACK")
            except psycopg.Error:
                await self._db.close()

    async def probe(self) -> None:
        await self._db.execute("UPDATE schema_version SET version = version")

    async def claim_sender(self) -> None:
        """Nothing to claim: processes share a PostgreSQL database, each sending for the
        platforms whose lease it holds (bot/roles.py)."""

    async def close(self) -> None:
        await self._db.close()

    async def _migrate(self) -> None:
        """Apply the migrations this database lacks, each in a transaction of its own,
        under an advisory lock: a process starting at the same time waits, then finds
        the migration applied."""
        db = self._db
        for number, script in enumerate(MIGRATIONS, start=1):
            async with db.transaction():
                await db.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_SPACE, MIGRATIONS_LOCK)
                )
                await db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
                )
                row = await (await db.execute("SELECT version FROM schema_version")).fetchone()
                if row is None:
                    await db.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = row[0] if row else 0
                if version > len(MIGRATIONS):
                    raise StorageError(
                        f"storage: database schema version {version} is newer than this "
                        f"bot ({len(MIGRATIONS)}); upgrade the bot"
                    )
                if version >= number:
                    continue
                await db.execute(script)
                await db.execute("UPDATE schema_version SET version = %s", (number,))
