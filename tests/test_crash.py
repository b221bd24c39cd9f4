"""The bot process is killed with SIGKILL again and again in the middle of a fan-out and
started again each time: nothing is lost, and few chats get a second copy per kill."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import signal
import sqlite3
import statistics
import subprocess
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import ChatRef
from bot.regions.names import REGIONS, WORLD
from bot.store import Storage
from testing.fake_telegram import FakeTelegram
from testing.feedserver import FeedEntry, FeedServer, make_rss, sample_entries
from testing.processes import start_bot, tail, wait_for

CHATS = [1001 + i for i in range(100)]  # private chats: ~1/s to each, ~30/s in all
PER_CHAT = 5
KILLS = 10
# Accepted sends whose record was not written yet are sent again after a kill: what the
# writer has not committed, plus what the platform took but the bot had not heard back.
MAX_REPEATED_CHATS = 3


def write_config(path: Path, feed_url: str, api_url: str) -> None:
    chats = "".join(f"\n[[telegram.destinations]]\nchat = {c}\n" for c in CHATS)
    path.write_text(
        f"""
database = "bot.db"
backfill = {PER_CHAT}
max_age_hours = 0
[[feeds]]
name = "World"
url = "{feed_url}"
[telegram]
token = "123456:TEST-token-never-logged"
api_base_url = "{api_url}"
{chats}"""
    )


async def test_sigkill_during_a_fan_out_loses_nothing_and_repeats_little(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    entries = sample_entries(PER_CHAT, start=datetime.now(UTC))
    total = len(CHATS) * PER_CHAT
    seed = random.randrange(1 << 32)
    pick = random.Random(seed)
    async with FeedServer() as feeds, FakeTelegram() as telegram:
        feeds.set_feed("/news", make_rss(entries))
        config = tmp_path / "config.toml"
        log = tmp_path / "bot.log"
        write_config(config, feeds.url("/news"), telegram.url)

        kills = await kill_again_and_again(config, log, telegram, processes, total, KILLS, pick)

        last = start_bot(config, log, "--log-level", "debug")
        processes.append(last)
        everything = {(str(c), e.title) for c in CHATS for e in entries}
        await wait_for(lambda: received(telegram) >= everything, last, log)
        last.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(last.wait, 20) == 0, tail(log)

    counts = Counter((m.chat_id, title_of(m.text)) for m in telegram.sent)
    assert set(counts) == everything
    per_kill = repeats_per_kill(telegram, kills)
    ordered = sorted(len(chats) for chats in per_kill)
    with capsys.disabled():  # the figure shows in the test's output; it is not timed
        print(
            f"\nrepeated chats per kill over {KILLS} kills of a fan-out to {len(CHATS)} chats "
            f"(seed {seed}): {[len(chats) for chats in per_kill]}; min {ordered[0]}, "
            f"median {statistics.median(ordered)}, max {ordered[-1]}"
        )
    assert max(ordered) <= MAX_REPEATED_CHATS, per_kill
    # At most what was in flight to a chat repeats: one message per chat per kill.
    assert all(n == 1 for chats in per_kill for n in chats.values()), per_kill
    for chat in CHATS:  # and each chat got its headlines oldest first
        titles = [title_of(m.text) for m in telegram.messages(chat)]
        firsts = list(dict.fromkeys(titles))
        assert firsts == [e.title for e in reversed(entries)]
    text = log.read_text()
    assert "TEST-token-never-logged" not in text and "Traceback" not in text


async def kill_again_and_again(
    config: Path,
    log: Path,
    telegram: FakeTelegram,
    processes: list[subprocess.Popen[bytes]],
    total: int,
    kills: int,
    pick: random.Random,
) -> list[int]:
    """Start the bot `kills` times, each killed (SIGKILL) as soon as Telegram took the
    message at a random point of that life's share of `total` messages: the worst moment,
    its answer not yet read by the bot. How many messages Telegram had at each kill."""
    had: list[int] = []
    for k in range(kills):
        share = int(total * (k + pick.uniform(0.2, 0.9)) / (kills + 1))
        process = start_bot(config, log, "--log-level", "debug")
        processes.append(process)
        started = len(telegram.sent)
        await wait_for(lambda s=share, n=started: len(telegram.sent) > max(s, n), process, log)
        process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(process.wait)
        had.append(len(telegram.sent))
    assert had[-1] < total, "the kills came too late to test anything"
    return had


def repeats_per_kill(telegram: FakeTelegram, kills: list[int]) -> list[Counter[str]]:
    """Per kill, how many second copies each chat got from the bot started after it."""
    per_kill: list[Counter[str]] = [Counter() for _ in kills]
    seen: set[tuple[str, str]] = set()
    for index, message in enumerate(telegram.sent):
        key = (message.chat_id, title_of(message.text))
        if key in seen:
            after = bisect.bisect_right(kills, index) - 1
            assert after >= 0, f"{key} was sent twice before any kill"
            per_kill[after][message.chat_id] += 1
        seen.add(key)
    return per_kill


def received(telegram: FakeTelegram) -> set[tuple[str, str]]:
    return {(m.chat_id, title_of(m.text)) for m in telegram.sent}


def title_of(text: str) -> str:
    return text.splitlines()[0]


# -- digests -----------------------------------------------------------------------------


def database_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Rows of `sql` from the running bot's database (WAL: reading beside it is fine);
    none while the bot has not made it yet (opened read-only, so as not to make it)."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            return db.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


async def test_sigkill_just_after_a_digest_is_due_sends_it_once_after_the_restart(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    entries = sample_entries(3, start=datetime.now(UTC))
    # Half a day away, whatever the time the test runs: the first run must not send it.
    at = (datetime.now(UTC) + timedelta(hours=12)).strftime("%H:%M")
    database = tmp_path / "bot.db"
    statuses = "SELECT status, digest FROM deliveries ORDER BY id"
    async with FeedServer() as feeds, FakeTelegram() as telegram:
        feeds.set_feed("/news", make_rss(entries))
        config = tmp_path / "config.toml"
        log = tmp_path / "bot.log"
        config.write_text(
            f"""
database = "bot.db"
backfill = 3
max_age_hours = 0
[[feeds]]
name = "World"
url = "{feeds.url("/news")}"
[telegram]
token = "123456:TEST-token-never-logged"
api_base_url = "{telegram.url}"
[[telegram.destinations]]
chat = 1001
digest = "daily {at} UTC"
"""
        )
        first = start_bot(config, log)
        processes.append(first)
        # The poll's headlines are held for the digest, not sent.
        await wait_for(lambda: len(database_rows(database, statuses)) == 3, first, log)
        first.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(first.wait, 20) == 0, tail(log)
        assert database_rows(database, statuses) == [("held", 0)] * 3
        assert telegram.messages(1001) == []

        # The day passes: the digest is due when the bot next looks.
        with contextlib.closing(sqlite3.connect(database)) as db, db:
            db.execute("UPDATE destinations SET digest_due = 0")
        gate = telegram.hold(1001)  # its send reaches Telegram, which has not answered
        second = start_bot(config, log)
        processes.append(second)
        await wait_for(gate.arrived.is_set, second, log)
        queued = database_rows(database, statuses)
        assert {status for status, _ in queued} == {"pending"}
        assert len({key for _, key in queued}) == 1 and queued[0][1] != 0  # one digest
        second.send_signal(signal.SIGKILL)
        await asyncio.to_thread(second.wait)
        # That send was never taken: Telegram fails it, to a bot no longer there.
        telegram.server_error(1001)
        gate.release.set()
        for _ in range(100):
            if telegram.rejected:
                break
            await asyncio.sleep(0.05)
        assert telegram.rejected and telegram.messages(1001) == []

        last = start_bot(config, log)
        processes.append(last)
        await wait_for(lambda: telegram.messages(1001), last, log)
        await wait_for(
            lambda: {s for s, _ in database_rows(database, statuses)} == {"sent"}, last, log
        )
        last.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(last.wait, 20) == 0, tail(log)
    [digest] = telegram.messages(1001)  # once
    assert digest.text.startswith("Your daily digest: 3 headlines")
    assert all(entry.title in digest.text for entry in entries)
    [(due,)] = database_rows(database, "SELECT digest_due FROM destinations")
    assert due > datetime.now(UTC).timestamp()  # the next one, tomorrow
    text = log.read_text()
    assert "TEST-token-never-logged" not in text and "Traceback" not in text


# -- a fan-out into forum topics -------------------------------------------------------

FORUMS = [-1009000000001 - i for i in range(6)]
# Per forum: Asia's topic owed 7 headlines, Europe's 7, World's 2: 16 messages, within a
# group's 20 a minute, so each life of the bot sends one headline per message.
TOPIC_STORIES = (
    [(f"Japan: cabinet story {i}", "Asia") for i in range(4)]
    + [(f"France: strike story {i}", "Europe") for i in range(4)]
    + [(f"Japan and France sign trade pact {i}", "Asia Europe") for i in range(3)]
    + [(f"Stock markets rally on rate hopes {i}", "") for i in range(2)]
)
TOPIC_KILLS = 4


async def test_sigkill_during_a_fan_out_to_topics_loses_nothing_and_repeats_one_per_topic(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    entries = [
        FeedEntry(title, link=f"https://news.example/t{i}", guid=f"t{i}", published=now)
        for i, (title, _) in enumerate(TOPIC_STORIES)
    ]
    seed = random.randrange(1 << 32)
    pick = random.Random(seed)
    async with FeedServer() as feeds, FakeTelegram() as telegram:
        feeds.set_feed("/news", make_rss(entries))
        # Each forum was split into topics before (as /subscribe topics does).
        expected: set[tuple[str, str, str]] = set()
        storage = await Storage.open(tmp_path / "bot.db")
        try:
            for forum in FORUMS:
                telegram.make_forum(forum)
                threads = {r: telegram.add_topic(forum, r or "World") for r in (*REGIONS, WORLD)}
                chat = ChatRef("telegram", str(forum), "group")
                await storage.subscribe_region_threads(chat, threads)
                for title, regions in TOPIC_STORIES:
                    for region in regions.split() or [WORLD]:
                        expected.add((str(forum), threads[region], title))
        finally:
            await storage.close()
        config = tmp_path / "config.toml"
        log = tmp_path / "bot.log"
        config.write_text(
            f"""
database = "bot.db"
backfill = {len(entries)}
max_age_hours = 0
[[feeds]]
name = "World"
url = "{feeds.url("/news")}"
[telegram]
token = "123456:TEST-token-never-logged"
api_base_url = "{telegram.url}"
"""
        )
        total = len(expected)
        kills = await kill_again_and_again(
            config, log, telegram, processes, total, TOPIC_KILLS, pick
        )

        last = start_bot(config, log, "--log-level", "debug")
        processes.append(last)
        await wait_for(lambda: topic_posts(telegram) >= expected, last, log)
        last.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(last.wait, 20) == 0, tail(log)

    assert topic_posts(telegram) == expected  # nothing lost, nothing in a wrong topic
    per_kill: list[Counter[tuple[str, str]]] = [Counter() for _ in kills]
    seen: set[tuple[str, str, str]] = set()
    for index, message in enumerate(telegram.sent):
        key = (message.chat_id, message.thread_id, title_of(message.text))
        if key in seen:
            after = bisect.bisect_right(kills, index) - 1
            assert after >= 0, f"{key} was sent twice before any kill"
            per_kill[after][key[:2]] += 1
        seen.add(key)
    with capsys.disabled():
        print(
            f"\nrepeated posts per kill over {TOPIC_KILLS} kills of a fan-out to "
            f"{len(FORUMS)} forums' topics (seed {seed}): {[sum(c.values()) for c in per_kill]}"
        )
    # At most what was in flight to a topic repeats: one post per topic per kill.
    assert all(n == 1 for topics in per_kill for n in topics.values()), per_kill
    assert "Traceback" not in log.read_text()


def topic_posts(telegram: FakeTelegram) -> set[tuple[str, str, str]]:
    return {(m.chat_id, m.thread_id, title_of(m.text)) for m in telegram.sent}
