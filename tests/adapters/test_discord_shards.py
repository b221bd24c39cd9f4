"""Discord's gateway split into shards over processes: the real discord.py against the
fake Discord, whose guilds' events reach only the shard that owns them. Two adapters
stand for two processes; each answers the commands of its shards' guilds only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from bot.chat.commands import Commands
from bot.models import ChatRef, Command, Reply
from bot.ports import CannotStart, CommandCallback, Sharded
from bot.store import Storage
from testing.fake_discord import (
    ANNOUNCEMENT_ID,
    CHANNEL_IDS,
    FORUM_ID,
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    shard_of,
)
from tests.adapters import test_discord as discord_tests
from tests.adapters.test_discord import headline

# The fixture of test_discord.py: the fake Discord.
fake = discord_tests.fake

NEWS = CHANNEL_IDS[0]  # in GUILD_ID, on shard 0 of 2
OTHER_GUILD = str(1 << 22)  # created a moment after Discord's epoch: shard 1 of 2
OTHER_NEWS = "5001"
assert shard_of(GUILD_ID, 2) == 0 and shard_of(OTHER_GUILD, 2) == 1


def listening(storage: Storage, heard: list[str]) -> CommandCallback:
    """The core's commands, noting in `heard` the channel of each command that came."""
    core = Commands(storage, ("World",)).handle

    async def handle(command: Command) -> Reply:
        heard.append(command.chat.chat_id)
        return await core(command)

    return handle


@pytest.fixture
async def adapters(fake: FakeDiscord) -> AsyncIterator[list[DiscordAdapter]]:
    """Adapters (processes) of a bot with two shards; stopped at the end."""
    fake.add_guild(OTHER_GUILD, "Sports", [OTHER_NEWS])
    config = DiscordConfig(token=TOKEN, api_base_url=fake.url, guild_id=GUILD_ID, shard_count=2)
    made = [
        DiscordAdapter(config, guild_ready_timeout=0.05, reconnect_delay=0.01) for _ in range(2)
    ]
    yield made
    for adapter in made:
        await adapter.stop()


async def test_each_guild_is_answered_by_the_process_holding_its_shard(
    fake: FakeDiscord, storage: Storage, adapters: list[DiscordAdapter]
) -> None:
    a, b = adapters
    assert isinstance(a, Sharded) and a.shard_count == 2
    heard_a: list[str] = []
    heard_b: list[str] = []
    on_a, on_b = listening(storage, heard_a), listening(storage, heard_b)
    await a.start(on_a)
    assert fake.identifies == 0  # the sender has no gateway connection
    assert fake.synced["global"]  # but it registered the slash commands
    await a.run_shards(on_a, frozenset({0}))
    await b.run_shards(on_b, frozenset({1}))  # a process that does not send
    assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
    assert a.health().connected and b.health().connected

    here = await fake.command("latest", {}, channel_id=NEWS)
    there = await fake.command("latest", {}, channel_id=OTHER_NEWS)
    assert heard_a == [NEWS] and heard_b == [OTHER_NEWS]  # each once, by its shard's holder
    assert len(here.answers) == 1 and len(there.answers) == 1
    assert here.reply and there.reply

    # Sending is REST: A posts to the guild of a shard it does not run.
    chat = ChatRef("discord", OTHER_NEWS, "channel")
    assert (await a.send(chat, [headline("Goal")], "en")).count == 1
    assert [e["title"] for m in fake.posted_to(OTHER_NEWS) for e in m.embeds] == ["Goal"]

    # B hands its shard over: A takes it on, and keeps shard 0's connection as it was.
    await b.run_shards(on_b, frozenset())
    assert not b.health().connected
    await a.run_shards(on_a, frozenset({0, 1}))
    assert fake.identified_shards == [(0, 2), (1, 2), (1, 2)]  # shard 0 not identified again
    await fake.command("help", {}, channel_id=OTHER_NEWS)
    await fake.command("help", {}, channel_id=NEWS)
    assert heard_a == [NEWS, OTHER_NEWS, NEWS] and heard_b == [OTHER_NEWS]
    assert a.health().connected

    await a.run_shards(on_a, frozenset())  # no shards: sending goes on
    assert a.health().connected
    assert (await a.send(chat, [headline("Second goal", n=1)], "en")).count == 1


async def test_a_dropped_shard_resumes_and_the_others_are_untouched(
    fake: FakeDiscord, storage: Storage, adapters: list[DiscordAdapter]
) -> None:
    a, _ = adapters
    heard: list[str] = []
    await a.run_shards(listening(storage, heard), frozenset({0, 1}))
    await fake.drop(shard=1)
    asked = await fake.interact("help", {}, channel_id=OTHER_NEWS)  # held until it resumes
    await asyncio.wait_for(asked.answered.wait(), 10)
    assert fake.resumed_shards == [(1, 2)]
    assert fake.identifies == 2 and heard == [OTHER_NEWS]
    assert a.health().connected  # (within the reconnect window anyway)


async def test_the_sender_alone_posts_to_forums_and_crossposts_without_a_gateway(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    fake.shards = 4  # Discord recommends more shards than configured
    fake.forum(FORUM_ID, ["Asia", "World"])
    config = DiscordConfig(
        token=TOKEN, api_base_url=fake.url, shard_count=2, crosspost=frozenset({ANNOUNCEMENT_ID})
    )
    adapter = DiscordAdapter(config)
    try:
        await adapter.start(never_called)
        assert "Discord recommends 4 gateway shards and discord.shard_count is 2" in caplog.text
        # No gateway here, so no cache: what kind of channel each is, it asks Discord.
        forum = ChatRef("discord", FORUM_ID, "forum")
        await adapter.send(forum, [headline("In Asia")], "en")
        await adapter.send(forum, [headline("Also in Asia", n=1)], "en")
        await adapter.send(ChatRef("discord", ANNOUNCEMENT_ID), [headline("Big news")], "en")
        await fake.wait_for_crossposts(1)
        assert fake.identifies == 0
    finally:
        await adapter.stop()
    assert [fake.tag_names(FORUM_ID, p.applied_tags) for p in fake.forum_posts] == [["Asia"]] * 2
    assert fake.requests.count(("GET", f"/channels/{FORUM_ID}")) == 1  # asked once a minute
    assert fake.crossposted == [(ANNOUNCEMENT_ID, fake.posted_to(ANNOUNCEMENT_ID)[0].id)]


async def never_called(command: Command) -> Reply:
    raise AssertionError("no command can arrive without a gateway connection")


@pytest.mark.parametrize("code", [4010, 4011])
async def test_a_refused_shard_is_said_plainly_and_not_retried(
    fake: FakeDiscord,
    storage: Storage,
    adapters: list[DiscordAdapter],
    caplog: pytest.LogCaptureFixture,
    code: int,
) -> None:
    a, _ = adapters
    await a.run_shards(listening(storage, []), frozenset({0}))
    if code == 4011:
        fake.require_shards = 4  # the fake's own rule: too few shards for the bot
    else:
        fake.refuse_identify = 4010
    with pytest.raises(CannotStart, match=f"close code {code}"):
        await a.run_shards(listening(storage, []), frozenset({0, 1}))
    meaning = "the gateway refused the shard" if code == 4010 else "Discord requires sharding"
    assert f"shard 1 of 2: {meaning}" in caplog.text
    health = a.health()
    assert not health.connected and f"shard 1 of 2: {meaning}" in health.detail
    await asyncio.sleep(0.05)  # longer than the reconnect delay: nothing tries again
    await a.run_shards(listening(storage, []), frozenset({0, 1}))  # nor the same call again
    assert fake.identifies == 2 and not a.health().connected
    await fake.command("help", {}, channel_id=NEWS)  # shard 0 goes on
    await a.run_shards(listening(storage, []), frozenset({0}))  # let go of it: healthy
    assert a.health().connected


async def test_with_one_shard_run_shards_is_start_and_stop(
    fake: FakeDiscord, storage: Storage
) -> None:
    adapter = DiscordAdapter(DiscordConfig(token=TOKEN, api_base_url=fake.url))
    heard: list[str] = []
    try:
        await adapter.run_shards(listening(storage, heard), frozenset({0}))
        assert fake.identified_shards == [(0, 1)] and adapter.health().connected
        await fake.command("help", {})
        assert heard == [NEWS]
        with pytest.raises(ValueError, match="no shard"):
            await adapter.run_shards(listening(storage, heard), frozenset({1}))
        await adapter.run_shards(listening(storage, heard), frozenset())
        assert adapter.client is None and not adapter.health().connected
    finally:
        await adapter.stop()


async def identify(fake: FakeDiscord, shard: object) -> int | None:
    """IDENTIFY with `shard` over a bare websocket: the close code it gets, or None if
    it got READY."""
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.ws_url) as ws:
        await ws.receive_json()  # HELLO
        d = {"token": TOKEN, "intents": 1, "properties": {}}
        await ws.send_str(json.dumps({"op": 2, "d": d | ({"shard": shard} if shard else {})}))
        message = await ws.receive()
        if message.type == aiohttp.WSMsgType.TEXT:
            ready = json.loads(message.data)
            assert ready["t"] == "READY"
            return None
        return ws.close_code


async def test_the_fake_gateway_checks_shards_as_discord_does(fake: FakeDiscord) -> None:
    assert await identify(fake, [2, 2]) == 4010
    assert await identify(fake, [0, 0]) == 4010
    assert await identify(fake, [-1, 2]) == 4010
    assert await identify(fake, ["0", "2"]) == 4010
    assert await identify(fake, [0]) == 4010
    assert await identify(fake, None) is None  # no shard: [0, 1]
    fake.require_shards = 2
    assert await identify(fake, [0, 1]) == 4011
    assert await identify(fake, [1, 2]) is None
