"""Everything the bot remembers, in one SQLite file through aiosqlite.

Storage decides what is new: `add_headlines` stores a poll's entries and writes the
deliveries they owe in the same transaction (the outbox), so a crash can lose neither.
A delivery is marked sent only after the platform accepted it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import re
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Delivery, Destination, Headline
from bot.regions.names import WORLD, fold_case_and_accents
from bot.store.lockfile import Held, LockFile


def _hour(published: str) -> str:
    """SQL for the hour (since the epoch, rounded down) a published time falls in; SQLite's
    CAST rounds towards zero, so an hour before 1970 takes one off. `_hour_of` agrees."""
    quotient = f"({published} / 3600.0)"
    return f"(CAST({quotient} AS INTEGER) - ({quotient} < CAST({quotient} AS INTEGER)))"


def _hour_of(published: float) -> int:
    """The hour `published` falls in, as `_hour` computes it in SQL."""
    return math.floor(published / 3600.0)


def _count_delivery(row: str, change: int) -> str:
    """SQL adding `change` to the deliveries of `row`'s destination and status (a trigger's
    NEW or OLD), dropping the count when it reaches 0."""
    return f"""INSERT INTO delivery_totals (destination_id, status, deliveries)
            VALUES ({row}.destination_id, {row}.status, {change})
            ON CONFLICT (destination_id, status)
            DO UPDATE SET deliveries = deliveries + ({change});
        DELETE FROM delivery_totals WHERE destination_id = {row}.destination_id
            AND status = {row}.status AND deliveries = 0;"""


log = logging.getLogger(__name__)

# Ordered migrations: the schema version is the number applied (PRAGMA user_version).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        config_url TEXT NOT NULL,
        url TEXT NOT NULL,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        initialized INTEGER NOT NULL DEFAULT 0,
        last_poll_at REAL NOT NULL DEFAULT 0,
        last_success_at REAL NOT NULL DEFAULT 0,
        last_status TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at REAL NOT NULL DEFAULT 0,
        min_interval INTEGER NOT NULL DEFAULT 0,
        disabled_reason TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE headlines (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        entry_id TEXT NOT NULL,
        title_key TEXT NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        summary TEXT NOT NULL,
        published REAL NOT NULL,
        fetched REAL NOT NULL,
        seen REAL NOT NULL,  -- when the feed last listed it
        categories TEXT NOT NULL,
        language TEXT NOT NULL,
        regions TEXT NOT NULL,
        UNIQUE (feed_id, entry_id)
    );
    CREATE INDEX headlines_by_time ON headlines (published DESC, id DESC);
    CREATE INDEX headlines_by_title ON headlines (feed_id, title_key);
    CREATE TABLE headline_regions (
        region TEXT NOT NULL,
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        PRIMARY KEY (region, headline_id)
    ) WITHOUT ROWID;
    CREATE TABLE destinations (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        regions TEXT NOT NULL DEFAULT '[]',
        feeds TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT NOT NULL DEFAULT '',
        -- The chat as the config file names it (@name, or an id it no longer has after a
        -- move); empty for chats that subscribed themselves.
        config_key TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        UNIQUE (platform, chat_id)
    );
    CREATE UNIQUE INDEX destinations_by_config_key ON destinations (platform, config_key)
        WHERE config_key != '';
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        destination_id INTEGER NOT NULL REFERENCES destinations(id),
        status TEXT NOT NULL DEFAULT 'pending',
        due REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        sent REAL NOT NULL DEFAULT 0,
        UNIQUE (headline_id, destination_id)
    );
    CREATE INDEX deliveries_pending ON deliveries (destination_id, due, headline_id)
        WHERE status = 'pending';
    """,
    # 2: commands stay fast as the archive grows. headline_regions carries each headline's
    # published time, so the newest of a region are read off its index, and a row with
    # region '' (WORLD) for a headline with no region. The counts /region, `status` and
    # the feeds' state show are kept by triggers, in the same transaction as whatever
    # adds, moves or removes the rows they count, so no code path can forget them:
    # headlines per region per hour of publication, per feed, and deliveries per
    # destination and status.
    f"""
    CREATE TABLE headline_regions_2 (
        region TEXT NOT NULL,
        published REAL NOT NULL,  -- the headline's, copied so the index orders by it
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        PRIMARY KEY (region, published, headline_id)
    ) WITHOUT ROWID;
    INSERT INTO headline_regions_2 (region, published, headline_id)
        SELECT r.region, h.published, r.headline_id
        FROM headline_regions r JOIN headlines h ON h.id = r.headline_id;
    INSERT INTO headline_regions_2 (region, published, headline_id)
        SELECT '', published, id FROM headlines WHERE regions = '[]';
    DROP TABLE headline_regions;
    ALTER TABLE headline_regions_2 RENAME TO headline_regions;
    CREATE INDEX headline_regions_by_headline ON headline_regions (headline_id);

    CREATE TABLE region_hours (
        hour INTEGER NOT NULL,  -- floor(published / 3600)
        region TEXT NOT NULL,
        headlines INTEGER NOT NULL,
        PRIMARY KEY (hour, region)
    ) WITHOUT ROWID;
    INSERT INTO region_hours (hour, region, headlines)
        SELECT {_hour("published")}, region, count(*) FROM headline_regions GROUP BY 1, 2;
    CREATE TRIGGER region_hours_add AFTER INSERT ON headline_regions BEGIN
        INSERT INTO region_hours (hour, region, headlines)
            VALUES ({_hour("NEW.published")}, NEW.region, 1)
            ON CONFLICT (hour, region) DO UPDATE SET headlines = headlines + 1;
    END;
    CREATE TRIGGER region_hours_remove AFTER DELETE ON headline_regions BEGIN
        UPDATE region_hours SET headlines = headlines - 1
            WHERE hour = {_hour("OLD.published")} AND region = OLD.region;
        DELETE FROM region_hours
            WHERE hour = {_hour("OLD.published")} AND region = OLD.region AND headlines = 0;
    END;

    CREATE TRIGGER headline_regions_republished AFTER UPDATE OF published ON headlines
        WHEN NEW.published != OLD.published BEGIN
        INSERT INTO headline_regions (region, published, headline_id)
            SELECT region, NEW.published, headline_id FROM headline_regions
            WHERE headline_id = NEW.id;
        DELETE FROM headline_regions WHERE headline_id = NEW.id AND published = OLD.published;
    END;

    ALTER TABLE feeds ADD COLUMN headlines INTEGER NOT NULL DEFAULT 0;
    UPDATE feeds SET headlines = (SELECT count(*) FROM headlines h WHERE h.feed_id = feeds.id);
    CREATE TRIGGER feed_headlines_add AFTER INSERT ON headlines BEGIN
        UPDATE feeds SET headlines = headlines + 1 WHERE id = NEW.feed_id;
    END;
    CREATE TRIGGER feed_headlines_remove AFTER DELETE ON headlines BEGIN
        UPDATE feeds SET headlines = headlines - 1 WHERE id = OLD.feed_id;
    END;
    CREATE TRIGGER feed_headlines_move AFTER UPDATE OF feed_id ON headlines
        WHEN NEW.feed_id != OLD.feed_id BEGIN
        UPDATE feeds SET headlines = headlines - 1 WHERE id = OLD.feed_id;
        UPDATE feeds SET headlines = headlines + 1 WHERE id = NEW.feed_id;
    END;

    CREATE TABLE delivery_totals (
        destination_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        deliveries INTEGER NOT NULL,
        PRIMARY KEY (destination_id, status)
    ) WITHOUT ROWID;
    INSERT INTO delivery_totals (destination_id, status, deliveries)
        SELECT destination_id, status, count(*) FROM deliveries GROUP BY 1, 2;
    CREATE TRIGGER delivery_totals_add AFTER INSERT ON deliveries BEGIN
        {_count_delivery("NEW", +1)}
    END;
    CREATE TRIGGER delivery_totals_remove AFTER DELETE ON deliveries BEGIN
        {_count_delivery("OLD", -1)}
    END;
    CREATE TRIGGER delivery_totals_change AFTER UPDATE OF status, destination_id ON deliveries
        WHEN NEW.status != OLD.status OR NEW.destination_id != OLD.destination_id BEGIN
        {_count_delivery("OLD", -1)}
        {_count_delivery("NEW", +1)}
    END;
    """,
)

PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"
# Why a config destination stopped: the only reason a config file can take back.
REMOVED_FROM_CONFIG = "removed from config"
# A new entry whose title matches one stored this recently is the same story under a
# rewritten guid, and is not posted again.
TITLE_DEDUP_SECONDS = 7 * 86400
_SQL_VARS = 500  # SQLite's variable limit is 32766 today; stay far below it.
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


@dataclass(frozen=True, slots=True)
class FeedState:
    name: str
    url: str
    etag: str = ""
    last_modified: str = ""
    initialized: bool = False
    last_poll_at: float = 0.0
    last_success_at: float = 0.0
    last_status: str = ""
    last_error: str = ""
    failures: int = 0
    next_poll_at: float = 0.0
    min_interval: int = 0
    disabled_reason: str = ""
    headlines: int = 0


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What one poll added: the new headlines (oldest first) and how many deliveries."""

    new: tuple[Headline, ...]
    deliveries: int
    first_run: bool = False


class Storage:
    def __init__(self, db: aiosqlite.Connection, path: str | Path = ":memory:") -> None:
        self._db = db
        self.path = path
        self._sender_lock: LockFile | None = None
        # One connection serves every task: transactions take turns on it.
        self._lock = asyncio.Lock()
        self.health = WriteHealth(str(path))

    @classmethod
    async def open(cls, path: str | Path) -> Storage:
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

    # -- feeds ---------------------------------------------------------------------

    async def sync_feeds(self, feeds: Sequence[FeedConfig]) -> None:
        """Make the feeds table know every configured feed. A feed whose configured URL
        changed starts again from that URL (a stored redirect target no longer applies)."""
        async with self._transaction():
            for feed in feeds:
                await self._db.execute(
                    """INSERT INTO feeds (name, config_url, url) VALUES (?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET
                        url = CASE WHEN config_url = excluded.config_url THEN url
                                   ELSE excluded.url END,
                        etag = CASE WHEN config_url = excluded.config_url THEN etag ELSE '' END,
                        last_modified = CASE WHEN config_url = excluded.config_url
                                             THEN last_modified ELSE '' END,
                        disabled_reason = CASE WHEN config_url = excluded.config_url
                                               THEN disabled_reason ELSE '' END,
                        config_url = excluded.config_url""",
                    (feed.name, feed.url, feed.url),
                )

    async def feed_state(self, name: str) -> FeedState:
        states = await self._feed_states("WHERE f.name = ?", (name,))
        if not states:
            raise KeyError(name)
        return states[0]

    async def feed_states(self) -> list[FeedState]:
        return await self._feed_states("", ())

    async def _feed_states(self, where: str, args: tuple[Any, ...]) -> list[FeedState]:
        rows = await self._fetchall(
            f"""SELECT f.name, f.url, f.etag, f.last_modified, f.initialized, f.last_poll_at,
                f.last_success_at, f.last_status, f.last_error, f.failures, f.next_poll_at,
                f.min_interval, f.disabled_reason,
                f.headlines
            FROM feeds f {where} ORDER BY f.name""",
            args,
        )
        return [
            FeedState(
                name=r[0],
                url=r[1],
                etag=r[2],
                last_modified=r[3],
                initialized=bool(r[4]),
                last_poll_at=r[5],
                last_success_at=r[6],
                last_status=r[7],
                last_error=r[8],
                failures=r[9],
                next_poll_at=r[10],
                min_interval=r[11],
                disabled_reason=r[12],
                headlines=r[13],
            )
            for r in rows
        ]

    async def update_feed(self, name: str, **fields: Any) -> None:
        """Set columns of a feed's state, named as in `FeedState`."""
        allowed = set(FeedState.__slots__) - {"name", "headlines", "initialized"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"not feed state fields: {sorted(unknown)}")
        assignments = ", ".join(f"{key} = ?" for key in fields)
        async with self._transaction():
            await self._db.execute(
                f"UPDATE feeds SET {assignments} WHERE name = ?", (*fields.values(), name)
            )

    async def enable_feed(self, name: str) -> bool:
        """Poll `name` again at once: clears its disabled reason, failures and backoff.
        False if there is no such feed."""
        async with self._transaction():
            cursor = await self._db.execute(
                """UPDATE feeds SET disabled_reason = '', failures = 0, next_poll_at = 0
                WHERE name = ?""",
                (name,),
            )
        return cursor.rowcount > 0

    # -- headlines and the outbox --------------------------------------------------

    async def add_headlines(
        self,
        feed: str,
        headlines: Sequence[Headline],
        *,
        backfill: int = 0,
        max_per_poll: int = 20,
        release_every: float = 600.0,
        max_age: float = 0.0,
        now: float | None = None,
    ) -> StoreResult:
        """Store the entries of one poll of `feed` and queue what is owed, in one transaction.

        New entries are those whose id this feed has not had (and whose title it has not
        had within a week, so rewritten guids do not repost). On a feed's first poll
        everything is stored as seen and only the newest `backfill` are delivered. New
        entries go out oldest first, `max_per_poll` at a time, one batch every
        `release_every` seconds; entries older than `max_age` seconds are kept unposted.
        """
        now = time.time() if now is None else now
        async with self._transaction():
            row = await self._fetchone("SELECT id, initialized FROM feeds WHERE name = ?", (feed,))
            if row is None:
                raise KeyError(feed)
            feed_id, initialized = row
            unique: dict[str, Headline] = {}
            for headline in headlines:
                unique.setdefault(headline.entry_id, headline)
            known = await self._existing(
                "SELECT entry_id FROM headlines WHERE feed_id = ? AND entry_id IN ({})",
                feed_id,
                list(unique),
            )
            await self._db.executemany(
                "UPDATE headlines SET seen = ? WHERE feed_id = ? AND entry_id = ?",
                [(now, feed_id, entry_id) for entry_id in known],
            )
            fresh = [h for h in unique.values() if h.entry_id not in known]
            fresh.sort(key=lambda h: (h.published, h.title))
            title_keys = {h.entry_id: title_key(h.title) for h in fresh}
            recent_titles = await self._existing(
                "SELECT title_key FROM headlines WHERE feed_id = ? AND title_key IN ({})"
                f" AND fetched > {now - TITLE_DEDUP_SECONDS!r}",
                feed_id,
                list({k for k in title_keys.values() if k}),
            )
            await self._db.executemany(
                """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
                    published, fetched, seen, categories, language, regions)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        feed_id,
                        h.entry_id,
                        title_keys[h.entry_id],
                        h.title,
                        h.link,
                        h.summary,
                        h.published.timestamp(),
                        now,
                        now,
                        json.dumps(h.categories, ensure_ascii=False),
                        h.language,
                        json.dumps(h.regions),
                    )
                    for h in fresh
                ],
            )
            ids = await self._ids(feed_id, [h.entry_id for h in fresh])
            stored = [replace(h, id=ids[h.entry_id], feed=feed) for h in fresh]
            await self._db.executemany(
                """INSERT OR IGNORE INTO headline_regions (region, published, headline_id)
                VALUES (?, ?, ?)""",
                [
                    (region, h.published.timestamp(), h.id)
                    for h in stored
                    for region in h.regions or (WORLD,)
                ],
            )

            if initialized:
                owed = [
                    h
                    for h in stored
                    if title_keys[h.entry_id] not in recent_titles
                    and (not max_age or h.published.timestamp() >= now - max_age)
                ]
            else:
                # The newest `backfill`, or all of them when the feed lists fewer: a start
                # computed as len - backfill would go negative and count from the end.
                owed = stored[max(0, len(stored) - backfill) :]
                await self._db.execute("UPDATE feeds SET initialized = 1 WHERE id = ?", (feed_id,))
            deliveries = await self._queue(feed, feed_id, owed, now, max_per_poll, release_every)
        return StoreResult(tuple(stored), deliveries, first_run=not initialized)

    async def _queue(
        self,
        feed: str,
        feed_id: int,
        owed: list[Headline],
        now: float,
        max_per_poll: int,
        release_every: float,
    ) -> int:
        if not owed:
            return 0
        # What this feed still owes each destination from earlier polls goes first: new
        # entries queue behind it, so a long burst keeps both its order and its pace.
        waiting = dict(
            await self._fetchall(
                """SELECT x.destination_id, count(*) FROM deliveries x
                JOIN headlines h ON h.id = x.headline_id
                WHERE h.feed_id = ? AND x.status = 'pending' GROUP BY 1""",
                (feed_id,),
            )
        )
        rows = []
        for destination in await self.destinations(active_only=True):
            matching = [h for h in owed if wants(destination, feed, h.regions)]
            ahead = waiting.get(destination.id, 0)
            rows += [
                (h.id, destination.id, now + ((ahead + i) // max_per_poll) * release_every, now)
                for i, h in enumerate(matching)
            ]
        await self._db.executemany(
            """INSERT OR IGNORE INTO deliveries (headline_id, destination_id, due, created)
            VALUES (?, ?, ?, ?)""",
            rows,
        )
        return len(rows)

    async def forget(self, unseen_since: float) -> int:
        """Drop the headlines no feed has listed since `unseen_since`, with their delivery
        records, except those still owed to someone; returns how many went."""
        doomed = """SELECT id FROM headlines h WHERE h.seen < ? AND NOT EXISTS (
            SELECT 1 FROM deliveries x WHERE x.headline_id = h.id AND x.status = 'pending')"""
        async with self._transaction():
            for table in ("headline_regions", "deliveries"):
                await self._db.execute(
                    f"DELETE FROM {table} WHERE headline_id IN ({doomed})", (unseen_since,)
                )
            cursor = await self._db.execute(
                f"DELETE FROM headlines WHERE id IN ({doomed})", (unseen_since,)
            )
        return cursor.rowcount

    async def pending_destinations(self, now: float | None = None) -> list[Destination]:
        """Active destinations with deliveries due by `now`."""
        now = time.time() if now is None else now
        rows = await self._fetchall(
            f"""SELECT {_DEST_COLUMNS} FROM destinations d WHERE d.active = 1 AND EXISTS (
                SELECT 1 FROM deliveries x WHERE x.destination_id = d.id
                AND x.status = 'pending' AND x.due <= ?) ORDER BY d.id""",
            (now,),
        )
        return [_destination(r) for r in rows]

    async def pending_deliveries(
        self, destination: Destination, limit: int = 10, now: float | None = None
    ) -> list[Delivery]:
        """The oldest deliveries due to `destination`, oldest headline first."""
        now = time.time() if now is None else now
        rows = await self._fetchall(
            f"""SELECT x.id, x.attempts, {_HEADLINE_COLUMNS}
            FROM deliveries x JOIN headlines h ON h.id = x.headline_id
            JOIN feeds f ON f.id = h.feed_id
            WHERE x.destination_id = ? AND x.status = 'pending' AND x.due <= ?
            ORDER BY x.due, h.published, h.id LIMIT ?""",
            (destination.id, now, limit),
        )
        return [Delivery(r[0], destination, _headline(r[2:]), attempts=r[1]) for r in rows]

    async def mark_sent(self, delivery_ids: Iterable[int], message_id: str) -> None:
        await self._set_status(delivery_ids, SENT, message_id=message_id, sent=time.time())

    async def record_sent(self, sent: Sequence[tuple[int, str, float]]) -> None:
        """Mark deliveries sent, each with (delivery id, message id, when), in one
        transaction: the outbox records many chats' sends at once."""
        async with self._transaction():
            await self._db.executemany(
                "UPDATE deliveries SET status = ?, message_id = ?, sent = ? WHERE id = ?",
                [(SENT, message_id, at, i) for i, message_id, at in sent],
            )

    async def probe(self) -> None:
        """Commit a write that changes nothing; raises the sqlite3.Error that says why the
        database cannot be written (a full disk fails here too: the commit writes a page)."""
        async with self._transaction():
            await self._db.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    async def mark_failed(self, delivery_ids: Iterable[int], error: str) -> None:
        await self._set_status(delivery_ids, FAILED, error=error)

    async def postpone(self, delivery_ids: Iterable[int], until: float, error: str) -> None:
        """Leave deliveries pending, counting the attempt and not retrying before `until`."""
        ids = list(delivery_ids)
        async with self._transaction():
            await self._db.executemany(
                """UPDATE deliveries SET attempts = attempts + 1, due = ?, error = ?
                WHERE id = ? AND status = 'pending'""",
                [(until, error, i) for i in ids],
            )

    async def _set_status(self, delivery_ids: Iterable[int], status: str, **fields: Any) -> None:
        assignments = "".join(f", {key} = ?" for key in fields)
        async with self._transaction():
            await self._db.executemany(
                f"UPDATE deliveries SET status = ?{assignments} WHERE id = ?",
                [(status, *fields.values(), i) for i in delivery_ids],
            )

    async def delivery_counts(self) -> dict[int, dict[str, int]]:
        """Per destination id, how many deliveries are in each status."""
        counts: dict[int, dict[str, int]] = {}
        rows = await self._fetchall(
            "SELECT destination_id, status, deliveries FROM delivery_totals", ()
        )
        for destination_id, status, count in rows:
            counts.setdefault(destination_id, {})[status] = count
        return counts

    async def deliveries_for(self, destination: Destination) -> list[tuple[int, str, str]]:
        """(headline id, status, message id) of every delivery to `destination`."""
        return [
            (r[0], r[1], r[2])
            for r in await self._fetchall(
                """SELECT headline_id, status, message_id FROM deliveries
                WHERE destination_id = ? ORDER BY id""",
                (destination.id,),
            )
        ]

    # -- reading the archive -------------------------------------------------------

    async def latest(
        self, limit: int = 5, region: str | None = None, feeds: Sequence[str] = ()
    ) -> list[Headline]:
        """The newest headlines, of one region if given (`""`: those with no region)."""
        where, args = [], []
        if region is None:
            # The newest of the whole archive, read off headlines_by_time.
            source, order = "headlines h", "h.published DESC, h.id DESC"
        else:
            # The newest of a region, read off headline_regions' key, which starts with it.
            source = "headline_regions r JOIN headlines h ON h.id = r.headline_id"
            order = "r.published DESC, r.headline_id DESC"
            where.append("r.region = ?")
            args.append(region)
        if feeds:
            where.append(f"f.name IN ({', '.join('?' * len(feeds))})")
            args += feeds
        sql = f"""SELECT {_HEADLINE_COLUMNS} FROM {source} JOIN feeds f ON f.id = h.feed_id
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY {order} LIMIT ?"""
        # max: SQLite reads a negative LIMIT as no limit at all.
        return [_headline(r) for r in await self._fetchall(sql, (*args, max(0, limit)))]

    async def region_counts(self, since: float) -> dict[str, int]:
        """How many headlines published since `since` each region has ("" for none).

        The hours after the one `since` falls in are summed from region_hours; that hour's
        part from `since` on is counted off headline_regions' index, region by region."""
        first = _hour_of(since)
        counts = dict(
            await self._fetchall(
                "SELECT region, sum(headlines) FROM region_hours WHERE hour > ? GROUP BY 1",
                (first,),
            )
        )
        partial = await self._fetchall(
            f"""SELECT b.region, (SELECT count(*) FROM headline_regions r
                WHERE r.region = b.region AND r.published >= ? AND r.published < ?
                AND {_hour("r.published")} = b.hour)
            FROM region_hours b WHERE b.hour = ?""",
            (since, (first + 1) * 3600.0, first),
        )
        for region, count in partial:
            if count:
                counts[region] = counts.get(region, 0) + count
        counts.setdefault(WORLD, 0)
        return counts

    # -- destinations --------------------------------------------------------------

    async def sync_destinations(
        self, platform: str, configured: Sequence[DestinationConfig]
    ) -> list[Destination]:
        """Make the destinations of the config file exist with their filters; config
        destinations no longer in the file stop receiving.

        A destination is found by the name the file gives it, even after it moved to
        another id. One that was deactivated for a reason of its own (bot removed,
        unsubscribed, moved) stays inactive: restarting must not send to it again.
        """
        now = time.time()
        keys = [d.chat_id for d in configured]
        async with self._transaction():
            await self._db.execute(
                f"""UPDATE destinations SET active = 0, inactive_reason = ?
                WHERE platform = ? AND config_key != '' AND active = 1
                AND config_key NOT IN ({", ".join("?" * len(keys))})""",
                (REMOVED_FROM_CONFIG, platform, *keys),
            )
            for d in configured:
                # Unless another name in the file already stands for the chat: then it is
                # one destination, posted to once.
                row = await self._named(platform, d.chat_id, taken=keys)
                filters = (json.dumps(d.regions), json.dumps(d.feeds), d.language)
                if row is None:
                    await self._db.execute(
                        """INSERT INTO destinations (platform, chat_id, config_key, regions,
                            feeds, language, created) VALUES (?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (platform, chat_id) DO NOTHING""",
                        (platform, d.chat_id, d.chat_id, *filters, now),
                    )
                    continue
                await self._db.execute(
                    """UPDATE destinations SET config_key = ?, regions = ?, feeds = ?,
                        language = ?, active = active OR inactive_reason = ?,
                        inactive_reason = CASE WHEN inactive_reason = ? THEN ''
                                               ELSE inactive_reason END
                    WHERE id = ?""",
                    (d.chat_id, *filters, REMOVED_FROM_CONFIG, REMOVED_FROM_CONFIG, row[0]),
                )
        return [d for d in await self.destinations() if d.chat.platform == platform]

    async def _named(self, platform: str, name: str, taken: Sequence[str] = ()) -> Any:
        """The row (its id) of the destination the config file calls `name`, else of the
        chat with that id unless the file gives it another name in `taken`; None if none."""
        return await self._fetchone(
            f"""SELECT id FROM destinations WHERE platform = ? AND config_key = ?
            UNION ALL SELECT id FROM destinations WHERE platform = ? AND chat_id = ?
                AND config_key NOT IN ({", ".join("?" * len(taken))})
            LIMIT 1""",
            (platform, name, platform, name, *taken),
        )

    async def subscribe(
        self, chat: ChatRef, regions: Sequence[str] = (), language: str = ""
    ) -> Destination:
        """Start (or change, or resume) deliveries to `chat`, for `regions` (empty: all)."""
        async with self._transaction():
            await self._db.execute(
                """INSERT INTO destinations (platform, chat_id, kind, title, regions, language,
                    created) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (platform, chat_id) DO UPDATE SET regions = excluded.regions,
                    kind = CASE WHEN excluded.kind = '' THEN kind ELSE excluded.kind END,
                    title = CASE WHEN excluded.title = '' THEN title ELSE excluded.title END,
                    language = CASE WHEN excluded.language = '' THEN language
                                    ELSE excluded.language END,
                    active = 1, inactive_reason = ''""",
                (
                    chat.platform,
                    chat.chat_id,
                    chat.kind,
                    chat.title,
                    json.dumps(list(regions)),
                    language,
                    time.time(),
                ),
            )
        destination = await self.destination(chat)
        assert destination is not None
        return destination

    async def unsubscribe(self, chat: ChatRef) -> bool:
        """Stop deliveries to `chat`; what was still owed to it is cancelled."""
        destination = await self.destination(chat)
        if destination is None or not destination.active:
            return False
        await self.deactivate(destination, "unsubscribed", cancel=CANCELLED)
        return True

    async def deactivate(self, destination: Destination, reason: str, cancel: str = FAILED) -> None:
        """Stop delivering to `destination` (kept, with `reason`); what it was owed is
        closed with status `cancel` and the reason, for `status` to show."""
        async with self._transaction():
            await self._db.execute(
                "UPDATE destinations SET active = 0, inactive_reason = ? WHERE id = ?",
                (reason, destination.id),
            )
            await self._db.execute(
                """UPDATE deliveries SET status = ?, error = ?
                WHERE destination_id = ? AND status = 'pending'""",
                (cancel, reason, destination.id),
            )

    async def move_destination(self, destination: Destination, new_chat_id: str) -> Destination:
        """The chat now has another id (Telegram group -> supergroup, a channel known by
        @name); keep its settings and what it is owed, and the name the config gave it."""
        async with self._transaction():
            clash = await self._fetchone(
                """SELECT id, config_key FROM destinations
                WHERE platform = ? AND chat_id = ? AND id != ?""",
                (destination.chat.platform, new_chat_id, destination.id),
            )
            if clash is None:
                await self._db.execute(
                    "UPDATE destinations SET chat_id = ? WHERE id = ?",
                    (new_chat_id, destination.id),
                )
            else:
                await self._merge(destination.id, clash[0], bool(clash[1]), new_chat_id)
        moved = await self.destination(replace(destination.chat, chat_id=new_chat_id))
        assert moved is not None
        return moved

    async def _merge(self, old: int, new: int, new_has_config: bool, new_chat_id: str) -> None:
        """Fold destination `old` into `new`, the same chat already known under its new id.
        `new` takes over what `old` was owed and the config file's name for the chat, and
        keeps its own state: a chat that unsubscribed under its new id stays unsubscribed."""
        if not new_has_config:
            # The config file's name for the chat (and its filters) go with it.
            row = await self._fetchone(
                "SELECT config_key, regions, feeds, language FROM destinations WHERE id = ?",
                (old,),
            )
            if row[0]:
                await self._db.execute(
                    "UPDATE destinations SET config_key = '' WHERE id = ?", (old,)
                )
                await self._db.execute(
                    """UPDATE destinations SET config_key = ?, regions = ?, feeds = ?,
                    language = ? WHERE id = ?""",
                    (*row, new),
                )
                await self._db.execute(
                    """UPDATE destinations SET active = 1, inactive_reason = ''
                    WHERE id = ? AND inactive_reason = ?""",
                    (new, REMOVED_FROM_CONFIG),
                )
        reason = f"moved to {new_chat_id}"
        await self._db.execute(
            """UPDATE OR IGNORE deliveries SET destination_id = ?
            WHERE destination_id = ? AND status = 'pending'
            AND (SELECT active FROM destinations WHERE id = ?)""",
            (new, old, new),
        )
        # Left behind: what `new` already owes (one post per chat), or all if it is inactive.
        await self._db.execute(
            """UPDATE deliveries SET status = ?, error = ?
            WHERE destination_id = ? AND status = 'pending'""",
            (CANCELLED, reason, old),
        )
        await self._db.execute(
            "UPDATE destinations SET active = 0, inactive_reason = ? WHERE id = ?", (reason, old)
        )

    async def resume(self, platform: str, chat_id: str) -> Destination | None:
        """Deliver to a deactivated destination again, found by the name the config file
        gives it, else by its id; None if there is none. What it missed stays missed."""
        async with self._transaction():
            row = await self._named(platform, chat_id)
            if row is None:
                return None
            await self._db.execute(
                "UPDATE destinations SET active = 1, inactive_reason = '' WHERE id = ?", row
            )
        found = await self._fetchone(
            f"SELECT {_DEST_COLUMNS} FROM destinations d WHERE d.id = ?", row
        )
        return _destination(found)

    async def adopt_username(self, chat: ChatRef) -> None:
        """A destination configured by the chat's @username becomes the one under its id,
        so that a channel listed as @name that also sends /subscribe is posted to once."""
        if not chat.username:
            return
        row = await self._fetchone(
            f"""SELECT {_DEST_COLUMNS} FROM destinations d
            WHERE platform = ? AND lower(chat_id) = lower(?)""",
            (chat.platform, "@" + chat.username.lstrip("@")),
        )
        if row is not None:
            await self.move_destination(_destination(row), chat.chat_id)

    async def destination(self, chat: ChatRef) -> Destination | None:
        row = await self._fetchone(
            f"SELECT {_DEST_COLUMNS} FROM destinations d WHERE platform = ? AND chat_id = ?",
            (chat.platform, chat.chat_id),
        )
        return _destination(row) if row else None

    async def destinations(self, active_only: bool = False) -> list[Destination]:
        where = "WHERE d.active = 1" if active_only else ""
        rows = await self._fetchall(
            f"SELECT {_DEST_COLUMNS} FROM destinations d {where} ORDER BY d.id", ()
        )
        return [_destination(r) for r in rows]

    # -- helpers -------------------------------------------------------------------

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self._lock, self.health)

    async def _fetchall(self, sql: str, args: Sequence[Any]) -> list[Any]:
        async with self._db.execute(sql, args) as cursor:
            return list(await cursor.fetchall())

    async def _fetchone(self, sql: str, args: Sequence[Any]) -> Any:
        async with self._db.execute(sql, args) as cursor:
            return await cursor.fetchone()

    async def _existing(self, sql: str, feed_id: int, values: list[str]) -> set[str]:
        """Which of `values` the query (with `{}` for the placeholders) finds."""
        found: set[str] = set()
        for start in range(0, len(values), _SQL_VARS):
            chunk = values[start : start + _SQL_VARS]
            query = sql.format(", ".join("?" * len(chunk)))
            found.update(r[0] for r in await self._fetchall(query, (feed_id, *chunk)))
        return found

    async def _ids(self, feed_id: int, entry_ids: list[str]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for start in range(0, len(entry_ids), _SQL_VARS):
            chunk = entry_ids[start : start + _SQL_VARS]
            rows = await self._fetchall(
                f"""SELECT entry_id, id FROM headlines WHERE feed_id = ?
                AND entry_id IN ({", ".join("?" * len(chunk))})""",
                (feed_id, *chunk),
            )
            ids.update(rows)
        return ids


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
        await db.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")


def wants(destination: Destination, feed: str, regions: Sequence[str]) -> bool:
    """Whether `destination`'s filters let a headline of `feed` with `regions` through."""
    if destination.feeds and feed not in destination.feeds:
        return False
    return not destination.regions or any(r in destination.regions for r in regions)


def title_key(title: str) -> str:
    """A title reduced to its words, for spotting the same story under a new guid."""
    return " ".join(re.findall(r"\w+", fold_case_and_accents(title)))


_HEADLINE_COLUMNS = """h.id, f.name, h.entry_id, h.title, h.link, h.summary, h.published,
    h.categories, h.language, h.regions"""
_DEST_COLUMNS = """d.id, d.platform, d.chat_id, d.kind, d.title, d.regions, d.feeds,
    d.language, d.active, d.inactive_reason, d.config_key != ''"""


def _headline(r: Sequence[Any]) -> Headline:
    return Headline(
        id=r[0],
        feed=r[1],
        entry_id=r[2],
        title=r[3],
        link=r[4],
        summary=r[5],
        published=datetime.fromtimestamp(r[6], UTC),
        categories=tuple(json.loads(r[7])),
        language=r[8],
        regions=tuple(json.loads(r[9])),
    )


def _destination(r: Sequence[Any]) -> Destination:
    return Destination(
        id=r[0],
        chat=ChatRef(platform=r[1], chat_id=r[2], kind=r[3], title=r[4]),
        regions=tuple(json.loads(r[5])),
        feeds=tuple(json.loads(r[6])),
        language=r[7],
        active=bool(r[8]),
        inactive_reason=r[9],
        from_config=bool(r[10]),
    )
