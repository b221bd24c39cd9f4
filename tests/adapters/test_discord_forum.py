"""Discord forum channels and announcement channels: the real discord.py against the fake
Discord, through the real core (SQLite storage, outbox, commands). A forum takes one post
per headline, tagged with its regions; an announcement channel's messages are published
(crossposted) in the background."""

from __future__ import annotations

import asyncio
import logging

import discord
import pytest

from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from bot.config import DestinationConfig
from bot.models import ChatRef
from bot.outbox.sender import Outbox
from bot.store import Storage
from testing.fake_discord import (
    ANNOUNCEMENT_ID,
    BOT_ID,
    CHANNEL_IDS,
    FORUM_ID,
    GUILD_ID,
    MANAGE_CHANNELS,
    TOKEN,
    FakeDiscord,
)
from tests.adapters import test_discord as discord_tests
from tests.adapters.test_discord import Start, headline, seed, statuses

# The fixtures of test_discord.py: the fake Discord, and adapters started against it.
fake = discord_tests.fake
start_adapter = discord_tests.start_adapter

NEWS = CHANNEL_IDS[0]
POST_ID = "3300"  # a post (thread) someone made in the forum, where /subscribe is sent
REGION_TAGS_EN = "Africa, Latin America, Middle East, North America, Oceania, World"


def allow_manage_channels(fake: FakeDiscord, channel_id: str) -> None:
    fake.channels[channel_id].overwrites.append(
        {"id": BOT_ID, "type": 1, "allow": str(MANAGE_CHANNELS), "deny": "0"}
    )


async def test_a_headline_of_asia_and_europe_becomes_one_forum_post_with_both_tags(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    fake.forum(FORUM_ID, ["Asia", "Europa", "Off-topic"])  # one named in Spanish
    fake.add_thread(POST_ID, parent_id=FORUM_ID)
    adapter = await start_adapter()

    reply = (await fake.command("subscribe", {}, channel_id=POST_ID)).reply
    # Sent in a post, it subscribes the forum; without Manage Channels the bot uses the
    # tags there are and names those missing.
    assert "Subscribed" in reply["content"] and reply["flags"] == 64
    assert f"these tags are missing: {REGION_TAGS_EN}." in reply["content"]
    assert await storage.destination(ChatRef("discord", POST_ID)) is None
    forum = await storage.destination(ChatRef("discord", FORUM_ID))
    assert forum is not None and forum.chat.kind == "forum"

    item = headline(
        "Japan and Germany sign a trade pact",
        ("Asia", "Europe"),
        summary="@everyone look",
        image="https://cdn.example/pact.jpg",
    )
    await seed(storage, item, headline("Brazil: a vote", ("Latin America",), n=1))
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 2
    first, second = fake.forum_posts
    assert first.name == "Japan and Germany sign a trade pact"
    assert fake.tag_names(FORUM_ID, first.applied_tags) == ["Asia", "Europa"]
    [embed] = first.embeds
    assert embed["url"] == item.link and embed["image"] == {"url": "https://cdn.example/pact.jpg"}
    assert first.message.payload["allowed_mentions"] == {"parse": []}
    assert second.applied_tags == []  # no tag for Latin America, and none required
    assert ("PATCH", f"/channels/{FORUM_ID}") not in fake.requests
    assert ("POST", f"/channels/{FORUM_ID}/messages") not in fake.requests  # posts only
    assert await statuses(storage, FORUM_ID) == ["sent", "sent"]


async def test_missing_region_tags_are_created_in_the_forum_language_when_allowed(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    fake.forum(FORUM_ID, ["Off-topic", "asia"])
    allow_manage_channels(fake, FORUM_ID)
    adapter = await start_adapter()

    reply = (
        await fake.command("subscribe", {"channel": FORUM_ID}, channel_id=NEWS, locale="es-ES")
    ).reply
    assert "Suscrito" in reply["content"] and "faltan" not in reply["content"]
    names = [t["name"] for t in fake.channels[FORUM_ID].available_tags]
    assert names == [
        "Off-topic",
        "asia",  # kept, and used for Asia
        "África",
        "Europa",
        "América Latina",
        "Oriente Medio",
        "Norteamérica",
        "Oceanía",
        "Mundo",
    ]
    # Nothing is missing any more: a second /subscribe changes no tag.
    await fake.command("subscribe", {"channel": FORUM_ID}, channel_id=NEWS, locale="es-ES")
    assert fake.requests.count(("PATCH", f"/channels/{FORUM_ID}")) == 1

    await seed(storage, headline("Summit ends", ()), headline("Seoul", ("Asia",), n=1))
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 2
    tagged = [fake.tag_names(FORUM_ID, p.applied_tags) for p in fake.forum_posts]
    assert tagged == [["Mundo"], ["asia"]]


async def test_a_forum_with_little_room_gets_what_fits_and_the_rest_is_named(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    fake.forum(FORUM_ID, [f"topic {i}" for i in range(15)])
    allow_manage_channels(fake, FORUM_ID)
    await start_adapter()
    reply = (await fake.command("subscribe", {"channel": FORUM_ID}, channel_id=NEWS)).reply
    assert len(fake.channels[FORUM_ID].available_tags) == 20  # Discord's most
    assert (
        "these tags are missing: North America, Oceania, World. A forum holds at most 20"
        in (reply["content"])
    )


async def test_a_forum_that_requires_a_tag(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    fake.forum(FORUM_ID, ["Sports"], require_tag=True)
    adapter = await start_adapter()
    # No tag the bot could use, and it may not create any: refused, not subscribed.
    refused = (await fake.command("subscribe", {"channel": FORUM_ID}, channel_id=NEWS)).reply
    assert refused["flags"] == 64
    assert (
        "it requires a tag on every post, and none of its tags names a region"
        in (refused["content"])
    )
    assert await storage.destination(ChatRef("discord", FORUM_ID)) is None

    # Listed in the config with a World tag and an Asia one: a headline of a region with
    # no tag goes under World; Discord's own refusal of an untagged post is never met.
    fake.forum(FORUM_ID, ["Asia", "World"], require_tag=True)
    await fake.deny(FORUM_ID, 0)  # CHANNEL_UPDATE: discord.py learns the new tags
    await storage.sync_destinations("discord", [DestinationConfig(FORUM_ID)])
    await seed(storage, headline("Seoul", ("Asia",)), headline("Paris", ("Europe",), n=1))
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 2
    tagged = [fake.tag_names(FORUM_ID, p.applied_tags) for p in fake.forum_posts]
    assert tagged == [["Asia"], ["World"]]

    # Without even a World tag, that headline fails, plainly, and the forum goes on.
    fake.forum(FORUM_ID, ["Asia"], require_tag=True)
    await fake.deny(FORUM_ID, 0)
    await seed(storage, headline("Tokyo", ("Asia",), n=2), headline("Rome", ("Europe",), n=3))
    await Outbox(storage, {"discord": adapter}).deliver_due()
    assert [p.name for p in fake.forum_posts] == ["Seoul", "Paris", "Tokyo"]
    assert await statuses(storage, FORUM_ID) == ["sent", "sent", "sent", "failed"]
    destination = await storage.destination(ChatRef("discord", FORUM_ID))
    assert destination is not None and destination.active


async def test_the_fake_forum_refuses_as_discord_does(
    fake: FakeDiscord, start_adapter: Start
) -> None:
    fake.forum(FORUM_ID, [f"t{i}" for i in range(6)], require_tag=True)
    adapter = await start_adapter()
    assert adapter.client is not None
    forum = adapter.client.get_channel(int(FORUM_ID))
    assert isinstance(forum, discord.ForumChannel) and forum.flags.require_tag
    with pytest.raises(discord.HTTPException) as untagged:
        await forum.create_thread(name="x", content="y")
    assert untagged.value.code == 40067
    with pytest.raises(discord.HTTPException) as too_many:
        await forum.create_thread(name="x", content="y", applied_tags=forum.available_tags)
    assert too_many.value.code == 50035 and "applied_tags" in too_many.value.text
    with pytest.raises(discord.Forbidden) as forbidden:
        await forum.create_tag(name="Asia")
    assert forbidden.value.code == 50013


async def test_forum_posts_keep_to_discord_thread_creation_limit(storage: Storage) -> None:
    async with FakeDiscord(enforce_limits=True, channel_window=1.0) as fake:
        fake.forum(FORUM_ID, ["Asia"])
        config = DiscordConfig(token=TOKEN, api_base_url=fake.url, guild_id=GUILD_ID)
        adapter = DiscordAdapter(config, guild_ready_timeout=0.05)
        await adapter.start(lambda command: asyncio.sleep(0))  # type: ignore[arg-type,return-value]
        try:
            await storage.sync_destinations("discord", [DestinationConfig(FORUM_ID)])
            await seed(storage, *(headline(f"Story {i}", n=i) for i in range(8)))
            assert await Outbox(storage, {"discord": adapter}).deliver_due() == 8
        finally:
            await adapter.stop()
    assert [p.name for p in fake.forum_posts] == [f"Story {i}" for i in range(8)]
    assert fake.rate_limited == 0  # discord.py waited on the bucket Discord reported


async def test_announcement_messages_are_crossposted_in_the_background(
    storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    async with FakeDiscord(crosspost_limit=2) as fake:
        config = DiscordConfig(
            token=TOKEN,
            api_base_url=fake.url,
            guild_id=GUILD_ID,
            crosspost=frozenset({ANNOUNCEMENT_ID, NEWS}),  # NEWS is no announcement channel
        )
        adapter = DiscordAdapter(config, guild_ready_timeout=0.05)
        await adapter.start(lambda command: asyncio.sleep(0))  # type: ignore[arg-type,return-value]
        try:
            await storage.sync_destinations(
                "discord", [DestinationConfig(ANNOUNCEMENT_ID), DestinationConfig(NEWS)]
            )
            # Summaries long enough that each headline is a message of its own.
            await seed(storage, *(headline(f"S{i}", n=i, summary="z" * 3500) for i in range(3)))
            # All three are delivered although Discord allows only two crossposts an hour
            # here: the third waits in the background, never on the send path.
            assert await Outbox(storage, {"discord": adapter}).deliver_due() == 6
            assert await statuses(storage, ANNOUNCEMENT_ID) == ["sent"] * 3
            posted = [m.id for m in fake.posted_to(ANNOUNCEMENT_ID)]
            await fake.wait_for_crossposts(2)
            assert fake.crossposted == [(ANNOUNCEMENT_ID, posted[0]), (ANNOUNCEMENT_ID, posted[1])]
            assert adapter.crossposts.pending == 1
        finally:
            with caplog.at_level(logging.WARNING, logger="adapters.discord.crosspost"):
                await adapter.stop()
    assert "1 crosspost(s) not made before the stop are dropped" in caplog.text
    assert all(channel == ANNOUNCEMENT_ID for channel, _ in fake.crossposted)  # not NEWS
    assert f"channel {NEWS} has crosspost = true but is not an announcement" in caplog.text
