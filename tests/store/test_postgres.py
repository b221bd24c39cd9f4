"""What only the PostgreSQL backend has to get right: the same migrations as SQLite's,
applied once when processes start together; the write health when the server drops the
connection or takes no writes; no password in any message. (Everything else runs on
both backends through the `storage` fixture.)"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import psycopg
import pytest

from bot.config import FeedConfig
from bot.models import ChatRef, Headline
from bot.store import Storage, StorageError, schema, schema_postgres
from bot.store.postgres import redact
from testing.postgres import PostgresServer

FEED = FeedConfig("World", "https://example.org/rss", 600)
NOW = 1_790_000_000.0


def test_both_backends_have_the_same_migrations() -> None:
    """A migration appended for one backend and not the other would leave databases of
    the same version with different tables."""
    assert len(schema_postgres.MIGRATIONS) == len(schema.MIGRATIONS)


async def test_processes_starting_together_migrate_once(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    stores = await asyncio.gather(*(Storage.open(url) for _ in range(4)))
    try:
        [(version,)] = await stores[0]._fetchall("SELECT version FROM schema_version", ())
        assert version == len(schema_postgres.MIGRATIONS)
        await stores[1].sync_feeds([FEED])
        assert [s.name for s in await stores[3].feed_states()] == ["World"]
    finally:
        for store in stores:
            await store.close()


async def test_two_processes_storing_one_feeds_poll_store_each_entry_once(
    postgres_server: PostgresServer,
) -> None:
    """As `poll --once` beside a running bot does: both find the same new entries."""
    url = postgres_server.database()
    first, second = await Storage.open(url), await Storage.open(url)
    try:
        await first.sync_feeds([FEED])
        await first.subscribe(ChatRef("fake", "1"))
        await first.add_headlines("World", [], now=NOW)  # the first poll, stored empty
        entries = [
            Headline(
                feed="World",
                entry_id=f"id-{n}",
                title=f"Story {n}",
                link=f"https://example.org/{n}",
                summary="",
                published=datetime.fromtimestamp(NOW - n, UTC),
            )
            for n in range(20)
        ]
        results = await asyncio.gather(
            first.add_headlines("World", entries[:15], now=NOW),
            second.add_headlines("World", entries[5:], now=NOW),
        )
        assert sorted(len(r.new) for r in results) == [5, 15]
        assert (await first.feed_state("World")).headlines == 20
        [destination] = await first.destinations()
        owed = await first.pending_deliveries(destination, limit=100, now=NOW + 86400)
        assert sorted(d.headline.entry_id for d in owed) == sorted(e.entry_id for e in entries)
    finally:
        await first.close()
        await second.close()


async def test_a_newer_schema_is_refused(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    (await Storage.open(url)).backend  # noqa: B018
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(StorageError, match="newer than this bot"):
        await Storage.open(url)


async def test_a_schema_2_database_upgrades_keeping_its_rows(
    postgres_server: PostgresServer,
) -> None:
    """A database made by the backend's first version (migrations 1-2) gains digests,
    topics, filters, search, alerts and pictures: its chats and deliveries are kept, a
    topic may now share its chat's id, and its archive is searchable at once."""
    url = postgres_server.database()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        for script in schema_postgres.MIGRATIONS[:2]:
            db.execute(script)
        db.execute("INSERT INTO schema_version (version) VALUES (2)")
        db.execute("INSERT INTO feeds (name, config_url, url) VALUES ('World', 'u', 'u')")
        db.execute(
            """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
            published, fetched, seen, categories, language, regions)
            VALUES (1, 'a', '', 'Huelga general en Bogotá', 'https://e.example/a', '',
                %s, 0, %s, '[]', 'es', '[]')""",
            (NOW, NOW),
        )
        db.execute(
            """INSERT INTO destinations (platform, chat_id, created)
            VALUES ('fake', '-100', 0)"""
        )
        db.execute(
            """INSERT INTO deliveries (headline_id, destination_id, due, created)
            VALUES (1, 1, 0, 0)"""
        )
    storage = await Storage.open(url)
    try:
        [(version,)] = await storage._fetchall("SELECT version FROM schema_version", ())
        assert version == len(schema_postgres.MIGRATIONS)
        [chat] = await storage.destinations()
        assert (chat.chat.chat_id, chat.chat.thread_id, chat.digest) == ("-100", "", "")
        [owed] = await storage.pending_deliveries(chat, now=NOW)
        assert owed.headline.image == ""
        [found] = await storage.search(["bogota"])
        assert found.title == "Huelga general en Bogotá"
        topic = await storage.subscribe(ChatRef("fake", "-100", thread_id="7"), ["EUROPE"])
        assert topic.id != chat.id and len(await storage.destinations()) == 2
    finally:
        await storage.close()


def terminate_sessions(admin: psycopg.Connection[object], name: str) -> None:
    """End every session on the database `name`, as a server restart or a failover does;
    returns once they have ended."""
    admin.execute(
        "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = %s",
        (name,),
    )


async def test_the_write_health_follows_the_server(postgres_server: PostgresServer) -> None:
    url = postgres_server.database()
    name = url.rpartition("/")[2]
    storage = await Storage.open(url)
    try:
        await storage.sync_feeds([FEED])
        with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
            # A session the server ended is replaced at the next transaction, unnoticed.
            terminate_sessions(admin, name)
            await storage.update_feed("World", last_status="200")
            assert storage.health.writable

            # The server takes no connections: the database cannot be written.
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            terminate_sessions(admin, name)
            with pytest.raises(psycopg.OperationalError):
                await storage.update_feed("World", last_status="304")
            assert not storage.health.writable
            assert storage.health.describe().startswith(f"storage: the database {url} cannot")

            # It answers again, but read-only (a standby): still not writable.
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            admin.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                await storage.probe()
            assert not storage.health.writable

            admin.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            terminate_sessions(admin, name)
        await storage.probe()  # what the bot's probe job does: success clears the state
        assert storage.health.writable
        await storage.update_feed("World", last_status="200")
        assert (await storage.feed_state("World")).last_status == "200"
    finally:
        await storage.close()


async def test_no_message_shows_the_password(postgres_server: PostgresServer) -> None:
    url = f"postgresql://bot:s3cret-pw@127.0.0.1:{postgres_server.port}/absent?sslmode=disable"
    with pytest.raises(StorageError) as refused:
        await Storage.open(url)
    assert "s3cret" not in str(refused.value)
    assert "postgresql://bot:***@127.0.0.1" in str(refused.value)
    assert redact("postgresql://u@h/db?password=s3cret-pw&sslmode=require") == (
        "postgresql://u@h/db?password=***&sslmode=require"
    )
