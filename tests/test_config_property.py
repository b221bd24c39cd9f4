"""Random config files: a valid file with a few of its keys given random values of random
types. `check-config` accepts a file (status 0) or names its fault (status 2), never with
a traceback, and a bot built from a file it accepts starts, stops, and polls its feeds."""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, seed, settings
from hypothesis import strategies as st

import adapters
from bot.app import HeadlinesBot
from bot.cli.main import main
from bot.config import LIMITS, Config
from testing.fake_adapter import FakeAdapter
from testing.feedserver import FeedServer, make_rss, sample_entries

# Any TOML value: what a user could write for a key, of the right type or not.
ANY_VALUE = st.recursive(
    st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([(2, 64), (10, 4301), (2, 20_000)]).map(lambda b: b[0] ** b[1])
    | st.floats()
    | st.text(max_size=20)
    | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def valid_number(key: str) -> st.SearchStrategy[Any]:
    least, most = LIMITS[key]
    if key == "keep_days":
        least = 7
        return st.just(0) | st.sampled_from([least, most]) | st.integers(least, most)
    numbers = st.sampled_from([least, most]) | st.integers(least, most)
    return numbers | st.floats(least, most) if key == "fetch.timeout" else numbers


def wild_number(key: str) -> st.SearchStrategy[Any]:
    """Numbers just outside the limits of `key`, far beyond them, and not numbers at all."""
    least, most = LIMITS[key]
    return (
        st.sampled_from([least - 1, most + 1, 10**13, 10**20, -1, 1.5, math.nan, math.inf])
        | st.integers(min_value=most)
        | st.floats()
        | ANY_VALUE
    )


def far_number(key: str) -> st.SearchStrategy[Any]:
    """Numbers for `key` near its most, and far above it: those that overflow timers."""
    least, most = LIMITS[key]
    return (
        st.sampled_from([most, most + 1, 10**13, 10**20, math.inf, math.nan])
        | st.integers(least, most)
        | st.integers(least, 10**22)
        | st.floats(least)
    )


def valid_url(schemes: tuple[str, str] = ("http", "https")) -> st.SearchStrategy[str]:
    return st.builds(
        lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
        st.sampled_from(schemes),
        st.sampled_from(["127.0.0.1", "[::1]", "localhost", "news.example", "☃.example"]),
        st.sampled_from(["", ":", ":1", ":8080", ":65535"]),
        st.sampled_from(["", "/", "/rss.xml", "/a%20b?q=1"]),
    )


WILD_URL = st.builds(
    lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
    st.sampled_from(["http", "https", "ws", "ftp", ""]),
    st.sampled_from(["127.0.0.1", "[::1", "[abc]", "a b", "ex%41", "xn--zz", "", "a..b"])
    | st.text(max_size=6),
    st.sampled_from([":0", ":65536", ":99999999999", ":x", "]"]) | st.integers().map(":{}".format),
    st.sampled_from(["/", "/a b", "/\x00"]) | st.text(max_size=6),
)
REGIONS = st.lists(st.sampled_from(["Asia", "latam", "Oriente Medio", "europe"]), max_size=3)
LANGUAGE = st.sampled_from(["en", "es"])
NAME = st.text(st.characters(categories=["L", "N", "Zs", "P"]), max_size=12).filter(str.strip)
SNOWFLAKE = st.integers(0, 2**64 - 1) | st.integers(0, 2**64 - 1).map(str)


def table(keys: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional=keys)


FEED = st.builds(
    lambda name, url, rest: {"name": name, "url": url, **rest},
    NAME,
    valid_url(),
    table(
        {
            "interval": valid_number("feeds[].interval"),
            "language": LANGUAGE,
            "regions": REGIONS,
            "keywords": st.dictionaries(NAME, st.sampled_from(["Africa", "asia"]), max_size=2),
        }
    ),
)
TOKEN = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=10)
DIGEST = st.sampled_from(["", "hourly", "daily 08:00 America/Mexico_City", "weekly lun 7:30 UTC"])
VALID_CONFIGS = st.fixed_dictionaries(
    {"feeds": st.lists(FEED, min_size=1, max_size=3, unique_by=lambda f: f["name"].strip())},
    optional={
        "database": st.sampled_from(["bot.db", "state.sqlite"]),
        **{key: valid_number(key) for key in LIMITS if "." not in key},
        "language": LANGUAGE,
        "fetch": table(
            {
                **{k.split(".")[1]: valid_number(k) for k in LIMITS if k.startswith("fetch.")},
                "user_agent": st.sampled_from(["", "bot/1 (+https://bot.example)"]),
            }
        ),
        "telegram": st.fixed_dictionaries(
            {"token": TOKEN},
            optional={
                "api_base_url": valid_url(),
                "link_previews": st.booleans(),
                "images": st.sampled_from(["preview", "photo", "off"]),
                "destinations": st.lists(
                    table({"regions": REGIONS, "language": LANGUAGE, "digest": DIGEST}).map(
                        lambda d: {"chat": "@news", **d}
                    ),
                    max_size=2,
                ),
            },
        ),
        "discord": st.fixed_dictionaries(
            {"token": TOKEN},
            optional={
                "api_base_url": valid_url(),
                "gateway_url": valid_url(("ws", "wss")),
                "guild_id": SNOWFLAKE,
                "destinations": st.lists(
                    st.fixed_dictionaries(
                        {"channel": SNOWFLAKE},
                        optional={"regions": REGIONS, "crosspost": st.booleans()},
                    ),
                    max_size=2,
                ),
            },
        ),
        "console": table({"enabled": st.booleans(), "regions": REGIONS, "commands": st.booleans()}),
    },
)


def wild(key: str) -> st.SearchStrategy[Any]:
    """A value for `key` (written `feeds[].url`) that may well be wrong."""
    if key in LIMITS:
        return wild_number(key)
    if key.endswith(("url", "gateway_url")):
        return WILD_URL | ANY_VALUE
    if key.endswith("digest"):
        bad = ["daily", "daily 08:00", "daily 25:00 UTC", "weekly 08:00 UTC", "daily 8 Mars/Base"]
        return st.sampled_from(bad) | ANY_VALUE
    if key.endswith(("guild_id", "channel", "chat")):
        return st.sampled_from([2**64, "12a", "@x", -5, "", " ", "a\nb"]) | ANY_VALUE
    return st.sampled_from(["", " ", "a\x00b", "a\nb", "Atlantis"]) | ANY_VALUE


def toml(value: Any) -> str:
    """`value` as TOML; inline tables and arrays throughout, so nesting is free."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        # Over 4300 digits, Python writes a number out only in hexadecimal.
        return hex(value) if value.bit_length() > 14_000 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's (but for a lone surrogate: then it is invalid TOML).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{toml(k)} = {toml(v)}" for k, v in value.items()) + "}"


# Every key, by the names the README gives them, and the tables.
KEYS = [
    *LIMITS,
    *("database", "language", "fetch", "fetch.user_agent", "feeds", "feeds[]"),
    *(f"feeds[].{k}" for k in ("name", "url", "language", "regions", "keywords")),
    *(
        f"telegram.{k}"
        for k in ("token", "api_base_url", "link_previews", "images", "destinations")
    ),
    "telegram.allow_paid_broadcast",
    "telegram.paid_broadcast_rate",
    *(
        f"telegram.destinations[].{k}"
        for k in ("chat", "regions", "feeds", "language", "digest", "topics")
    ),
    *(f"discord.{k}" for k in ("token", "api_base_url", "gateway_url", "guild_id")),
    *("discord.destinations[].channel", "discord.destinations[].regions"),
    "discord.destinations[].digest",
    "discord.destinations[].crosspost",
    *("console", "console.enabled", "console.regions", "console.commands"),
    *(f"{p}.destinations[].{k}" for p in ("telegram", "discord") for k in ("include", "exclude")),
    *("http", "http.listen", "http.token", "alerts", "alerts.telegram", "alerts.discord"),
]
# What a table must hold to be valid, for a key to be changed in it alone.
REQUIRED = {
    "telegram": {"token": "t"},
    "discord": {"token": "t"},
    "telegram.destinations[]": {"chat": "@news"},
    "discord.destinations[]": {"channel": 1},
}


@st.composite
def config_files(
    draw: st.DrawFn,
    keys: list[str],
    changes: tuple[int, ...],
    kinds: tuple[str, ...],
    values: Callable[[str], st.SearchStrategy[Any]],
    encodings: tuple[str, ...],
) -> tuple[dict[str, Any], str]:
    """A valid document with some of `keys` (as many as one of `changes`) changed by one
    of `kinds`: given one of its `values`, removed, or misspelt; and its encoding."""
    document = draw(VALID_CONFIGS)
    for _ in range(draw(st.sampled_from(changes))):
        key = draw(st.sampled_from(keys))
        *tables, name = key.split(".")
        parent: Any = document
        for i, step in enumerate(tables):
            if not isinstance(parent, dict):
                break
            table = step.removesuffix("[]")
            default = REQUIRED.get(".".join(tables[: i + 1]), {})
            parent = parent.setdefault(table, [] if step.endswith("[]") else dict(default))
            if step.endswith("[]") and isinstance(parent, list):
                if not parent:
                    parent.append(dict(default))
                parent = parent[draw(st.integers(0, len(parent) - 1))]
        if not isinstance(parent, dict):
            continue  # an earlier change made this key's table something else
        name = name.removesuffix("[]")
        change = draw(st.sampled_from(kinds))
        if change == "wild":
            parent[name] = draw(values(key))
        elif name in parent:
            value = parent.pop(name)
            if change == "misspell":
                parent[f"{name}x"] = value
    return document, draw(st.sampled_from(encodings))


def write(directory: str, file: tuple[dict[str, Any], str]) -> Path:
    document, encoding = file
    text = "\n".join(f"{toml(key)} = {toml(value)}" for key, value in document.items())
    path = Path(directory) / "config.toml"
    # A lone surrogate, or a character latin-1 lacks, is written "?"; latin-1 and UTF-16
    # make files that are not UTF-8.
    path.write_bytes(text.encode(encoding, "replace"))
    return path


def check_config(path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    capsys.readouterr()
    code = main(["--log-level", "error", "check-config", "--config", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2), (code, out, err)
    if code == 2:
        assert err.startswith("config error: ") and "Traceback" not in err, err
    return code


async def start_stop_and_poll(config: Config, directory: Path) -> None:
    async with FeedServer(log_requests=False) as server:
        server.set_feed("/feed", make_rss(sample_entries(3, start=datetime.now(UTC))))
        # The bot's database in the test's directory, its feeds on this server only.
        config = replace(
            config,
            database=directory / "bot.db",
            feeds=tuple(replace(f, url=server.url("/feed")) for f in config.feeds),
        )
        platforms = [p for p in ("telegram", "discord") if config.platforms[p] is not None]
        running = HeadlinesBot(config, [FakeAdapter(platform=p) for p in platforms])
        try:
            await running.start()
        finally:
            await asyncio.wait_for(running.stop(), 60)

        polling = HeadlinesBot(config)
        try:
            await polling.open()
            results = await asyncio.wait_for(polling.poll_all(), 60)
        finally:
            await asyncio.wait_for(polling.stop(), 60)
    assert [r.feed for r in results] == [f.name for f in config.feeds]
    for result in results:
        # A fetch timeout of a second can be too short on a busy machine; nothing else
        # may keep an accepted config from polling a feed served on this machine.
        slow = config.fetch.timeout < 5 and "timeout after" in result.detail
        # The running bot may have polled the feed already before it stopped (a stop lets
        # a poll in flight finish); then this one finds it known, or unchanged.
        assert result.outcome in ("first", "new", "unchanged") or slow, result.describe()


FEED_ONLY = {"feeds": [{"name": "A", "url": "http://127.0.0.1:9/"}]}
SETTINGS = settings(
    deadline=None,
    database=None,  # with the seed below: the same files on every run, so that the
    # tests fail only on a change of the code
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@seed(8)
@settings(SETTINGS, max_examples=300)
@given(
    file=config_files(
        KEYS,
        changes=(0, 1, 1, 2),
        kinds=("wild", "wild", "wild", "remove", "misspell"),
        values=wild,
        encodings=("utf-8",) * 8 + ("latin-1", "utf-16"),
    )
)
def test_check_config_accepts_or_names_the_fault_never_with_a_traceback(
    file: tuple[dict[str, Any], str], capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        check_config(write(directory, file), capsys)


@seed(8)
@settings(SETTINGS, max_examples=50)
@given(
    file=config_files(
        list(LIMITS), changes=(0, 1, 2, 3), kinds=("wild",), values=far_number, encodings=("utf-8",)
    )
)
# What check-config once accepted and `run` could not live with.
@example(file=({**FEED_ONLY, "poll_interval": 10**20}, "utf-8"))
@example(file=({"feeds": [{**FEED_ONLY["feeds"][0], "interval": 10**13}]}, "utf-8"))
@example(file=({**FEED_ONLY, "fetch": {"timeout": math.inf}}, "utf-8"))
def test_run_starts_polls_and_stops_with_any_config_check_config_accepts(
    file: tuple[dict[str, Any], str], capsys: pytest.CaptureFixture[str]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = write(directory, file)
        if check_config(path, capsys) == 0:
            asyncio.run(start_stop_and_poll(adapters.load(path), Path(directory)))
