"""`status` and `status --json` as an operator's scripts read them: the same data, the
health summary and the open alerts."""

from __future__ import annotations

import json
from pathlib import Path

from adapters import section_parsers
from bot.app import HeadlinesBot
from bot.config import load_config
from bot.store import describe
from testing.feedserver import FeedServer
from testing.processes import bot_cli


async def test_status_json_gives_the_data_of_status_with_the_health_and_open_alerts(
    tmp_path: Path, database: Path | str
) -> None:
    config_file = tmp_path / "config.toml"
    async with FeedServer() as feeds:
        feeds.set_status("/news", 500)
        config_file.write_text(
            f'database = "{database}"\n[fetch]\nparse_workers = 0\nmax_failures = 1\n'
            f'[[feeds]]\nname = "News"\nurl = "{feeds.url("/news")}"\n'
        )
        headlines = HeadlinesBot(load_config(config_file, platforms=section_parsers()))
        await headlines.open()
        try:
            assert (await headlines.poll_feed("News", force=True)).outcome == "disabled"
            await headlines.alerts.check()
        finally:
            await headlines.stop()

    code, out, err = await bot_cli("status", "--json", "--config", str(config_file))
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"health", "database", "feeds", "destinations", "alerts", "processes"}
    assert data["health"] == {"ok": False, "failing": ["feed_disabled:News"]}
    assert data["database"] == {"path": describe(database), "writable": True, "error": ""}
    (feed,) = data["feeds"]
    assert feed["name"] == "News" and feed["failures"] == 1 and feed["held"] == 0
    assert feed["disabled_reason"].startswith("disabled after 1 consecutive failures")
    (alert,) = data["alerts"]
    assert (alert["kind"], alert["subject"]) == ("feed_disabled", "News")

    code, out, err = await bot_cli("status", "--config", str(config_file))
    assert code == 0, err
    assert "Health: FAILING: feed_disabled:News" in out
    assert "Open alerts:\n  since " in out and '⛔ Feed "News" is disabled' in out
    assert "DISABLED: disabled after 1" in out  # what status always said, still there
