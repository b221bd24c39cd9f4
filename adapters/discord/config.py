"""The `[discord]` table of the config file: the bot token, the server, the channels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.config import ConfigError, DestinationConfig, PlatformTable, Table, secret_field, show

TOKEN_ENV = "HEADLINES_DISCORD_TOKEN"
# Discord requires sharding from 2,500 servers and suggests about 1,000 per shard; 1024
# shards would be a million servers.
SHARD_COUNT_LIMITS = (1, 1024)


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str = secret_field()
    api_base_url: str = ""
    gateway_url: str = ""
    guild_id: str = ""
    destinations: tuple[DestinationConfig, ...] = ()
    # The announcement channels whose posts the bot publishes to the servers following
    # them: the destinations with `crosspost = true`.
    crosspost: frozenset[str] = frozenset()
    # How many shards the gateway is split into: each guild's events reach one of them.
    shard_count: int = 1

    # How this platform's chat ids read elsewhere in the file (the operator's alert chat).
    read_chat = staticmethod(lambda t, name: snowflake(t, name, required=True))


def parse_section(t: PlatformTable) -> DiscordConfig:
    default = DiscordConfig(token="")
    crosspost: set[str] = set()

    def channel(d: Table) -> str:
        """A destination's channel, and whether its posts are published (crosspost)."""
        chat_id = snowflake(d, "channel", required=True)
        if d.bool("crosspost", False):
            crosspost.add(chat_id)
        return chat_id

    config = DiscordConfig(
        token=t.secret("token", TOKEN_ENV),
        api_base_url=t.url("api_base_url", default.api_base_url),
        gateway_url=t.url("gateway_url", default.gateway_url, schemes=("ws", "wss")),
        guild_id=snowflake(t, "guild_id"),
        destinations=t.destinations(channel),
        crosspost=frozenset(crosspost),
        shard_count=t.int("shard_count", default.shard_count, limits=SHARD_COUNT_LIMITS),
    )
    t.done()
    return config


def snowflake(t: Table, name: str, required: bool = False) -> str:
    """A Discord id: a whole number of 64 bits, written as a number or a string; ""
    when absent and not required."""
    value = t.raw(name, "", required)
    if value == "" and not required:
        return ""
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,20}", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**64:
        raise ConfigError(t.key(name), f"expected a numeric id, got {show(value)}")
    return str(value)
