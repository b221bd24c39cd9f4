"""The command line as an operator uses it: demo, poll --once --dry-run, status."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot.config import DestinationConfig, FeedConfig
from bot.models import Headline
from bot.store import Storage
from testing.fake_telegram import FakeTelegram
from testing.feedserver import FeedServer, make_rss, sample_entries
from testing.processes import ROOT, bot_cli


async def test_demo_shows_the_bot_at_work() -> None:
    code, out, err = await bot_cli("demo")
    assert code == 0, err
    first, second = out.split("== The English edition publishes one headline; second poll ==")
    assert "* Pakistan: nationwide protests against rising cost of electricity" in first
    assert "* México: el Senado aprueba la reforma del poder judicial" in first
    assert first.count("\n* ") == 12
    # Each picture the sample feeds name (media:content, an enclosure, a thumbnail, an
    # <img>, relative or not) is printed as its address; none is fetched.
    pictures = [line.split(": ", 1)[1] for line in first.splitlines() if "  Picture: " in line]
    assert pictures == [
        f"http://world-dispatch.example/img/2026/11/{name}"
        for name in (
            "karachi-market.jpg",
            "nairobi-school.png",
            "freight-train.jpg",
            "senado-mexico.jpg",
            "tokio.jpg",
        )
    ]
    posts, answers = second.split("> /latest 3")
    assert posts.count("\n* ") == 1 and "* Philippines: typhoon" in posts
    assert "Picture: http://world-dispatch.example/img/2026/11/luzon-typhoon.jpg" in posts
    assert "Despacho Mundial (ES): not modified (304)" in posts
    latest, region = answers.split("> /region Asia")
    assert latest.count("\n- ") == 3 and "- Philippines: typhoon" in latest
    assert "Latest headlines: Asia" in region
    assert "- Pakistan: nationwide protests" in region and "- Chile" not in region


async def test_poll_dry_run_prints_and_sends_nothing_then_status_explains(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        feeds.set_status("/down", 503, retry_after="120")
        config.write_text(
            f"""backfill = 2
[[feeds]]
name = "News"
url = "{feeds.url("/news")}"
[[feeds]]
name = "Down"
url = "{feeds.url("/down")}"
[console]
enabled = true
"""
        )
        code, out, err = await bot_cli("poll", "--once", "--dry-run", "--config", str(config))
        assert code == 1, err  # a feed failed, and the exit status says so
        assert "News: first poll, 3 entries stored as already seen, 2 deliveries queued" in out
        assert "Down: failed (fetcher: " in out and "503" in out
        assert out.count("[would post to console stdout]") == 2

        code, out, err = await bot_cli("status", "--config", str(config))
    assert code == 0, err
    assert "News: " + feeds.url("/news") in out
    assert "last error: fetcher: " in out and "(1 failures in a row)" in out
    assert "console stdout (config, all regions): active; pending 2, sent 0, failed 0" in out


async def test_status_before_the_first_run(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[[feeds]]\nname = "A"\nurl = "https://example.org/rss"\n')
    code, out, _ = await bot_cli("status", "--config", str(config))
    assert code == 0 and "the bot has not run" in out


async def test_help_lists_the_commands() -> None:
    code, out, _ = await bot_cli("--help")
    assert code == 0
    for command in ("run", "check-config", "poll", "status", "demo", "classify"):
        assert command in out


async def test_run_with_the_console_answers_commands_from_stdin(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    async with FeedServer() as feeds:
        feeds.set_feed("/news", make_rss(sample_entries(3, start=datetime.now(UTC))))
        config.write_text(
            f"""backfill = 1
[[feeds]]
name = "News"
url = "{feeds.url("/news")}"
[console]
enabled = true
commands = true
"""
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            "--config",
            str(config),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stdin and process.stdout
        # backfill = 1: the first poll posts one headline, so it is stored by then.
        posted = await asyncio.wait_for(process.stdout.readline(), 10)
        assert posted.startswith(b"* "), posted
        for _ in range(3):  # the post's summary, link and source lines
            await asyncio.wait_for(process.stdout.readline(), 10)
        process.stdin.write(b"/latest 2\n/region Atlantis\n")
        await process.stdin.drain()
        lines = [await asyncio.wait_for(process.stdout.readline(), 10) for _ in range(6)]
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 20)
    out = b"".join(lines).decode()
    assert "== Latest headlines ==" in out
    assert out.count("\n- ") + out.startswith("- ") == 2
    assert "Unknown region 'Atlantis'." in out
    assert process.returncode == 0, err.decode()[-2000:]


async def test_an_unusable_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_text("this is not SQLite\n" * 100)
    config = tmp_path / "config.toml"
    config.write_text('database = "not-a-db"\n[[feeds]]\nname = "A"\nurl = "http://127.0.0.1:9/"\n')
    code, _, err = await bot_cli("poll", "--once", "--config", str(config))
    assert code == 1
    assert err.strip().startswith(f"error: storage: cannot use the database {tmp_path}")
    assert "Traceback" not in err


async def test_a_disabled_feed_and_a_deactivated_chat_are_enabled_again(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    async with FeedServer() as feeds:
        feeds.set_status("/down", 500)
        config.write_text(
            f"""[fetch]
max_failures = 1
[[feeds]]
name = "Down"
url = "{feeds.url("/down")}"
[console]
enabled = true
"""
        )
        await bot_cli("poll", "--once", "--config", str(config))
    storage = await Storage.open(tmp_path / "headlines.db")
    [console] = await storage.destinations()
    await storage.deactivate(console, "console: gone for the test")
    await storage.close()
    code, out, _ = await bot_cli("status", "--config", str(config))
    assert "DISABLED: disabled after 1 consecutive failures" in out
    assert "INACTIVE: console: gone for the test (`enable console:stdout`" in out

    code, out, err = await bot_cli("enable", "Down", "console:stdout", "--config", str(config))
    assert code == 0, err
    assert "feed Down: enabled" in out and "console stdout: receives new headlines again" in out
    code, out, _ = await bot_cli("status", "--config", str(config))
    assert "DISABLED" not in out and "INACTIVE" not in out
    assert "console stdout (config, all regions): active" in out

    code, _, err = await bot_cli("enable", "Nope", "--config", str(config))
    assert code == 1 and "Nope: no such feed in the config, nor destination" in err


async def test_a_rejected_telegram_token_stops_run_with_a_clear_message(tmp_path: Path) -> None:
    wrong = "999:wrong-token-not-to-be-shown"
    config = tmp_path / "config.toml"
    async with FakeTelegram() as telegram:
        config.write_text(
            f"""[[feeds]]
name = "A"
url = "http://127.0.0.1:9/"
[telegram]
token = "{wrong}"
api_base_url = "{telegram.url}"
"""
        )
        code, out, err = await bot_cli("run", "--config", str(config))
    assert code == 2
    assert "error: telegram: the Telegram server rejected the bot token" in err
    assert wrong not in err + out and "Traceback" not in err


async def test_check_config_and_status_show_a_digest(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        """[[feeds]]
name = "News"
url = "https://example.org/rss"
[telegram]
token = "1:secret"
[[telegram.destinations]]
chat = "@news"
digest = "weekly lun 8:00 Europe/Madrid"
"""
    )
    code, out, err = await bot_cli("check-config", "--config", str(config))
    assert code == 0, err
    assert "telegram destination @news: all regions, a digest weekly mon 08:00 Europe/Madrid" in out
    storage = await Storage.open(tmp_path / "headlines.db")
    try:
        await storage.sync_feeds([FeedConfig("News", "https://example.org/rss", 600)])
        await storage.sync_destinations(
            "telegram", [DestinationConfig("@news", digest="weekly mon 08:00 Europe/Madrid")]
        )
        await storage.add_headlines("News", [])
        await storage.add_headlines("News", sample_headlines(2))
    finally:
        await storage.close()
    code, out, err = await bot_cli("status", "--config", str(config))
    assert code == 0, err
    assert "pending 0, sent 0, failed 0; digest weekly mon 08:00 Europe/Madrid, held 2" in out


def sample_headlines(count: int) -> list[Headline]:
    now = datetime.now(UTC)
    return [
        Headline("News", f"e{n}", f"Story {n}", f"https://example.org/{n}", "", now)
        for n in range(count)
    ]
