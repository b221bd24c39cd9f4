"""The `[telegram]` table, read by the Telegram package's own parser."""

from __future__ import annotations

import pytest

from adapters.telegram.config import TOKEN_ENV, TelegramConfig, parse_section
from bot.config import Config, ConfigError, parse_config, secrets

FEEDS = {"feeds": [{"name": "World", "url": "https://example.org/rss"}]}


def parse(section: dict[str, object], env: dict[str, str] | None = None) -> Config:
    # Only Telegram's parser: the table needs nothing from the other platforms.
    data = {**FEEDS, "telegram": section}
    return parse_config(data, env=env or {}, platforms={"telegram": parse_section})


def telegram(section: dict[str, object], env: dict[str, str] | None = None) -> TelegramConfig:
    config = parse(section, env).platforms["telegram"]
    assert isinstance(config, TelegramConfig)
    return config


def error_of(section: dict[str, object], env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(section, env)
    return str(caught.value)


def test_token_from_environment_wins_and_missing_token_says_how() -> None:
    section: dict[str, object] = {"destinations": [{"chat": "@news"}]}
    config = parse(section, env={"HEADLINES_TELEGRAM_TOKEN": "123:abc"})
    found = config.platforms["telegram"]
    assert isinstance(found, TelegramConfig) and found.token == "123:abc"
    assert found.destinations[0].chat_id == "@news"
    assert "123:abc" not in repr(config)
    assert error_of(section) == (
        "telegram.token: missing: set it here or in the environment as HEADLINES_TELEGRAM_TOKEN"
    )
    assert telegram({"token": "9:file"}, {TOKEN_ENV: "9:env"}).token == "9:env"
    assert telegram({"token": "9:file"}).token == "9:file"


def test_the_token_is_marked_secret_and_nothing_else() -> None:
    config = telegram({"token": "123:abc", "api_base_url": "http://127.0.0.1:8081/"})
    assert secrets(config) == {"token": "123:abc"}
    assert "123:abc" not in repr(config) and "127.0.0.1:8081" in repr(config)


def test_defaults_are_the_dataclass_defaults() -> None:
    assert telegram({"token": "t"}) == TelegramConfig(token="t")


def test_paid_broadcast_is_off_unless_asked_and_its_rate_within_telegrams() -> None:
    default = telegram({"token": "t"})
    assert (default.allow_paid_broadcast, default.paid_broadcast_rate) == (False, 1000)
    paid = telegram({"token": "t", "allow_paid_broadcast": True, "paid_broadcast_rate": 300})
    assert (paid.allow_paid_broadcast, paid.paid_broadcast_rate) == (True, 300)
    assert error_of({"token": "t", "allow_paid_broadcast": "yes"}) == (
        "telegram.allow_paid_broadcast: expected true or false, got 'yes'"
    )
    for bad, problem in ((29, "must be at least 30"), (1001, "must be at most 1000")):
        assert error_of({"token": "t", "paid_broadcast_rate": bad}) == (
            f"telegram.paid_broadcast_rate: {problem}, got {bad}"
        )
    assert error_of({"token": "t", "paid_broadcast_rate": 500.5}) == (
        "telegram.paid_broadcast_rate: expected a whole number, got 500.5"
    )


def test_a_chat_is_a_64_bit_id_or_a_name() -> None:
    chats = [{"chat": "@news"}, {"chat": -1001234}, {"chat": " -555 "}, {"chat": 2**63 - 1}]
    found = telegram({"token": "t", "destinations": chats}).destinations
    assert [d.chat_id for d in found] == ["@news", "-1001234", "-555", str(2**63 - 1)]
    for bad, shown in ((2**63, str(2**63)), ("", "''"), (True, "true"), ([1], "a list")):
        assert error_of({"token": "t", "destinations": [{"chat": bad}]}) == (
            f"telegram.destinations[0].chat: expected a chat id or @name, got {shown}"
        )
    assert (
        error_of({"token": "t", "destinations": [{}]}) == "telegram.destinations[0].chat: missing"
    )
    assert error_of({"token": "t", "destinations": [{"chat": "@a\nb"}]}).startswith(
        "telegram.destinations[0].chat: must not contain control characters"
    )


def test_destinations_keep_their_filters_and_unknown_keys_are_named() -> None:
    chat = {"chat": "@news", "regions": ["latam"], "feeds": ["World"], "language": "es"}
    [destination] = telegram({"token": "t", "destinations": [chat]}).destinations
    assert (destination.regions, destination.feeds, destination.language) == (
        ("Latin America",),
        ("World",),
        "es",
    )
    assert error_of({"token": "t", "link_preview": True}).startswith(
        "telegram.link_preview: unknown key (known keys here: allow_paid_broadcast, "
        "api_base_url, destinations, "
    )
    assert error_of({"token": "t", "destinations": [{"chat": "@a", "feed": []}]}).startswith(
        "telegram.destinations[0].feed: unknown key"
    )


def test_crossposting_is_discords_alone() -> None:
    data = {
        "feeds": [{"name": "World", "url": "https://example.org/rss"}],
        "telegram": {"token": "t", "destinations": [{"chat": "@news", "crosspost": True}]},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(data, platforms={"telegram": parse_section})
    assert str(caught.value).startswith("telegram.destinations[0].crosspost: unknown key")
