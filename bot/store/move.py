"""Moving up: `migrate --to postgresql://...` copies an SQLite database into an empty
PostgreSQL one, in one transaction: the feeds' state, the archive, the destinations and
subscriptions (with their digests, topics and keyword filters) and the whole outbox
(pending deliveries and those held for a digest included, with their ids), the
operator's alerts and notices and the headlines held for release, so a bot stopped on
SQLite and started on PostgreSQL posts nothing twice and loses nothing. The search index
is the server's to build from the copied headlines.

The maintained counts (headlines per feed, per region and hour; deliveries per
destination and status) are not copied: PostgreSQL's triggers count the copied rows as
they arrive, and the counts are then checked against the SQLite file's. Any difference
rolls the whole copy back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.store import Storage
from bot.store.db import StorageError
from bot.store.postgres import PostgresBackend
from bot.store.sqlite import SqliteBackend

# In the order their references need; the counts the triggers keep are left out, and so
# are the columns the server computes (the search index's tsvector).
TABLES = (
    "feeds",
    "headlines",
    "headline_regions",
    "held_headlines",
    "destinations",
    "deliveries",
    "alerts",
    "notices",
)
MAINTAINED = {"feeds": ("headlines",)}
IDENTITY_TABLES = ("feeds", "headlines", "destinations", "deliveries", "alerts", "notices")
# What is compared after the copy: the maintained counts, as each database holds them.
CHECKS = {
    "headlines per feed": "SELECT name, headlines FROM feeds",
    "headlines per region and hour": "SELECT hour, region, headlines FROM region_hours",
    "deliveries per destination and status": (
        "SELECT destination_id, status, deliveries FROM delivery_totals"
    ),
}
BATCH = 5000
_CONVERT: dict[str, Callable[[Any], Any]] = {
    "bigint": int,
    "integer": int,
    "double precision": float,
    "text": str,
}


async def copy_to_postgres(
    source: str | Path, url: str, report: Callable[[str], object] = print
) -> dict[str, int]:
    """Copy the SQLite database at `source` into the empty PostgreSQL database at `url`;
    the rows copied per table (and the pending deliveries). Raises StorageError if the
    target is not empty, a bot runs on either, or the counts differ after the copy."""
    sqlite = await Storage.open(source)
    try:
        # No bot may change the file while it is copied; none runs on the target, which
        # must be empty (a bot started on it fills its feeds at once).
        await sqlite.claim_sender()
        postgres = await Storage.open(url)
        try:
            return await _copy(sqlite, postgres, report)
        finally:
            await postgres.close()
    finally:
        await sqlite.close()


async def _copy(
    sqlite: Storage, postgres: Storage, report: Callable[[str], object]
) -> dict[str, int]:
    source = sqlite.backend
    target = postgres.backend
    assert isinstance(source, SqliteBackend) and isinstance(target, PostgresBackend)
    counts: dict[str, int] = {}
    async with postgres._transaction():
        db = await target._connection()
        present = {
            table: (await postgres._fetchone(f"SELECT count(*) FROM {table}", ()))[0]
            for table in TABLES
        }
        if any(present.values()):
            held = ", ".join(f"{table} {n}" for table, n in present.items() if n)
            raise StorageError(
                f"storage: the database {target.name} is not empty ({held}): `migrate --to` "
                "fills an empty database only, so that nothing is merged or posted twice"
            )
        for table in TABLES:
            columns = [
                (name, kind)
                for name, kind in await postgres._fetchall(
                    """SELECT column_name, data_type FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name = ?
                    AND is_generated = 'NEVER' ORDER BY ordinal_position""",
                    (table,),
                )
                if name not in MAINTAINED.get(table, ())
            ]
            names = ", ".join(name for name, _ in columns)
            convert = [_CONVERT[kind] for _, kind in columns]
            copied = 0
            async with (
                db.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
                source.db.execute(f"SELECT {names} FROM {table}") as rows,
            ):
                while batch := await rows.fetchmany(BATCH):
                    for row in batch:
                        await copy.write_row([f(v) for f, v in zip(convert, row, strict=True)])
                    copied += len(batch)
            expected = (await sqlite._fetchone(f"SELECT count(*) FROM {table}", ()))[0]
            if copied != expected:
                raise StorageError(f"storage: copied {copied} {table} of {expected}")
            report(f"{table}: {copied} copied")
            counts[table] = copied
        for table in IDENTITY_TABLES:
            # New rows take ids after the copied ones.
            await postgres._execute(
                f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                    (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"""
            )
        for what, sql in CHECKS.items():
            mine = sorted(await sqlite._fetchall(sql, ()))
            theirs = sorted(tuple(r) for r in await postgres._fetchall(sql, ()))
            if mine != theirs:
                raise StorageError(
                    f"storage: after the copy the {what} differ ({len(mine)} rows in the SQLite "
                    f"file, {len(theirs)} on PostgreSQL); nothing was copied"
                )
            report(f"{what}: {len(theirs)} counts checked")
        for status in ("pending", "held"):
            owed = f"SELECT count(*) FROM deliveries WHERE status = '{status}'"
            counts[f"{status} deliveries"] = (await postgres._fetchone(owed, ()))[0]
            if counts[f"{status} deliveries"] != (await sqlite._fetchone(owed, ()))[0]:
                raise StorageError(f"storage: the {status} deliveries differ after the copy")
    return counts
