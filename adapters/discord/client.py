"""The discord.py client: its gateway connection, what it asks Discord for, and what a
gateway refusal means."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import discord

from adapters.discord.commands import SlashCommands
from adapters.discord.limits import GATEWAY_REFUSALS, LONGEST_WAIT
from adapters.discord.render import NO_MENTIONS


class Client(discord.Client):
    """A client with the slash commands' tree; `set_up` runs after login, before the
    gateway connects. With `shard_id` and `shard_count`, its gateway connection is that
    shard: it receives the events of the guilds that shard owns."""

    def __init__(
        self,
        *,
        commands: SlashCommands,
        trace: aiohttp.TraceConfig,
        guild_ready_timeout: float,
        set_up: Callable[[Client], Awaitable[None]],
        shard_id: int | None = None,
        shard_count: int | None = None,
    ) -> None:
        # Only the guilds intent: channels and permissions for the slash commands. Slash
        # commands need no privileged intent (no message content, no members).
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            http_trace=trace,
            # Longer waits than this surface as RetryAfter, for the outbox to wait out.
            max_ratelimit_timeout=LONGEST_WAIT,
            guild_ready_timeout=guild_ready_timeout,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            shard_id=shard_id,
            shard_count=shard_count,
        )
        self._set_up = set_up
        self.tree = commands.build_tree(self)

    async def setup_hook(self) -> None:
        await self._set_up(self)


def gateway_refusal(error: Exception) -> str:
    """What a gateway close that discord.py will not reconnect on means, for the log."""
    code = error.code if isinstance(error, discord.ConnectionClosed) else 4014
    meaning = GATEWAY_REFUSALS.get(code, "the gateway closed the connection for good")
    return f"{meaning} (gateway close code {code})"
