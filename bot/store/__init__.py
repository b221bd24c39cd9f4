"""Everything the bot remembers: feeds, the archive, destinations and the outbox, in one
SQLite file through aiosqlite, or on a PostgreSQL server through psycopg (db.py).

The store decides what is new: `add_headlines` stores a poll's entries and writes the
deliveries they owe in the same transaction (the outbox), so a crash can lose neither.
A delivery is marked sent only after the platform accepted it.

`Storage` is the one object the rest of the bot uses. It is assembled from one part per
table (feeds.py, headlines.py, deliveries.py, destinations.py, digests.py, alerts.py,
leases.py), each a class of the queries on its table, on `Database` (db.py: the
connection, transactions, migrations).
Mixins rather than parts held in attributes: a poll's headlines and deliveries, or a
chat's move with what it is owed, are one transaction on one connection, which every
part reaches as `self`; and callers keep one flat API (`storage.add_headlines(...)`)
without a layer of methods that only pass calls on.
"""

from bot.store.alerts import Alert, AlertStore, Notice
from bot.store.db import (
    DB_ERRORS,
    Database,
    DatabaseInUse,
    StorageError,
    WriteHealth,
    cannot_write,
    describe,
    is_postgres,
)
from bot.store.deliveries import DeliveryStore
from bot.store.destinations import REMOVED_FROM_CONFIG, DestinationStore
from bot.store.digests import DigestStore
from bot.store.feeds import FeedState, FeedStore
from bot.store.headlines import HeadlineStore, StoreResult
from bot.store.leases import Lease, LeaseStore, Process
from bot.store.schema import MIGRATIONS


class Storage(
    DigestStore,
    HeadlineStore,
    FeedStore,
    DestinationStore,
    DeliveryStore,
    AlertStore,
    LeaseStore,
):
    """The bot's database: every table's queries on one connection."""


__all__ = [
    "DB_ERRORS",
    "MIGRATIONS",
    "REMOVED_FROM_CONFIG",
    "Alert",
    "Database",
    "DatabaseInUse",
    "FeedState",
    "Lease",
    "Notice",
    "Process",
    "Storage",
    "StorageError",
    "StoreResult",
    "WriteHealth",
    "cannot_write",
    "describe",
    "is_postgres",
]
