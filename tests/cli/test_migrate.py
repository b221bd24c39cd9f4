"""Moving up from SQLite to PostgreSQL: `migrate --to` copies everything into an empty
database (and refuses one that is not), and a bot stopped on SQLite and started on
PostgreSQL posts each headline to each chat exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import adapters
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.config import TelegramConfig
from adapters.telegram.pacing import RateLimits
from bot.app import HeadlinesBot
from bot.config import FeedConfig
from bot.models import ChatRef, DeliveryStatus, Headline
from bot.outbox.digest import parse_setting
from bot.store import Storage
from bot.store.move import copy_to_postgres
from testing.fake_telegram import TOKEN, FakeTelegram
from testing.feedserver import FeedEntry, FeedServer, make_rss, sample_entries
from testing.postgres import PostgresServer

ROOT = Path(__file__).resolve().parents[2]
CHATS = ("1001", "1002", "1003")
QUICK = RateLimits(total_period=0.01, group_period=0.01, private_period=0.01)


async def bot_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def write_config(path: Path, feed_url: str, telegram_url: str) -> None:
    destinations = "".join(f'[[telegram.destinations]]\nchat = "{c}"\n' for c in CHATS)
    path.write_text(
        f'database = "bot.db"\n[[feeds]]\nname = "World"\nurl = "{feed_url}"\n'
        f'[telegram]\ntoken = "{TOKEN}"\napi_base_url = "{telegram_url}"\n{destinations}'
    )


async def test_a_bot_moved_to_postgresql_posts_each_headline_once(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    url = postgres_server.database()
    config_file = tmp_path / "config.toml"
    now = datetime.now(UTC)
    old = sample_entries(3, start=now - timedelta(hours=2))
    fresh = [
        FeedEntry(f"Story {i}", link=f"https://news.example/{i}", guid=f"new-{i}", published=now)
        for i in range(4)
    ]
    async with FeedServer() as feeds, FakeTelegram() as fake:
        feeds.set_feed("/news", make_rss(old))
        write_config(config_file, feeds.url("/news"), fake.url)
        config = adapters.load(config_file, env={})

        # On SQLite: two polls owe each chat the 4 new stories; a stop mid-delivery leaves
        # some of them sent and the rest pending.
        section = config.platforms["telegram"]
        assert isinstance(section, TelegramConfig)
        bot = HeadlinesBot(config, [TelegramAdapter(section, limits=QUICK)])
        await bot.open()
        await bot.connect()
        try:
            await bot.poll_all()
            feeds.set_feed("/news", make_rss([*fresh, *old]))
            await bot.poll_all()
            gate = fake.hold("1002")
            running = asyncio.create_task(bot.outbox.run())
            await gate.arrived.wait()
            stopping = asyncio.create_task(bot.outbox.stop(grace=5.0))
            await asyncio.sleep(0)
            gate.release.set()
            await stopping
            running.cancel()
            await asyncio.gather(running, return_exceptions=True)
        finally:
            await bot.stop()
        before = len(fake.sent)
        assert 0 < before < len(CHATS) * len(fresh)

        code, out, err = await bot_cli("migrate", "--config", str(config_file), "--to", url)
        assert code == 0, err
        assert "feeds: 1 copied" in out and "headlines: 7 copied" in out, out
        assert "deliveries: 12 copied" in out and "counts checked" in out, out
        assert f"pending deliveries {12 - before}" in out, out

        # Once copied, the database is not empty: a second copy would post twice.
        code, _, err = await bot_cli("migrate", "--config", str(config_file), "--to", url)
        assert code == 1 and "is not empty" in err and "Traceback" not in err, err

        # On PostgreSQL ($HEADLINES_DATABASE_URL wins over the file's `database`).
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config_file),
            cwd=ROOT,
            env={**os.environ, "HEADLINES_DATABASE_URL": url},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_messages(count=len(CHATS) * len(fresh))
        finally:
            process.send_signal(signal.SIGTERM)
            _, err_bytes = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err_bytes.decode()

    for chat in CHATS:
        shown = [t for m in fake.messages(chat) for t in m.styled("bold")]
        assert sorted(shown) == sorted(e.title for e in fresh), chat
    storage = await Storage.open(url)
    try:
        counts = await storage.delivery_counts()
        assert sorted(c.get(DeliveryStatus.SENT, 0) for c in counts.values()) == [4, 4, 4]
        assert all(DeliveryStatus.PENDING not in c for c in counts.values())
    finally:
        await storage.close()


async def test_migrate_refuses_a_source_that_is_not_sqlite_and_a_bad_target(
    tmp_path: Path,
) -> None:
    config_file = tmp_path / "config.toml"
    config_file.write_text('database = "bot.db"\n')
    code, _, err = await bot_cli("migrate", "--config", str(config_file), "--to", "mysql://x/y")
    assert code == 2 and "postgresql://" in err, err
    code, _, err = await bot_cli(
        "migrate", "--config", str(config_file), "--to", "postgresql://u@127.0.0.1/db"
    )
    assert code == 1 and "no database at" in err, err


@pytest.mark.parametrize("where", ["file", "env"])
async def test_check_config_shows_a_postgresql_database_without_its_password(
    tmp_path: Path, where: str
) -> None:
    url = "postgresql://bot:s3cret-pw@db.example:5432/headlines"
    config_file = tmp_path / "config.toml"
    config_file.write_text(f'database = "{url}"\n' if where == "file" else "")
    env = {"HEADLINES_DATABASE_URL": url} if where == "env" else {}
    code, out, err = await bot_cli("check-config", "--config", str(config_file), env=env)
    assert code == 0, err
    assert "database: postgresql://bot:***@db.example:5432/headlines (PostgreSQL)" in out
    assert "s3cret" not in out + err


async def test_migrate_copies_digests_topics_filters_alerts_held_entries_and_pictures(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    """What the features after the first copy added is copied too, with its ids: a chat's
    digest and what is held for it, a forum's region topics, a keyword filter, the open
    alerts and their notices, entries held for /release, pictures; search works on the
    copy, and new rows take ids after the copied ones."""
    path, url = tmp_path / "bot.db", postgres_server.database()
    now = datetime(2025, 12, 1, 16, tzinfo=UTC).timestamp()
    digest_chat, forum, filtered = (ChatRef("fake", c) for c in ("1", "-100", "2"))
    sqlite = await Storage.open(path)
    try:
        await sqlite.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
        await sqlite.add_headlines("World", [], now=now)  # the first poll posts nothing
        await sqlite.subscribe(digest_chat)
        await sqlite.set_digest(digest_chat, parse_setting(["daily", "08:00", "Europe/Madrid"]))
        await sqlite.subscribe_region_threads(forum, {"EUROPE": "7", "": "8"})
        await sqlite.subscribe(filtered)
        await sqlite.set_filter(filtered, lambda include, exclude: (["huelga"], ["fútbol"]))
        published = datetime.fromtimestamp(now, UTC) - timedelta(hours=1)
        stories = [
            Headline(
                "World",
                f"e{n}",
                title,
                f"https://e.example/{n}",
                "",
                published + timedelta(minutes=n),
                regions=regions,
                image=f"https://cdn.example/{n}.jpg" if n else "",
            )
            for n, (title, regions) in enumerate(
                [("Huelga general en Bogotá", ()), ("Huelga en Madrid", ("EUROPE",))]
            )
        ]
        await sqlite.add_headlines("World", stories, now=now)
        await sqlite.sync_alerts(
            {("feed_failing", "World"): "HTTP 500"}, lambda a: f"alert {a.kind}", {"fake": "9"}
        )
        await sqlite._execute(
            "INSERT INTO held_headlines (headline_id, feed_id) SELECT id, feed_id FROM headlines"
        )
        before = {
            "destinations": await sqlite.destinations(),
            "counts": await sqlite.delivery_counts(),
            "alerts": await sqlite.open_alerts(),
            "notices": await sqlite.pending_notices(),
            "held": await sqlite.held_counts(),
            "latest": await sqlite.latest(5),
        }
    finally:
        await sqlite.close()
    assert before["held"] == {"World": 2} and len(before["notices"]) == 1
    assert any(DeliveryStatus.HELD in c for c in before["counts"].values())

    lines: list[str] = []
    counts = await copy_to_postgres(path, url, report=lines.append)
    assert counts["held deliveries"] == 2 and counts["alerts"] == 1 and counts["notices"] == 1
    assert counts["held_headlines"] == 2 and counts["destinations"] == 4
    assert "deliveries per destination and status: 4 counts checked" in lines, lines

    postgres = await Storage.open(url)
    try:
        assert await postgres.destinations() == before["destinations"]
        assert await postgres.delivery_counts() == before["counts"]
        assert await postgres.open_alerts() == before["alerts"]
        assert await postgres.pending_notices() == before["notices"]
        assert await postgres.held_counts() == before["held"]
        assert await postgres.latest(5) == before["latest"]
        assert [h.image for h in before["latest"]] == ["https://cdn.example/1.jpg", ""]
        assert [h.entry_id for h in await postgres.search(["huelga"])] == ["e1", "e0"]
        assert [h.entry_id for h in await postgres.search(["bogota"])] == ["e0"]
        [destination] = [d for d in before["destinations"] if d.digest]
        assert destination.timezone == "Europe/Madrid"
        # New rows take ids after the copied ones.
        opened, resolved = await postgres.sync_alerts(
            {("feed_failing", "Other"): ""}, lambda a: "text", {"fake": "9"}
        )
        assert [a.id for a in resolved] == [before["alerts"][0].id]
        assert [a.id for a in opened] == [before["alerts"][0].id + 1]
        topic = await postgres.subscribe(ChatRef("fake", "-100", thread_id="9"))
        assert topic.id > max(d.id for d in before["destinations"])
    finally:
        await postgres.close()
