"""The `[discord]` table, read by the Discord package's own parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.discord.config import TOKEN_ENV, DiscordConfig, parse_section
from bot.config import ConfigError, parse_config, secrets

FEEDS = {"feeds": [{"name": "World", "url": "https://example.org/rss"}]}


def parse(**section: object) -> DiscordConfig:
    # Only Discord's parser: the table needs nothing from the other platforms.
    data = {**FEEDS, "discord": {"token": "t", **section}}
    config = parse_config(data, platforms={"discord": parse_section}).platforms["discord"]
    assert isinstance(config, DiscordConfig)
    return config


def error_of(**section: object) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(**section)
    return str(caught.value)


def test_discord_ids_are_numbers_of_64_bits() -> None:
    config = parse(guild_id="12", destinations=[{"channel": 2**64 - 1}])
    assert config.guild_id == "12"
    assert config.destinations[0].chat_id == str(2**64 - 1)
    assert error_of(destinations=[{"channel": "#general"}]) == (
        "discord.destinations[0].channel: expected a numeric id, got '#general'"
    )
    assert error_of(guild_id=2**64) == f"discord.guild_id: expected a numeric id, got {2**64}"
    assert error_of(destinations=[{}]) == "discord.destinations[0].channel: missing"
    assert parse(guild_id=" 42 ").guild_id == "42" and parse().guild_id == ""
    assert error_of(guild_id=True) == "discord.guild_id: expected a numeric id, got true"


def test_the_gateway_is_a_websocket_url() -> None:
    assert parse(gateway_url="ws://127.0.0.1:9/").gateway_url == "ws://127.0.0.1:9"
    assert error_of(gateway_url="https://gateway.discord.gg") == (
        'discord.gateway_url: expected a ws(s) URL, got "https://gateway.discord.gg"'
    )


def test_the_token_is_secret_and_comes_from_the_environment_first() -> None:
    config = parse_config(
        {**FEEDS, "discord": {"token": "from-file"}},
        env={TOKEN_ENV: "from-env"},
        platforms={"discord": parse_section},
    ).platforms["discord"]
    assert isinstance(config, DiscordConfig) and secrets(config) == {"token": "from-env"}
    assert "from-env" not in repr(config)
    assert parse() == DiscordConfig(token="t")  # the defaults are the dataclass's


def test_discord_destinations_may_ask_for_crossposting() -> None:
    config = parse(destinations=[{"channel": 5, "crosspost": True}, {"channel": 6}])
    assert config.crosspost == {"5"}
    assert [d.chat_id for d in config.destinations] == ["5", "6"]
    assert error_of(destinations=[{"channel": 5, "crosspost": "yes"}]) == (
        "discord.destinations[0].crosspost: expected true or false, got 'yes'"
    )


def test_the_shard_count_is_a_whole_number_from_1_to_1024() -> None:
    assert parse().shard_count == 1
    assert parse(shard_count=4).shard_count == 4
    assert error_of(shard_count=0) == "discord.shard_count: must be at least 1, got 0"
    assert error_of(shard_count=1025) == "discord.shard_count: must be at most 1024, got 1025"
    assert "expected a whole number" in error_of(shard_count="2")


def test_check_config_names_a_bad_shard_count(tmp_path: Path) -> None:
    from tests.test_config import check_config

    path = tmp_path / "config.toml"
    feeds = '[[feeds]]\nname = "A"\nurl = "https://a.example/"\n'
    path.write_text(f'{feeds}[discord]\ntoken = "t"\nshard_count = 2000\n')
    done = check_config(path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "config error: discord.shard_count: must be at most 1024, got 2000"
    )
