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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from bot import filters
from bot.models import LANGUAGES
from bot.outbox.digest import DigestError
from bot.outbox.digest import parse_setting as parse_digest
from bot.regions.names import REGIONS, find_region

KEEP_DAYS_MIN = 7
WEEK = 7 * 86400

# Every number in the file and its range, least and most. The upper bounds are far above
# any useful value: they stop a typo (a few zeros too many) here, before it overflows a
# timer or a database column in the running bot. README and config.example.toml list them.
# (A platform's own numbers give their range where they read them: `Table.int(limits=)`.)
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
    "alerts.feed_failing_after": (60, WEEK),
    "alerts.backlog_after": (60, WEEK),
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
    digest: str = ""  # "daily 08:00 America/Mexico_City" (bot.outbox.digest); "": none
    # Split the chat (a forum group) into one thread per region at start, as
    # /subscribe topics does; only platforms with such threads read it.
    topics: bool = False
    # Keyword filters (bot.filters), as /filter sets them: terms in their stored form.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class PlatformConfig(Protocol):
    """A platform's section of the file, as its adapter package parses it: a frozen
    dataclass whose secret fields are declared with `secret_field()`."""

    @property
    def destinations(self) -> tuple[DestinationConfig, ...]: ...


# The field metadata that marks a secret: masked by check-config, left out of repr.
SECRET = "secret"


def secret_field() -> Any:
    """A dataclass field holding a secret (a token): `token: str = secret_field()`."""
    return field(repr=False, metadata={SECRET: True})


def secrets(section: object) -> dict[str, str]:
    """The secret fields of a platform's section (a dataclass), by name."""
    return {f.name: getattr(section, f.name) for f in fields(section) if f.metadata.get(SECRET)}


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
class HttpConfig:
    """`[http]`: where /healthz and /metrics listen ("" : nowhere), and the bearer token
    they ask for ("" : none)."""

    listen: str = ""
    token: str = field(default="", repr=False)

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    """`[alerts]`: the operator's chat on each platform that has one, by the platform's
    name (`telegram = "-100123"`, `discord = 123`), and when a problem becomes an alert
    (seconds)."""

    operator_chats: Mapping[str, str] = field(default_factory=dict)
    feed_failing_after: int = 6 * 3600
    backlog_after: int = 30 * 60

    def chats(self) -> dict[str, str]:
        """The operator's chat on each platform that has one."""
        return dict(self.operator_chats)


@dataclass(frozen=True, slots=True)
class Config:
    # An SQLite file (in the file: relative to the file's folder), or a postgresql:// URL
    # (see _database).
    database: Path | str = Path("headlines.db")
    poll_interval: int = 600
    backfill: int = 0
    max_posts_per_poll: int = 20
    max_age_hours: int = 72
    keep_days: int = 90
    language: str = "en"
    fetch: FetchConfig = field(default_factory=FetchConfig)
    feeds: tuple[FeedConfig, ...] = ()
    # Every platform the bot was built with, by name: its section of the file, or None
    # where the file has none or turns it off.
    platforms: Mapping[str, PlatformConfig | None] = field(default_factory=dict)
    http: HttpConfig = field(default_factory=HttpConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)

    def feed(self, name: str) -> FeedConfig | None:
        return next((f for f in self.feeds if f.name == name), None)

    def sections(self) -> dict[str, PlatformConfig]:
        """The platforms this file turns on, by name."""
        return {name: s for name, s in self.platforms.items() if s is not None}

    def destinations(self) -> dict[str, tuple[DestinationConfig, ...]]:
        """The destinations this file names, per platform; every platform is listed, so
        that destinations removed from the file (or a platform removed) stop receiving."""
        return {name: s.destinations if s else () for name, s in self.platforms.items()}


# The file's defaults are the dataclasses' defaults, read from these and never restated.
_CONFIG = Config()
_FEED = FeedConfig(name="", url="", interval=_CONFIG.poll_interval)
_DESTINATION = DestinationConfig(chat_id="")


def load_config(
    path: str | Path,
    env: Mapping[str, str] | None = None,
    platforms: Mapping[str, SectionParser] = {},
) -> Config:
    """Read and check the TOML file at `path`; tokens may come from `env` instead. Each
    of `platforms` (the adapters' registry) parses its own table, `[name]`."""
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
    env = os.environ if env is None else env
    return parse_config(data, base_dir=path.parent, env=env, platforms=platforms)


def parse_config(
    data: Mapping[str, Any],
    *,
    base_dir: Path = Path("."),
    env: Mapping[str, str] = {},
    platforms: Mapping[str, SectionParser] = {},
) -> Config:
    t = Table(data, "")
    database = _database(t, base_dir, env)
    poll_interval = t.int("poll_interval", _CONFIG.poll_interval)
    language = t.choice("language", _CONFIG.language, LANGUAGES)

    f = t.table("fetch")
    default = FetchConfig()
    fetch = FetchConfig(
        timeout=f.float("timeout", default.timeout),
        max_bytes=f.int("max_bytes", default.max_bytes),
        max_failures=f.int("max_failures", default.max_failures),
        max_backoff=f.int("max_backoff", default.max_backoff),
        concurrency=f.int("concurrency", default.concurrency),
        user_agent=f.str("user_agent", default.user_agent),
        parse_workers=f.int("parse_workers", default.parse_workers),
    )
    f.done()

    feeds = tuple(_feed(ft, poll_interval) for ft in t.tables("feeds"))
    names = [feed.name for feed in feeds]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise ConfigError(f"feeds[{i}].name", f'"{name}" is used by another feed')

    sections: dict[str, PlatformConfig | None] = {}
    for name, parse in platforms.items():
        table = t.raw(name)
        sections[name] = None if table is None else parse(PlatformTable(table, name, names, env))

    config = Config(
        database=database,
        poll_interval=poll_interval,
        backfill=t.int("backfill", _CONFIG.backfill),
        max_posts_per_poll=t.int("max_posts_per_poll", _CONFIG.max_posts_per_poll),
        max_age_hours=t.int("max_age_hours", _CONFIG.max_age_hours),
        keep_days=_keep_days(t),
        language=language,
        fetch=fetch,
        feeds=feeds,
        platforms=sections,
        http=_http(t.table("http")),
        alerts=_alerts(t.table("alerts"), sections),
    )
    t.done()
    return config


# -- the database: an SQLite file, or a PostgreSQL server -----------------------------
DATABASE_URL_ENV = "HEADLINES_DATABASE_URL"
DATABASE_SCHEMES = ("postgresql", "postgres")


def _database(t: Table, base_dir: Path, env: Mapping[str, str]) -> Path | str:
    """`database`: a file path (SQLite, relative to the config file) or a postgresql://
    URL; $HEADLINES_DATABASE_URL, when set, wins over the file (so the URL, which may
    hold a password, need not be written in it). The URL is checked here and never
    shown with its password."""
    value = t.str("database", str(_CONFIG.database))
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


# -- operations: the HTTP listener and the operator's alert chats (issue 11) -------------


def _http(t: Table) -> HttpConfig:
    listen = t.str("listen", "")
    if listen:
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ConfigError(
                t.key("listen"),
                f'expected "host:port" with a port from 0 (any free one) to 65535, got {listen!r}',
            )
        if not _is_host(host):
            raise ConfigError(t.key("listen"), f"{host!r} is not a host name nor an IP address")
    http = HttpConfig(listen=listen, token=t.str("token", ""))
    t.done()
    return http


def _alerts(t: Table, sections: Mapping[str, PlatformConfig | None]) -> AlertsConfig:
    """`[alerts]`: a key per platform names its operator chat, which needs that platform's
    own table; the rest say when a problem becomes an alert."""
    default = AlertsConfig()
    chats = {}
    for platform in sections:
        value = t.raw(platform)
        if value is None:
            continue
        section = sections[platform]
        if section is None:
            raise ConfigError(
                t.key(platform), f"alerts go to {platform}, but there is no [{platform}]"
            )
        # The platform reads its own chat ids (a Telegram chat, a Discord channel's id).
        read_chat = getattr(section, "read_chat", None)
        if read_chat is not None:
            chats[platform] = read_chat(t, platform)
            continue
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip():
            raise ConfigError(t.key(platform), f"expected a chat id, got {show(value)}")
        if isinstance(value, str):
            t.check_text(platform, value)
        chats[platform] = str(value).strip()
    alerts = AlertsConfig(
        operator_chats=chats,
        feed_failing_after=t.int("feed_failing_after", default.feed_failing_after),
        backlog_after=t.int("backlog_after", default.backlog_after),
    )
    t.done()
    return alerts


def _keep_days(t: Table) -> int:
    days = t.int("keep_days", _CONFIG.keep_days)
    if 0 < days < KEEP_DAYS_MIN:
        # Shorter would forget entries a feed still lists, and post them again.
        raise ConfigError(
            t.key("keep_days"),
            f"must be 0 (keep everything) or at least {KEEP_DAYS_MIN}, got {days}",
        )
    return days


def _feed(t: Table, default_interval: int) -> FeedConfig:
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
        language=t.choice("language", _FEED.language, ("", *LANGUAGES)),
        regions=t.regions("regions"),
        keywords=tuple(rules),
    )
    t.done()
    return feed


def _keyword_filter(t: Table) -> dict[str, tuple[str, ...]]:
    """A destination's `include` and `exclude` lists: words or phrases, read as /filter
    reads them (bot.filters), within its limits."""
    lists = {}
    for name in ("include", "exclude"):
        terms = []
        for text in t.strs(name):
            try:
                terms.append(filters.term(text))
            except filters.FilterError as error:
                raise ConfigError(t.key(name), _filter_problem(error)) from None
        lists[name] = tuple(dict.fromkeys(terms))
    if len(lists["include"]) + len(lists["exclude"]) > filters.MAX_TERMS:
        raise ConfigError(
            t.key("include"), f"at most {filters.MAX_TERMS} terms in include and exclude together"
        )
    return lists


def _filter_problem(error: filters.FilterError) -> str:
    shown = repr(error.values.get("term", ""))
    if error.key == "filter_term_empty":
        return f"{shown} holds no word to match"
    if error.key == "filter_term_too_long":
        return f"{shown} is longer than {filters.MAX_TERM_CHARS} characters"
    return f"{shown} has more than {filters.MAX_TERM_WORDS} words"


def _digest(t: Table) -> str:
    """A destination's `digest`, checked as /digest reads it, but with its time zone named:
    the file is read where no chat has saved one."""
    text = t.str("digest", "")
    if not text:
        return ""
    try:
        setting = parse_digest(text.split())
    except DigestError as error:
        problem = DIGEST_PROBLEMS.get(error.key, error.key).format(**error.values)
        raise ConfigError(
            t.key("digest"),
            f'{problem}, got {text!r}; e.g. "daily 08:00 Europe/Madrid", "weekly mon 08:00 UTC"',
        ) from None
    if setting is None:
        return ""
    return str(setting)


# What a digest setting's problems (bot.outbox.digest.DigestError) mean in the file.
DIGEST_PROBLEMS = {
    "digest_bad_word": "{word!r} is not a period (hourly, daily, weekly), a day, a time or a zone",
    "digest_no_period": "give a period: hourly, daily or weekly",
    "digest_hourly_alone": "an hourly digest takes no time or day",
    "digest_needs_time": "give a time of day (HH:MM)",
    "digest_needs_day": "a weekly digest needs a day (mon ... sun)",
    "digest_daily_day": "a daily digest takes no day",
    "digest_needs_zone": "give an IANA time zone (such as Europe/Madrid or UTC)",
    "digest_bad_time": "{word!r} is not a time of day (HH:MM, 00:00 to 23:59)",
    "digest_bad_zone": "{zone!r} is not an IANA time zone (did you mean {hint}?)",
}


def _unknown_region(name: str) -> str:
    return f"unknown region {name!r}; expected one of: {', '.join(REGIONS)}"


class Table:
    """One TOML table being read: typed getters that name the key in their errors, and a
    record of the keys read so that `done()` can reject unknown (misspelt) keys."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, Mapping):
            raise ConfigError(path, f"expected a table, got {show(data)}")
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
            raise ConfigError(self.key(name), f"expected a string, got {show(value)}")
        self.check_text(name, value)
        if required and not value.strip():
            raise ConfigError(self.key(name), "must not be empty")
        return value.strip()

    def check_text(self, name: str, value: str) -> None:
        # No setting is a text of several lines; a newline or a NUL that slipped in would
        # break an HTTP header, a database path or a post's layout later, far from here.
        if any(unicodedata.category(c) == "Cc" for c in value):
            raise ConfigError(
                self.key(name), f"must not contain control characters (a newline...): {value!r}"
            )

    def int(self, name: str, default: int, limits: tuple[int, int] | None = None) -> int:
        return int(self.number(name, default, whole=True, limits=limits))

    def float(self, name: str, default: float, limits: tuple[int, int] | None = None) -> float:
        return float(self.number(name, default, whole=False, limits=limits))

    def number(
        self, name: str, default: float, *, whole: bool, limits: tuple[int, int] | None = None
    ) -> int | float:
        """The number at `name`, within `limits` (least, most); by default its range in
        LIMITS, found by its key with the index of a list left out: `feeds[].interval`."""
        least, most = limits or LIMITS[re.sub(r"\[\d+\]", "[]", self.key(name))]
        value = self.raw(name, default)
        kind = int if whole else int | float
        if isinstance(value, bool) or not isinstance(value, kind):
            expected = "a whole number" if whole else "a number"
            raise ConfigError(self.key(name), f"expected {expected}, got {show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(self.key(name), f"expected a finite number, got {show(value)}")
        if value < least:
            raise ConfigError(self.key(name), f"must be at least {least}, got {show(value)}")
        if value > most:
            raise ConfigError(self.key(name), f"must be at most {most}, got {show(value)}")
        return value

    def bool(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            raise ConfigError(self.key(name), f"expected true or false, got {show(value)}")
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

    def strs(self, name: str) -> tuple[str, ...]:
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(self.key(name), f"expected a list of strings, got {show(value)}")
        for v in value:
            self.check_text(name, v)
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

    def table(self, name: str) -> Table:
        return Table(self.raw(name, {}), self.key(name))

    def tables(self, name: str) -> list[Table]:
        value = self.raw(name, [])
        if not isinstance(value, list):
            raise ConfigError(
                self.key(name), f"expected a list of tables ([[{name}]]), got {show(value)}"
            )
        return [Table(item, f"{self.key(name)}[{i}]") for i, item in enumerate(value)]

    def done(self) -> None:
        unknown = [k for k in self.data if k not in self.seen]
        if unknown:
            known = ", ".join(sorted(self.seen)) or "none"
            raise ConfigError(self.key(unknown[0]), f"unknown key (known keys here: {known})")


class PlatformTable(Table):
    """A platform's table (`[telegram]`), as its parser is handed it: what its
    destinations and secrets are read with, besides the getters of any table."""

    def __init__(self, data: Any, path: str, feed_names: list[str], env: Mapping[str, str]) -> None:
        super().__init__(data, path)
        self.feed_names = feed_names
        self.env = env

    def secret(self, name: str, env_name: str) -> str:
        """A secret (a token) from the environment variable `env_name`, else from the
        file; required."""
        value = self.env.get(env_name, "") or self.str(name, "")
        self.seen.add(name)
        if not value:
            raise ConfigError(
                self.key(name), f"missing: set it here or in the environment as {env_name}"
            )
        return value

    def destinations(
        self, chat: Callable[[Table], str], *, topics: bool = False
    ) -> tuple[DestinationConfig, ...]:
        """The `[[name.destinations]]` tables; `chat` reads the platform's chat id from
        each (its key and form are the platform's own). With `topics`, the platform can
        split a chat into a thread per region, and a destination may ask for it."""
        return tuple(
            self._destination(t, chat(t), topics=topics) for t in self.tables("destinations")
        )

    def _destination(self, t: Table, chat_id: str, *, topics: bool) -> DestinationConfig:
        feeds = t.strs("feeds")
        for name in feeds:
            if name not in self.feed_names:
                raise ConfigError(t.key("feeds"), f'no feed is named "{name}"')
        dest = DestinationConfig(
            chat_id=chat_id,
            regions=t.regions("regions"),
            feeds=feeds,
            language=t.choice("language", _DESTINATION.language, ("", *LANGUAGES)),
            digest=_digest(t),
            **_keyword_filter(t),
            topics=t.bool("topics", _DESTINATION.topics) if topics else _DESTINATION.topics,
        )
        t.done()
        return dest


# A platform's parser: reads its table (`[telegram]`), None when the table turns it off.
SectionParser = Callable[[PlatformTable], PlatformConfig | None]


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


def show(value: Any) -> str:
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
