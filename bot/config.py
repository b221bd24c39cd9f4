"""The configuration file, parsed once into frozen, typed objects.

Every error names the key and what is wrong with it, so a user can fix the file without
reading this module: `feeds[1].url: expected an http(s) URL, got "ftp://x"`.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.models import LANGUAGES
from bot.regions.names import REGIONS, find_region

TELEGRAM_TOKEN_ENV = "HEADLINES_TELEGRAM_TOKEN"
DISCORD_TOKEN_ENV = "HEADLINES_DISCORD_TOKEN"
KEEP_DAYS_MIN = 7


class ConfigError(Exception):
    """A problem in the configuration; the message is meant for the user as it is."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key


@dataclass(frozen=True, slots=True)
class FeedConfig:
    name: str
    url: str
    interval: int
    language: str = ""  # "": the feed's own <language>, else English
    regions: tuple[str, ...] = ()
    keywords: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class DestinationConfig:
    chat_id: str
    regions: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    language: str = ""


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = field(repr=False)
    api_base_url: str = ""
    link_previews: bool = False
    destinations: tuple[DestinationConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = field(repr=False)
    api_base_url: str = ""
    gateway_url: str = ""
    guild_id: str = ""
    destinations: tuple[DestinationConfig, ...] = ()


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    enabled: bool = False
    regions: tuple[str, ...] = ()
    commands: bool = False


def default_parse_workers() -> int:
    """One parsing process per core, up to 4: parsing is the bot's heaviest work."""
    return min(4, os.cpu_count() or 1)


@dataclass(frozen=True, slots=True)
class FetchConfig:
    timeout: float = 20.0
    max_bytes: int = 5_000_000
    max_failures: int = 20
    max_backoff: int = 6 * 3600
    concurrency: int = 20
    user_agent: str = ""
    # Processes that parse feeds; 0: a thread of the bot's own.
    parse_workers: int = field(default_factory=default_parse_workers)


@dataclass(frozen=True, slots=True)
class Config:
    database: Path
    poll_interval: int = 600
    backfill: int = 0
    max_posts_per_poll: int = 20
    max_age_hours: int = 72
    keep_days: int = 90
    language: str = "en"
    fetch: FetchConfig = field(default_factory=FetchConfig)
    feeds: tuple[FeedConfig, ...] = ()
    telegram: TelegramConfig | None = None
    discord: DiscordConfig | None = None
    console: ConsoleConfig = field(default_factory=ConsoleConfig)

    def feed(self, name: str) -> FeedConfig | None:
        return next((f for f in self.feeds if f.name == name), None)

    def destinations(self) -> dict[str, tuple[DestinationConfig, ...]]:
        """The destinations this file names, per platform; every platform is listed, so
        that destinations removed from the file (or a platform removed) stop receiving."""
        console = (DestinationConfig("stdout", self.console.regions),)
        return {
            "telegram": self.telegram.destinations if self.telegram else (),
            "discord": self.discord.destinations if self.discord else (),
            "console": console if self.console.enabled else (),
        }


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and check the TOML file at `path`; tokens may come from `env` instead."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError("", f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, base_dir=path.parent, env=os.environ if env is None else env)


def parse_config(
    data: Mapping[str, Any], *, base_dir: Path = Path("."), env: Mapping[str, str] = {}
) -> Config:
    t = _Table(data, "")
    database = Path(t.str("database", "headlines.db"))
    if not database.is_absolute():
        database = base_dir / database
    poll_interval = t.int("poll_interval", 600, minimum=30)
    language = t.choice("language", "en", LANGUAGES)

    f = t.table("fetch")
    fetch = FetchConfig(
        timeout=f.float("timeout", 20.0, minimum=1.0),
        max_bytes=f.int("max_bytes", 5_000_000, minimum=10_000),
        max_failures=f.int("max_failures", 20, minimum=1),
        max_backoff=f.int("max_backoff", 6 * 3600, minimum=60),
        concurrency=f.int("concurrency", 20, minimum=1),
        user_agent=f.str("user_agent", ""),
        parse_workers=f.int("parse_workers", default_parse_workers(), minimum=0),
    )
    f.done()

    feeds = tuple(_feed(ft, poll_interval) for ft in t.tables("feeds"))
    names = [feed.name for feed in feeds]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"feeds[{i}].name", f'"{name}" is used by another feed')

    telegram = discord = None
    if "telegram" in data:
        tg = t.table("telegram")
        telegram = TelegramConfig(
            token=_token(tg, env, TELEGRAM_TOKEN_ENV),
            api_base_url=tg.url("api_base_url", ""),
            link_previews=tg.bool("link_previews", False),
            destinations=tuple(_destination(d, "chat", names) for d in tg.tables("destinations")),
        )
        tg.done()
    if "discord" in data:
        dc = t.table("discord")
        discord = DiscordConfig(
            token=_token(dc, env, DISCORD_TOKEN_ENV),
            api_base_url=dc.url("api_base_url", ""),
            gateway_url=dc.url("gateway_url", "", schemes=("ws", "wss")),
            guild_id=dc.snowflake("guild_id", ""),
            destinations=tuple(
                _destination(d, "channel", names) for d in dc.tables("destinations")
            ),
        )
        dc.done()
    c = t.table("console")
    console = ConsoleConfig(
        enabled=c.bool("enabled", False),
        regions=c.regions("regions"),
        commands=c.bool("commands", False),
    )
    c.done()

    config = Config(
        database=database,
        poll_interval=poll_interval,
        backfill=t.int("backfill", 0, minimum=0),
        max_posts_per_poll=t.int("max_posts_per_poll", 20, minimum=1),
        max_age_hours=t.int("max_age_hours", 72, minimum=0),
        keep_days=_keep_days(t),
        language=language,
        fetch=fetch,
        feeds=feeds,
        telegram=telegram,
        discord=discord,
        console=console,
    )
    t.done()
    return config


def _keep_days(t: _Table) -> int:
    days = t.int("keep_days", 90, minimum=0)
    if 0 < days < KEEP_DAYS_MIN:
        # Shorter would forget entries a feed still lists, and post them again.
        raise ConfigError(
            t.key("keep_days"),
            f"must be 0 (keep everything) or at least {KEEP_DAYS_MIN}, got {days}",
        )
    return days


def _feed(t: _Table, default_interval: int) -> FeedConfig:
    keywords = t.table("keywords")
    rules = []
    for word in keywords.names():
        region = find_region(keywords.str(word))
        if region is None:
            raise ConfigError(keywords.key(word), _unknown_region(keywords.str(word)))
        rules.append((word, region))
    feed = FeedConfig(
        name=t.str("name", required=True),
        url=t.url("url", required=True),
        interval=t.int("interval", default_interval, minimum=30),
        language=t.choice("language", "", ("", *LANGUAGES)),
        regions=t.regions("regions"),
        keywords=tuple(rules),
    )
    t.done()
    return feed


def _destination(t: _Table, id_key: str, feed_names: list[str]) -> DestinationConfig:
    raw = t.raw(id_key)
    if isinstance(raw, bool) or not isinstance(raw, int | str) or str(raw).strip() == "":
        raise ConfigError(t.key(id_key), f"expected a chat id or @name, got {raw!r}")
    feeds = t.strs("feeds")
    for name in feeds:
        if name not in feed_names:
            raise ConfigError(t.key("feeds"), f'no feed is named "{name}"')
    dest = DestinationConfig(
        chat_id=str(raw).strip(),
        regions=t.regions("regions"),
        feeds=feeds,
        language=t.choice("language", "", ("", *LANGUAGES)),
    )
    t.done()
    return dest


def _token(t: _Table, env: Mapping[str, str], env_name: str) -> str:
    token = env.get(env_name, "") or t.str("token", "")
    t.seen.add("token")
    if not token:
        raise ConfigError(
            t.key("token"), f"missing: set it here or in the environment as {env_name}"
        )
    return token


def _unknown_region(name: str) -> str:
    return f"unknown region {name!r}; expected one of: {', '.join(REGIONS)}"


class _Table:
    """One TOML table being read: typed getters that name the key in their errors, and a
    record of the keys read so that `done()` can reject unknown (misspelt) keys."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"expected a table, got {_show(data)}")
        self.data = data
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def names(self) -> list[str]:
        return list(self.data)

    def raw(self, name: str, default: Any = None, required: bool = False) -> Any:
        self.seen.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(self.key(name), "missing")
            return default
        return self.data[name]

    def str(self, name: str, default: str = "", required: bool = False) -> str:
        value = self.raw(name, default, required)
        if not isinstance(value, str):
            raise ConfigError(self.key(name), f"expected a string, got {_show(value)}")
        if required and not value.strip():
            raise ConfigError(self.key(name), "must not be empty")
        return value.strip()

    def int(self, name: str, default: int, minimum: int) -> int:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.key(name), f"expected a whole number, got {_show(value)}")
        if value < minimum:
            raise ConfigError(self.key(name), f"must be at least {minimum}, got {value}")
        return value

    def float(self, name: str, default: float, minimum: float) -> float:
        value = self.raw(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(self.key(name), f"expected a number, got {_show(value)}")
        if value < minimum:
            raise ConfigError(self.key(name), f"must be at least {minimum:g}, got {value}")
        return float(value)

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), f"expected true or false, got {_show(value)}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.str(name, default)
        if value not in choices:
            shown = ", ".join(f'"{c}"' for c in choices)
            raise ConfigError(self.key(name), f"expected one of {shown}, got {value!r}")
        return value

    def url(
        self,
        name: str,
        default: str = "",
        required: bool = False,
        schemes: tuple[str, ...] = ("http", "https"),
    ) -> str:
        value = self.str(name, default, required)
        if value:
            parts = urlsplit(value)
            if parts.scheme not in schemes or not parts.netloc:
                kind = "an http(s)" if schemes[0] == "http" else "a ws(s)"
                raise ConfigError(self.key(name), f'expected {kind} URL, got "{value}"')
        return value.rstrip("/") if name != "url" else value

    def snowflake(self, name: str, default: str) -> str:
        value = self.raw(name, default)
        if isinstance(value, bool) or (value != default and not str(value).strip().isdigit()):
            raise ConfigError(self.key(name), f"expected a numeric id, got {_show(value)}")
        return str(value).strip()

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.key(name), f"expected a list of strings, got {_show(value)}")
        return tuple(v.strip() for v in value)

    def regions(self, name: str) -> tuple[str, ...]:
        found = []
        for value in self.strs(name):
            region = find_region(value)
            if region is None:
                raise ConfigError(self.key(name), _unknown_region(value))
            if region not in found:
                found.append(region)
        return tuple(found)

    def table(self, name: str) -> _Table:
        return _Table(self.raw(name, {}), self.key(name))

    def tables(self, name: str) -> list[_Table]:
        value = self.raw(name, [])
        if not isinstance(value, list):
            raise ConfigError(
                self.key(name), f"expected a list of tables ([[{name}]]), got {_show(value)}"
            )
        return [_Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.seen]
        if unknown:
            known = ", ".join(sorted(self.seen)) or "none"
            raise ConfigError(self.key(unknown[0]), f"unknown key (known keys here: {known})")


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)
