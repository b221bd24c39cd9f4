"""The configuration file, parsed once into frozen, typed objects.

Every error names the key and what is wrong with it, so a user can fix the file without
reading this module: `feeds[1].url: expected an http(s) URL, got "ftp://x"`.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import tomllib
import unicodedata
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
WEEK = 7 * 86400

# Every number in the file and its range, least and most. The upper bounds are far above
# any useful value: they stop a typo (a few zeros too many) here, before it overflows a
# timer or a database column in the running bot. README and config.example.toml list them.
LIMITS: dict[str, tuple[int, int]] = {
    "poll_interval": (30, WEEK),
    "backfill": (0, 1000),
    "max_posts_per_poll": (1, 1000),
    "max_age_hours": (0, 365 * 24),
    "keep_days": (0, 3650),
    "fetch.timeout": (1, 300),
    "fetch.max_bytes": (10_000, 100_000_000),
    "fetch.max_failures": (1, 1000),
    "fetch.max_backoff": (60, WEEK),
    "fetch.concurrency": (1, 100),
    "fetch.parse_workers": (0, 32),
    "feeds[].interval": (30, WEEK),
}


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
    database: Path | str  # an SQLite file, or a postgresql:// URL (see _database)
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
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        byte = exc.object[exc.start]
        raise ConfigError(
            "", f"{path} is not UTF-8 text (line {line} has byte {byte:#04x}): save it as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as exc:  # ValueError: a number too long
        raise ConfigError("", f"{path} is not valid TOML: {exc}") from None
    return parse_config(data, base_dir=path.parent, env=os.environ if env is None else env)


def parse_config(
    data: Mapping[str, Any], *, base_dir: Path = Path("."), env: Mapping[str, str] = {}
) -> Config:
    t = _Table(data, "")
    database = _database(t, base_dir, env)
    poll_interval = t.int("poll_interval", 600)
    language = t.choice("language", "en", LANGUAGES)

    f = t.table("fetch")
    fetch = FetchConfig(
        timeout=f.float("timeout", 20.0),
        max_bytes=f.int("max_bytes", 5_000_000),
        max_failures=f.int("max_failures", 20),
        max_backoff=f.int("max_backoff", 6 * 3600),
        concurrency=f.int("concurrency", 20),
        user_agent=f.str("user_agent", ""),
        parse_workers=f.int("parse_workers", default_parse_workers()),
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
            destinations=tuple(
                _destination(d, d.chat("chat"), names) for d in tg.tables("destinations")
            ),
        )
        tg.done()
    if "discord" in data:
        dc = t.table("discord")
        discord = DiscordConfig(
            token=_token(dc, env, DISCORD_TOKEN_ENV),
            api_base_url=dc.url("api_base_url", ""),
            gateway_url=dc.url("gateway_url", "", schemes=("ws", "wss")),
            guild_id=dc.snowflake("guild_id"),
            destinations=tuple(
                _destination(d, d.snowflake("channel", required=True), names)
                for d in dc.tables("destinations")
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
        backfill=t.int("backfill", 0),
        max_posts_per_poll=t.int("max_posts_per_poll", 20),
        max_age_hours=t.int("max_age_hours", 72),
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


# -- the database: an SQLite file, or a PostgreSQL server -----------------------------
DATABASE_URL_ENV = "HEADLINES_DATABASE_URL"
DATABASE_SCHEMES = ("postgresql", "postgres")


def _database(t: _Table, base_dir: Path, env: Mapping[str, str]) -> Path | str:
    """`database`: a file path (SQLite, relative to the config file) or a postgresql://
    URL; $HEADLINES_DATABASE_URL, when set, wins over the file (so the URL, which may
    hold a password, need not be written in it). The URL is checked here and never
    shown with its password."""
    value = t.str("database", "headlines.db")
    key = t.key("database")
    if env.get(DATABASE_URL_ENV):
        value, key = env[DATABASE_URL_ENV], DATABASE_URL_ENV
        if "://" not in value:
            raise ConfigError(key, "must be a postgresql://user@host/database URL")
    if "://" not in value:
        path = Path(value)
        return path if path.is_absolute() else base_dir / path
    from urllib.parse import urlsplit

    from bot.store import describe

    shown = describe(value) if value.startswith(("postgresql://", "postgres://")) else "it"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError for a port that is no number)
    except ValueError as error:
        raise ConfigError(key, f"{shown} is not a valid URL: {error}") from None
    if parts.scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            key,
            f"{parts.scheme}:// is no database this bot knows: give a file path (SQLite) "
            "or a postgresql://user@host/database URL",
        )
    if not parts.path.strip("/"):
        raise ConfigError(key, f"{shown} names no database: postgresql://user@host/DATABASE")
    return value


def _keep_days(t: _Table) -> int:
    days = t.int("keep_days", 90)
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
        interval=t.int("interval", default_interval),
        language=t.choice("language", "", ("", *LANGUAGES)),
        regions=t.regions("regions"),
        keywords=tuple(rules),
    )
    t.done()
    return feed


def _destination(t: _Table, chat_id: str, feed_names: list[str]) -> DestinationConfig:
    feeds = t.strs("feeds")
    for name in feeds:
        if name not in feed_names:
            raise ConfigError(t.key("feeds"), f'no feed is named "{name}"')
    dest = DestinationConfig(
        chat_id=chat_id,
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
        self._check_text(name, value)
        if required and not value.strip():
            raise ConfigError(self.key(name), "must not be empty")
        return value.strip()

    def _check_text(self, name: str, value: str) -> None:
        # No setting is a text of several lines; a newline or a NUL that slipped in would
        # break an HTTP header, a database path or a post's layout later, far from here.
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ConfigError(
                self.key(name), f"must not contain control characters (a newline...): {value!r}"
            )

    def int(self, name: str, default: int) -> int:
        return int(self.number(name, default, whole=True))

    def float(self, name: str, default: float) -> float:
        return float(self.number(name, default, whole=False))

    def number(self, name: str, default: float, *, whole: bool) -> int | float:
        """The number at `name`, within its range in LIMITS (found by its key, with the
        index of a list left out: `feeds[].interval`)."""
        least, most = LIMITS[re.sub(r"\[\d+\]", "[]", self.key(name))]
        value = self.raw(name, default)
        kind = int if whole else int | float
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = "a whole number" if whole else "a number"
            raise ConfigError(self.key(name), f"expected {expected}, got {_show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(self.key(name), f"expected a finite number, got {_show(value)}")
        if value < least:
            raise ConfigError(self.key(name), f"must be at least {least}, got {_show(value)}")
        if value > most:
            raise ConfigError(self.key(name), f"must be at most {most}, got {_show(value)}")
        return value

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
            problem = _url_problem(value, schemes)
            if problem is not None:
                kind = "an http(s)" if schemes[0] == "http" else "a ws(s)"
                shown = f'expected {kind} URL, got "{value}"'
                raise ConfigError(self.key(name), f"{shown}: {problem}" if problem else shown)
        return value.rstrip("/") if name != "url" else value

    def snowflake(self, name: str, required: bool = False) -> str:
        """A Discord id: a whole number of 64 bits, written as a number or a string; ""
        when absent and not required."""
        value = self.raw(name, "", required)
        if value == "" and not required:
            return ""
        if isinstance(value, str) and re.fullmatch(r"[0-9]{1,20}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
            raise ConfigError(self.key(name), f"expected a numeric id, got {_show(value)}")
        return str(value)

    def chat(self, name: str) -> str:
        """A Telegram chat: its numeric id (64 bits), or a channel's @name."""
        value = self.raw(name, required=True)
        if isinstance(value, str):
            self._check_text(name, value)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | str)
            or (isinstance(value, int) and not -(2**63) <= value < 2**63)
            or not str(value).strip()
        ):
            raise ConfigError(self.key(name), f"expected a chat id or @name, got {_show(value)}")
        return str(value).strip()

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.key(name), f"expected a list of strings, got {_show(value)}")
        for v in value:
            self._check_text(name, v)
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


def _url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """Why `url` is no URL of one of `schemes` a client can connect to: None if it is one,
    "" when the scheme or host is missing (the message says what is expected)."""
    if any(c.isspace() for c in url):
        return "it contains a space (in a path, write it as %20)"
    try:
        parts = urlsplit(url)
    except ValueError:  # urlsplit checks the [...] of an IPv6 address, no more
        return "the address in [...] is not an IPv6 address"
    if parts.scheme not in schemes or not parts.netloc:
        return ""
    # host[:port] after any user:password@, checked here because urlsplit leaves the host
    # unchecked and reads the port only when asked (and then raises).
    server = re.fullmatch(
        r"(\[[^\[\]]*\]|[^\[\]:]*)(?::([0-9]*))?", parts.netloc.rpartition("@")[2]
    )
    if server is None:
        return "expected host or host:port after //"
    host, port = server.groups()
    if port and (len(port) > 5 or not 1 <= int(port) <= 65535):
        return f"the port must be from 1 to 65535, got {port}"
    if not host:
        return "it names no host"
    if not _is_host(host):
        return f"{host!r} is not a host name nor an IP address"
    return None


_HOST_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?", re.IGNORECASE)


def _is_host(host: str) -> bool:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    try:
        name = host.encode("idna").decode("ascii")  # names in other scripts: xn--...
        for label in name.removesuffix(".").split("."):
            if label.lower().startswith("xn--"):
                label.encode("ascii").decode("idna")  # a Punycode label must decode
    except UnicodeError:
        return False
    labels = name.removesuffix(".").split(".")
    return len(name) <= 253 and all(_HOST_LABEL.fullmatch(label) for label in labels)


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value.bit_length() > 100:
        # Python refuses to write out a number of over 4300 digits.
        return f"a number of {value.bit_length()} bits"
    return repr(value)
