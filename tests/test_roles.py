"""Two bots on one PostgreSQL database, in one test process: the roles are leases that
one bot holds at a time, Discord's shards are shared out between them, and a bot that
stops hands everything over at the other's next beat."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from bot.app import HeadlinesBot
from bot.config import parse_config
from bot.roles import RENEW_EVERY, share_of
from testing.fake_discord import CHANNEL_IDS, GUILD_ID, TOKEN, FakeDiscord, shard_of
from testing.postgres import PostgresServer

OTHER_GUILD = str(1 << 22)  # shard 1 of 2; GUILD_ID is on shard 0
OTHER_NEWS = "5001"
SHARDS = {"discord shard 0", "discord shard 1"}


def make_bot(url: str, fake: FakeDiscord) -> HeadlinesBot:
    config = parse_config({"database": url, "feeds": []})
    discord = DiscordConfig(token=TOKEN, api_base_url=fake.url, guild_id=GUILD_ID, shard_count=2)
    adapter = DiscordAdapter(discord, guild_ready_timeout=0.05, reconnect_delay=0.01)
    return HeadlinesBot(config, [adapter])


async def until(condition: Callable[[], bool], beats: int = 8) -> None:
    """Wait up to `beats` beats of the roles for `condition`."""
    for _ in range(int(beats * RENEW_EVERY / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("not within the beats")


async def test_two_bots_share_the_shards_and_one_takes_all_when_the_other_stops(
    postgres_server: PostgresServer,
) -> None:
    assert shard_of(OTHER_GUILD, 2) == 1 and shard_of(GUILD_ID, 2) == 0
    url = postgres_server.database()
    async with FakeDiscord() as fake:
        fake.add_guild(OTHER_GUILD, "Sports", [OTHER_NEWS])
        first, second = make_bot(url, fake), make_bot(url, fake)
        try:
            await first.open()
            await first.connect(maintenance=True)
            # Alone: every role, both shards.
            assert first.roles.held == {"discord", "maintenance"} | SHARDS
            await second.open()
            await second.connect(maintenance=True)
            # Two alive: the first gives a shard back, the second takes it.
            await until(
                lambda: (
                    len(second.roles.held & SHARDS) == 1 and len(fake.identified_shards) == 3
                )  # the first's two, then the second's
            )
            assert len(first.roles.held & SHARDS) == 1
            assert second.roles.held & {"discord", "maintenance"} == set()
            # Each guild's command is answered, by whichever holds its shard.
            for channel in (CHANNEL_IDS[0], OTHER_NEWS):
                answered = await fake.command("latest", {}, channel_id=channel)
                assert answered.answers
            await first.stop()
            # The second takes over at its next beat: the sender and both shards.
            await until(
                lambda: (
                    second.roles.held == {"discord", "maintenance"} | SHARDS
                    and len(fake.identified_shards) == 4
                )
            )
            for channel in (CHANNEL_IDS[0], OTHER_NEWS):
                answered = await fake.command("help", {}, channel_id=channel)
                assert answered.answers
            await until(lambda: second.platform_health(second.adapters[0]).connected)
        finally:
            await first.stop()
            await second.stop()


def test_shares_are_even_and_held_ones_are_kept_first() -> None:
    shards = [f"s {k}" for k in range(4)]
    none = frozenset[str]()
    # Alone: all of them.
    assert sorted(share_of(shards, none, none, 1, "a:1:x")) == shards
    held = frozenset(shards)
    # Four held, two processes alive: two kept (the first held), two given back.
    assert share_of(shards, held, none, 2, "a:1:x") == ["s 0", "s 1"]
    # Three alive: a share of two; the one held is kept, and one more asked for: a free
    # one rather than one another process holds.
    busy = frozenset({"s 0", "s 1"})
    assert share_of(shards, frozenset({"s 3"}), busy, 3, "b:2:y") == ["s 3", "s 2"]
