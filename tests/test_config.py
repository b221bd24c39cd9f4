"""The config file: what a user writes, and the messages they get when it is wrong. (Each
platform's own table: tests/adapters/test_*_config.py.)"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

import adapters
from adapters.discord.config import DiscordConfig
from adapters.telegram.config import TelegramConfig
from bot.config import Config, ConfigError, parse_config

ROOT = Path(__file__).resolve().parents[1]


def parse(data: dict[str, object], env: dict[str, str] | None = None) -> Config:
    """`data` read as the bot reads a file: with every platform's table."""
    return parse_config(data, env=env or {}, platforms=adapters.section_parsers())


def feeds(**extra: object) -> dict[str, object]:
    return {"feeds": [{"name": "World", "url": "https://example.org/rss", **extra}]}


def error_of(data: dict[str, object], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(data, env)
    return str(caught.value)


def test_example_config_is_valid_and_complete() -> None:
    tokens = {"HEADLINES_TELEGRAM_TOKEN": "1:a", "HEADLINES_DISCORD_TOKEN": "b"}
    config = adapters.load(ROOT / "config.example.toml", env=tokens)
    assert [f.name for f in config.feeds] == ["World Dispatch (EN)", "Despacho Mundial (ES)"]
    assert config.feeds[1].language == "es"
    telegram, discord = config.platforms["telegram"], config.platforms["discord"]
    assert isinstance(telegram, TelegramConfig) and telegram.destinations
    assert isinstance(discord, DiscordConfig) and discord.destinations
    assert isinstance(config.database, Path) and config.database.is_absolute()


def test_defaults() -> None:
    config = parse(feeds())
    feed = config.feeds[0]
    assert (feed.interval, feed.language, feed.regions) == (600, "", ())
    assert (config.backfill, config.max_posts_per_poll, config.poll_interval) == (0, 20, 600)
    assert (config.max_age_hours, config.keep_days) == (72, 90)
    assert config.platforms["telegram"] is None and config.platforms["discord"] is None


def test_database_is_a_file_or_a_postgresql_url_and_the_environment_wins() -> None:
    url = "postgresql://bot:pw@db.example/headlines"
    assert parse_config({"database": "bot.db"}, base_dir=Path("/srv")).database == Path(
        "/srv/bot.db"
    )
    assert parse_config({"database": url}).database == url
    env = {"HEADLINES_DATABASE_URL": "postgres://other@db.example:6543/news"}
    assert parse_config({"database": url}, env=env).database == env["HEADLINES_DATABASE_URL"]
    assert parse_config({}, env=env).database == env["HEADLINES_DATABASE_URL"]
    assert "postgresql://" in error_of({}, env={"HEADLINES_DATABASE_URL": "bot.db"})
    assert "no database this bot knows" in error_of({"database": "mysql://h/db"})
    message = error_of({"database": "postgresql://bot:pw@db.example:port/x"})
    assert "not a valid URL" in message and ":pw@" not in message
    message = error_of({"database": "postgresql://bot:pw@db.example/"})
    assert "names no database" in message and ":pw@" not in message


def test_feed_interval_defaults_to_poll_interval() -> None:
    config = parse({"poll_interval": 900, **feeds()})
    assert config.feeds[0].interval == 900


def test_bad_url_names_the_key() -> None:
    message = error_of(
        {"feeds": [{"name": "A", "url": "https://a/x"}, {"name": "B", "url": "ftp://x"}]}
    )
    assert message == 'feeds[1].url: expected an http(s) URL, got "ftp://x"'


def test_unknown_key_is_an_error_with_the_known_keys() -> None:
    message = error_of({**feeds(), "pol_interval": 60})
    assert message.startswith("pol_interval: unknown key")
    assert "poll_interval" in message


def test_unknown_key_inside_a_feed() -> None:
    message = error_of(feeds(intervall=60))
    assert message.startswith("feeds[0].intervall: unknown key")


def test_regions_are_checked_and_accept_aliases() -> None:
    assert parse(feeds(regions=["latam", "Oriente Medio"])).feeds[0].regions == (
        "Latin America",
        "Middle East",
    )
    assert "unknown region 'Asai'" in error_of(feeds(regions=["Asai"]))


def test_wrong_types_are_named() -> None:
    assert error_of({**feeds(), "backfill": "3"}) == "backfill: expected a whole number, got '3'"
    assert error_of({**feeds(), "poll_interval": 5}) == "poll_interval: must be at least 30, got 5"
    assert error_of(feeds(name="")) == "feeds[0].name: must not be empty"
    assert error_of({**feeds(), "keep_days": 3}) == (
        "keep_days: must be 0 (keep everything) or at least 7, got 3"
    )


def test_numbers_beyond_their_range_are_errors_not_overflows_at_run_time() -> None:
    assert error_of({**feeds(), "poll_interval": 10**20}) == (
        "poll_interval: must be at most 604800, got 100000000000000000000"
    )
    assert error_of(feeds(interval=10**13)) == (
        "feeds[0].interval: must be at most 604800, got 10000000000000"
    )
    assert error_of({**feeds(), "fetch": {"timeout": math.nan}}) == (
        "fetch.timeout: expected a finite number, got nan"
    )
    assert error_of({**feeds(), "fetch": {"timeout": math.inf}}) == (
        "fetch.timeout: expected a finite number, got inf"
    )
    assert error_of({**feeds(), "fetch": {"concurrency": 10**6}}) == (
        "fetch.concurrency: must be at most 100, got 1000000"
    )
    assert parse({**feeds(), "fetch": {"timeout": 300}}).fetch.timeout == 300.0


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://[::1/feed", "the address in [...] is not an IPv6 address"),
        ("http://news.example:70000/", "the port must be from 1 to 65535, got 70000"),
        ("http://news.example:0/", "the port must be from 1 to 65535, got 0"),
        ("http://news .example/", "it contains a space (in a path, write it as %20)"),
        ("http://news%2Eexample/", "'news%2Eexample' is not a host name nor an IP address"),
        ("http://:8080/", "it names no host"),
    ],
)
@pytest.mark.parametrize("where", ["feeds", "telegram", "discord"])
def test_every_url_key_rejects_a_bad_host_or_port(url: str, problem: str, where: str) -> None:
    data: dict[str, object] = feeds()
    if where == "feeds":
        data = feeds(url=url)
        key = "feeds[0].url"
    else:
        data[where] = {"token": "t", "api_base_url": url}
        key = f"{where}.api_base_url"
    assert error_of(data) == f'{key}: expected an http(s) URL, got "{url}": {problem}'


def test_urls_clients_can_use_are_accepted() -> None:
    for url in (
        "http://127.0.0.1:8080/rss?x=1",
        "https://[::1]:443/feed",
        "https://user:secret@news.example/feed%20one",
        "https://noticias.españa.example/rss",
        "http://localhost/",
    ):
        assert parse(feeds(url=url)).feeds[0].url == url
    gateway = {"token": "t", "gateway_url": "wss://gateway.discord.gg:99999"}
    assert error_of({**feeds(), "discord": gateway}) == (
        'discord.gateway_url: expected a ws(s) URL, got "wss://gateway.discord.gg:99999": '
        "the port must be from 1 to 65535, got 99999"
    )


def test_control_characters_in_strings_are_errors() -> None:
    assert error_of({**feeds(), "fetch": {"user_agent": "bot\r\nX-Evil: 1"}}) == (
        "fetch.user_agent: must not contain control characters (a newline...): 'bot\\r\\nX-Evil: 1'"
    )
    assert error_of({**feeds(), "database": "a\x00.db"}).startswith("database: must not")
    assert error_of(feeds(regions=["Asia\n"])).startswith("feeds[0].regions: must not")


def test_duplicate_feed_names() -> None:
    data = {"feeds": [{"name": "A", "url": "https://a/1"}, {"name": "A", "url": "https://a/2"}]}
    assert error_of(data) == 'feeds[1].name: "A" is used by another feed'


def test_destination_feed_filter_must_name_a_feed() -> None:
    data = {**feeds(), "discord": {"token": "t", "destinations": [{"channel": 1, "feeds": ["X"]}]}}
    assert error_of(data) == 'discord.destinations[0].feeds: no feed is named "X"'


def test_destinations_take_a_digest_with_its_time_zone() -> None:
    tg = {
        "token": "t",
        "destinations": [{"chat": "@a", "digest": "daily 8:00 america/mexico_city"}],
    }
    section = parse({**feeds(), "telegram": tg}).platforms["telegram"]
    assert isinstance(section, TelegramConfig)
    assert section.destinations[0].digest == "daily 08:00 America/Mexico_City"
    dc = {"token": "t", "destinations": [{"channel": 1, "digest": "daily 08:00"}]}
    assert error_of({**feeds(), "discord": dc}) == (
        "discord.destinations[0].digest: give an IANA time zone (such as Europe/Madrid or UTC), "
        'got \'daily 08:00\'; e.g. "daily 08:00 Europe/Madrid", "weekly mon 08:00 UTC"'
    )
    dc["destinations"][0]["digest"] = "daily 08:00 Europe/Madird"
    assert "'Europe/Madird' is not an IANA time zone (did you mean Europe/Madrid?)" in error_of(
        {**feeds(), "discord": dc}
    )


def test_destinations_take_include_and_exclude_lists() -> None:
    chat = {"chat": "@news", "include": ["Huelga", "General  Strike"], "exclude": ["fútbol"]}
    section = parse({**feeds(), "telegram": {"token": "t", "destinations": [chat]}})
    [destination] = section.destinations()["telegram"]
    assert destination.include == ("huelga", "general strike")
    assert destination.exclude == ("futbol",)
    channel = {"channel": 1, "exclude": ["***"]}
    assert error_of({**feeds(), "discord": {"token": "t", "destinations": [channel]}}) == (
        "discord.destinations[0].exclude: '***' holds no word to match"
    )
    many = {"chat": 1, "include": [f"w{i}" for i in range(51)]}
    assert error_of({**feeds(), "telegram": {"token": "t", "destinations": [many]}}) == (
        "telegram.destinations[0].include: at most 50 terms in include and exclude together"
    )
    long = {"chat": 1, "include": ["x" * 61]}
    assert "longer than 60 characters" in error_of(
        {**feeds(), "telegram": {"token": "t", "destinations": [long]}}
    )


def test_keywords_map_words_to_regions() -> None:
    config = parse(feeds(keywords={"Kashmir": "Asia", "Sahel": "africa"}))
    assert config.feeds[0].keywords == (("Kashmir", "Asia"), ("Sahel", "Africa"))
    assert "feeds[0].keywords.Atlantis" in error_of(feeds(keywords={"Atlantis": "Atlantida"}))


def test_cli_reports_config_errors_with_status_2_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "ftp://x"\n')
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip() == 'config error: feeds[0].url: expected an http(s) URL, got "ftp://x"'
    )
    assert "Traceback" not in done.stderr


def check_config(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_cli_reports_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes('[[feeds]]\nname = "Mañana"\nurl = "https://a.example/"\n'.encode("latin-1"))
    done = check_config(path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"config error: {path} is not UTF-8 text (line 2 has byte 0xf1): save it as UTF-8"
    )


def test_cli_reports_an_unclosed_ipv6_address_with_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[[feeds]]\nname = "A"\nurl = "http://[::1/feed"\n')
    done = check_config(path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        'config error: feeds[0].url: expected an http(s) URL, got "http://[::1/feed": '
        "the address in [...] is not an IPv6 address"
    )


def test_numbers_too_long_to_write_out_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"poll_interval = {'9' * 5000}\n")
    done = check_config(path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(f"config error: {path} is not valid TOML: Exceeds the limit")
    path.write_text(f"poll_interval = 0x{'f' * 5000}\n")
    with pytest.raises(ConfigError, match=r"^poll_interval: must be at most 604800, got a number"):
        adapters.load(path)
    path.write_text(f'[telegram]\ntoken = "t"\n[[telegram.destinations]]\nchat = {2**63}\n')
    with pytest.raises(ConfigError, match="chat: expected a chat id or @name, got 9223372"):
        adapters.load(path)


def test_cli_reports_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[[feeds]\n")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check-config", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "is not valid TOML" in done.stderr


def test_check_config_shows_a_destinations_keyword_filter(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[feeds]]\nname = "A"\nurl = "https://example.org/rss"\n'
        '[discord]\ntoken = "t"\n[[discord.destinations]]\nchannel = 1\n'
        'include = ["Huelga", "general strike"]\nexclude = ["fútbol"]\n',
        encoding="utf-8",
    )
    done = check_config(path)
    assert done.returncode == 0, done.stderr
    assert (
        'discord destination 1: all regions; keywords +huelga +"general strike" -futbol'
        in done.stdout.splitlines()
    )


def test_the_http_and_alerts_sections(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[[feeds]]\nname = "A"\nurl = "https://a.example/"\n'
        '[http]\nlisten = "0.0.0.0:9464"\ntoken = "very-secret-token"\n'
        '[alerts]\ntelegram = "@ops"\ndiscord = 123\nfeed_failing_after = 3600\n'
        '[telegram]\ntoken = "1:t"\n[discord]\ntoken = "d"\n'
    )
    done = check_config(path)
    assert done.returncode == 0, done.stderr
    assert "http: /healthz and /metrics on 0.0.0.0:9464, token set (very…17 characters)" in (
        done.stdout
    )
    assert "very-secret-token" not in done.stdout + done.stderr
    config = parse(
        {
            "http": {"listen": "[::1]:9464"},
            "alerts": {"telegram": -100123, "discord": "42"},
            "telegram": {"token": "1:t"},
            "discord": {"token": "d"},
        }
    )
    assert (config.http.host, config.http.port) == ("::1", 9464)
    assert config.alerts.chats() == {"telegram": "-100123", "discord": "42"}
    assert (config.alerts.feed_failing_after, config.alerts.backlog_after) == (21600, 1800)
    assert parse({}).http.listen == "" and parse({}).alerts.chats() == {}
    for bad, problem in (
        ({"http": {"listen": "9464"}}, 'http.listen: expected "host:port"'),
        ({"http": {"listen": "a b:1"}}, "http.listen: 'a b' is not a host name"),
        ({"alerts": {"backlog_after": 5}}, "alerts.backlog_after: must be at least 60"),
        (
            {"alerts": {"discord": "#ops"}, "discord": {"token": "d"}},
            "alerts.discord: expected a numeric id",
        ),
        ({"alerts": {"slack": "x"}}, "alerts.slack: unknown key"),
        ({"alerts": {"discord": 1}}, "alerts.discord: alerts go to discord, but there is no"),
    ):
        with pytest.raises(ConfigError) as error:
            parse(bad)
        assert str(error.value).startswith(problem), str(error.value)
