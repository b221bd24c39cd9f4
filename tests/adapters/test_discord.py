"""The Discord adapter: the real discord.py over HTTP and a websocket to a fake Discord on
127.0.0.1, driven through the real core (SQLite storage, outbox, commands)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import discord
import pytest

from adapters import section_parsers
from adapters.discord.adapter import DiscordAdapter
from adapters.discord.config import DiscordConfig
from adapters.discord.http import RequestPacer, counts_against_global_limit
from adapters.discord.limits import CONTENT_CHARS, MESSAGE_EMBED_CHARS
from adapters.discord.render import headline_embed, pack_embeds, render_reply
from bot.app import HeadlinesBot
from bot.chat.commands import Commands
from bot.chat.i18n import tr
from bot.config import DestinationConfig, parse_config
from bot.models import ChatRef, Command, Reply
from bot.outbox.sender import Outbox
from bot.ports import (
    CannotStart,
    ContentRejected,
    DestinationGone,
    RetryAfter,
    TemporaryFailure,
)
from bot.store import Storage
from testing.fake_discord import (
    APP_ID,
    ARCHIVED_THREAD_ID,
    CATEGORY_ID,
    CHANNEL_IDS,
    EMBED_LINKS,
    GUILD_ID,
    MEMBER_PERMISSIONS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    THREAD_ID,
    TOKEN,
    VIEW_CHANNEL,
    VOICE_ID,
    FakeDiscord,
)
from testing.feedserver import FeedEntry, FeedServer, make_rss, sample_entries
from tests.adapters import NOW, headline, seed

NEWS, SPORTS, OTHER = CHANNEL_IDS
NO_MENTIONS = {"parse": []}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


Start = Callable[..., Awaitable[DiscordAdapter]]


@pytest.fixture
async def start_adapter(fake: FakeDiscord, storage: Storage) -> AsyncIterator[Start]:
    """Starts adapters answering commands with the core's `Commands` on `storage`."""
    started: list[DiscordAdapter] = []

    async def start(
        on_command: object = None, *, crosspost: frozenset[str] = frozenset(), **options: float
    ) -> DiscordAdapter:
        config = DiscordConfig(
            token=TOKEN, api_base_url=fake.url, guild_id=GUILD_ID, crosspost=crosspost
        )
        adapter = DiscordAdapter(config, guild_ready_timeout=0.05, **options)
        await adapter.start(on_command or Commands(storage, ("World",)).handle)
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


async def never(command: Command) -> Reply:
    raise AssertionError("no command can arrive")


async def statuses(storage: Storage, chat_id: str) -> list[str]:
    destination = await storage.destination(ChatRef("discord", chat_id))
    assert destination is not None
    return [status for _, status, _ in await storage.deliveries_for(destination)]


# -- formatting ------------------------------------------------------------------------


def test_a_headline_embed_has_link_summary_time_source_regions_and_colour() -> None:
    item = headline("Kenya: *finance* bill", ("Africa", "Europe"), summary="MPs_debate it")
    embed = headline_embed(item, "es").to_dict()
    assert embed["title"] == r"Kenya: \*finance\* bill"  # markdown shows as written
    assert embed["url"] == item.link
    assert embed["description"] == r"MPs\_debate it"
    assert datetime.fromisoformat(embed["timestamp"]) == item.published
    assert embed["footer"]["text"] == "Fuente: World · África, Europa"
    assert embed["color"] == 0xE67E22  # Africa's


def test_long_fields_are_cut_to_discord_limits() -> None:
    item = headline("_" * 400, summary="word " * 2000, link="ftp://not.a/web/link")
    embed = headline_embed(item, "en")
    assert len(embed.description or "") <= 4096
    # Escaping doubles each "_": 127 of them, escaped, and the ellipsis fill 255 of 256.
    assert embed.title == "\\_" * 127 + "…"
    assert embed.url is None  # Discord refuses a non-web URL


def test_a_headline_without_a_region_says_world_in_its_footer() -> None:
    assert headline_embed(headline("x", ()), "es").footer.text == "Fuente: World · Mundo"


@pytest.mark.parametrize(
    "link",
    [
        "ftp://not.a/web/link",
        "https://exa mple.com/x",
        "https:///no-host",
        "javascript:x()",
        "http://[::1",
    ],
)
def test_only_a_well_formed_web_link_becomes_the_title_link(link: str) -> None:
    assert headline_embed(headline("x", link=link), "en").url is None
    assert headline_embed(headline("x", link="http://news.example/a?b=c"), "en").url


async def test_what_the_bot_posts_and_answers_keeps_within_discord_limits(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    huge = headline(
        "*" * 400, summary="word " * 2000, link="https://exa mple.com/", feed="F" * 3000
    )
    chat = ChatRef("discord", NEWS)
    assert (await adapter.send(chat, [huge], "en")).count == 1
    long = [headline(f"Story {i}", n=i, summary="z" * 1990) for i in range(12)]
    assert (await adapter.send(chat, long, "en")).count == 2  # 6000 characters at most
    await seed(storage, *(headline("_" * 300, n=i, summary="s" * 500) for i in range(20)))
    latest = await fake.command("latest", {"count": 20})
    assert latest.answers[0]["type"] == 4 and len(latest.reply["embeds"]) == 1
    assert fake.refused_bodies == 0  # the fake checks every limit as Discord does
    assert len(fake.posted_to(NEWS)) == 2


async def test_headlines_before_a_refused_one_still_share_a_message(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await seed(storage, *(headline(f"Story {i}", n=i) for i in range(4)))
    fake.bad_urls.add("https://news.example/story/2")  # Discord's check is not ours

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 4
    posted = [[e.get("title") or e["description"] for e in m.embeds] for m in fake.posted_to(NEWS)]
    assert posted == [
        ["Story 0", "Story 1"],  # what came before the refused embed 2
        ["Story 2\nhttps://news.example/story/2"],  # refused first: then as text
        ["Story 3"],
    ]
    assert await statuses(storage, NEWS) == ["sent"] * 4


async def test_a_headline_shows_its_picture_large_alone_and_as_a_thumbnail_when_packed(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await storage.subscribe(ChatRef("discord", SPORTS, "channel"), regions=("Europe",))
    pictured = [
        headline(f"Story {i}", ("Asia", "Europe"), n=i, image=f"https://cdn.example/{i}.jpg")
        for i in range(3)
    ]
    await seed(storage, *pictured, headline("Bare", ("Europe",), n=5, image="javascript:x()"))
    fake.bad_urls.add("https://cdn.example/2.jpg")  # Discord refuses it: narrowed down

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 8
    packed = [m.embeds for m in fake.posted_to(NEWS)]
    assert [[e.get("thumbnail", {}).get("url") for e in m] for m in packed] == [
        ["https://cdn.example/0.jpg", "https://cdn.example/1.jpg"],  # before the refused one
        [None],  # refused for its picture: then as text, still delivered
        [None],  # a picture that is no web address is left out
    ]
    alone = headline_embed(pictured[0], "en").to_dict()
    assert alone["image"] == {"url": "https://cdn.example/0.jpg"} and "thumbnail" not in alone
    single = pack_embeds(pictured[:1], "en")[0].to_dict()
    assert single["image"]["url"] == "https://cdn.example/0.jpg"
    assert all("image" not in e for m in packed for e in m)
    assert await statuses(storage, NEWS) == ["sent"] * 4
    assert await statuses(storage, SPORTS) == ["sent"] * 4


def test_packing_keeps_ten_embeds_and_six_thousand_characters() -> None:
    short = [headline(f"Story {i}", n=i) for i in range(12)]
    assert len(pack_embeds(short, "en")) == 10
    long = [headline(f"Story {i}", n=i, summary="x" * 1500) for i in range(6)]
    packed = pack_embeds(long, "en")
    assert len(packed) == 3 and sum(len(e) for e in packed) <= MESSAGE_EMBED_CHARS
    assert len(pack_embeds([headline("y", summary="z" * 9000)], "en")) == 1


def test_a_reply_renders_as_text_or_as_one_list_embed() -> None:
    content, embeds = render_reply(Reply(text="Use *this*"))
    assert content == r"Use \*this\*" and embeds == []
    assert len(render_reply(Reply(text="y" * 5000))[0] or "") == CONTENT_CHARS
    items = (headline("A [big] story", ("Europe",)), headline("B", (), link="not a url"))
    content, [embed] = render_reply(Reply(title="Latest", headlines=items))
    assert content is None and embed.title == "Latest"
    first, second = (embed.description or "").splitlines()
    assert first.startswith(r"• [A \[big\] story](https://news.example/story/0) · Europe · <t:")
    assert second.startswith("• B · World · <t:")


def test_the_pacer_spaces_requests_without_drift_or_catch_up_bursts() -> None:
    pacer = RequestPacer(50)
    assert [pacer.reserve(0.0) for _ in range(3)] == pytest.approx([0.0, 0.02, 0.04])
    assert pacer.reserve(0.045) == pytest.approx(0.06)  # woke late: the schedule holds
    # After a stall, one leaves at once and the next keep their spacing.
    assert [pacer.reserve(5.0), pacer.reserve(5.0)] == pytest.approx([5.0, 5.02])


def test_only_rest_calls_count_against_the_global_limit() -> None:
    base = discord.http.Route.BASE
    assert counts_against_global_limit(f"{base}/channels/1/messages")
    assert not counts_against_global_limit(f"{base}/interactions/1/token/callback")
    assert not counts_against_global_limit(f"{base}/webhooks/1/token")
    assert not counts_against_global_limit("wss://gateway.discord.gg/?v=10")


# -- starting --------------------------------------------------------------------------


async def test_start_returns_once_ready_and_registers_the_commands(
    fake: FakeDiscord, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    adapter = await start_adapter()
    assert fake.identifies == 1 and adapter.client is not None and adapter.client.is_ready()
    assert fake.gateway_asked == 1  # found through the REST base, not the real gateway
    for scope in ("global", GUILD_ID):
        commands = {c["name"]: c for c in fake.synced[scope]}
        assert set(commands) == {
            *("latest", "region", "subscribe", "unsubscribe", "help", "digest", "filter"),
            "search",
            *("status", "enable", "release"),  # the operator's, refused but in alert chats
        }
    commands = {c["name"]: c for c in fake.synced["global"]}
    # Free text (/search's words, /filter's terms) is a string option without completion.
    words, region = commands["search"]["options"]
    assert (words["name"], words["type"], words["required"]) == ("words", 3, True)
    assert not words.get("autocomplete") and region["autocomplete"]
    assert words["name_localizations"]["es-ES"] == "palabras"
    [terms] = commands["filter"]["options"]
    assert (terms["type"], terms.get("required", False)) == (3, False)
    assert int(commands["filter"]["default_member_permissions"]) == 16
    assert commands["filter"]["contexts"] == [0] and 1 in commands["search"]["contexts"]
    assert int(commands["subscribe"]["default_member_permissions"]) == 16  # Manage Channels
    assert int(commands["release"]["default_member_permissions"]) == 16
    assert commands["release"]["options"][0]["type"] == 3 and commands["release"]["contexts"] == [0]
    assert 1 in commands["latest"]["contexts"] and 1 in commands["region"]["contexts"]  # DMs
    assert commands["subscribe"]["contexts"] == [0]  # servers only
    latest = commands["latest"]
    assert latest["description_localizations"]["es-ES"].startswith("Los titulares más recientes")
    assert (
        latest["description_localizations"]["es-419"]
        == (latest["description_localizations"]["es-ES"])
    )
    options = {o["name"]: o for o in latest["options"]}
    assert options["count"]["name_localizations"] == {"es-ES": "cantidad", "es-419": "cantidad"}
    assert options["region"]["description_localizations"]["es-ES"] == "Una región del mundo"
    assert latest.get("name_localizations") in (None, {})  # /latest stays /latest, as /help says
    assert adapter.invite_url == (
        "https://discord.com/oauth2/authorize?client_id="
        + APP_ID
        + "&scope=bot+applications.commands&permissions=19456"
    )
    assert adapter.invite_url in caplog.text
    assert TOKEN not in caplog.text


async def test_a_wrong_token_fails_start_for_good_without_quoting_it(
    fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "MTA-wrong-token.Gx7Yq"
    adapter = DiscordAdapter(DiscordConfig(token=wrong, api_base_url=fake.url))
    with pytest.raises(CannotStart, match="refused the bot token") as raised:
        await adapter.start(never)
    assert wrong not in str(raised.value) and wrong not in caplog.text
    assert "sending paused" not in caplog.text  # a wrong token at login is start's error
    assert fake.identifies == 0 and adapter.client is None
    with pytest.raises(TemporaryFailure):
        await adapter.send(ChatRef("discord", NEWS), [headline("x")], "en")


async def test_privileged_intents_refused_fail_start_for_good(fake: FakeDiscord) -> None:
    fake.refuse_identify = 4014
    adapter = DiscordAdapter(DiscordConfig(token=TOKEN, api_base_url=fake.url))
    with pytest.raises(CannotStart, match="privileged intents"):
        await adapter.start(never)
    assert adapter.client is None


async def test_a_start_that_failed_for_now_can_be_tried_again(
    fake: FakeDiscord, start_adapter: Start
) -> None:
    fake.fail_request("GET", "/users/@me", 503, 0, "Service Unavailable")
    with pytest.raises(discord.DiscordServerError):
        await start_adapter()
    adapter = await start_adapter()
    assert adapter.client is not None and adapter.client.is_ready() and fake.identifies == 1
    assert (await adapter.send(ChatRef("discord", NEWS), [headline("x")], "en")).count == 1


async def test_a_gateway_loop_that_dies_is_started_again(
    fake: FakeDiscord, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    await start_adapter(reconnect_delay=0.01)
    await fake.send_garbage()
    await fake.wait_for_identifies(2)
    assert "the gateway connection failed; a new one in" in caplog.text
    assert "/latest" in (await fake.command("help", {})).reply["content"]


async def test_a_gateway_refusal_after_start_is_logged_and_not_retried(
    fake: FakeDiscord, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    adapter = await start_adapter(reconnect_delay=0.01)
    await fake.close_gateway(4004)
    assert adapter._gateway is not None
    with pytest.raises(CannotStart):
        await asyncio.wait_for(asyncio.shield(adapter._gateway), 5)  # it ends, for good
    assert "refused the bot token at the gateway" in caplog.text and "4004" in caplog.text
    with pytest.raises(TemporaryFailure, match="4004"):
        await adapter.send(ChatRef("discord", NEWS), [headline("x")], "en")
    await asyncio.sleep(0.05)  # longer than the reconnect delay: nothing reconnects
    assert fake.identifies == 1


async def test_an_explicit_gateway_url_is_used_as_is(fake: FakeDiscord, storage: Storage) -> None:
    config = DiscordConfig(token=TOKEN, api_base_url=fake.url, gateway_url=fake.ws_url)
    adapter = DiscordAdapter(config, guild_ready_timeout=0.05)
    await adapter.start(Commands(storage).handle)
    await adapter.stop()
    assert fake.identifies == 1 and fake.gateway_asked == 0
    assert "global" in fake.synced and GUILD_ID not in fake.synced  # no guild configured


# -- slash commands --------------------------------------------------------------------


async def test_latest_with_count_and_region_answers_in_the_channel(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await seed(
        storage,
        headline("Old in Europe", ("Europe",), n=1),
        headline("In Asia", ("Asia",), n=2),
        headline("New in Europe", ("Europe",), n=3),
        headline("Newest in Europe", ("Europe",), n=4),
    )
    answer = await fake.command("latest", {"count": 2, "region": "europa"}, locale="es-ES")
    assert answer.answers[0]["type"] == 4  # answered at once, not deferred
    reply = answer.reply
    assert not reply.get("flags") and reply["allowed_mentions"] == NO_MENTIONS
    [embed] = reply["embeds"]
    assert embed["title"] == "Últimos titulares: Europa"
    lines = embed["description"].splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("• [Newest in Europe](https://news.example/story/4)")
    assert lines[1].startswith("• [New in Europe](")


async def test_a_bad_argument_gets_a_private_hint_and_the_bot_keeps_going(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await seed(storage, headline("In Asia", ("Asia",)))
    wrong = (await fake.command("latest", {"region": "Eurpoe"})).reply
    assert wrong["flags"] == 64  # ephemeral: only the sender sees it
    assert "Unknown region 'Eurpoe'. Did you mean Europe?" in wrong["content"]
    right = (await fake.command("latest", {})).reply
    assert "In Asia" in right["embeds"][0]["description"]


async def test_region_in_a_dm_and_its_autocomplete(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await seed(storage, headline("Sydney story", ("Oceania",)))

    typed = await fake.interact("region", {"name": "lat"}, focused="name")
    await asyncio.wait_for(typed.answered.wait(), 5)
    assert typed.choices == [{"name": "Latin America", "value": "Latin America"}]
    spanish = await fake.interact("region", {"name": "orie"}, focused="name", locale="es-419")
    await asyncio.wait_for(spanish.answered.wait(), 5)
    assert spanish.choices == [{"name": "Oriente Medio", "value": "Middle East"}]
    empty = await fake.interact("latest", {"region": ""}, focused="region")
    await asyncio.wait_for(empty.answered.wait(), 5)
    assert len(empty.choices) == 7
    # /latest takes one region: no lists offered (only /subscribe completes those).
    listed = await fake.interact("latest", {"region": "Asia, eu"}, focused="region")
    await asyncio.wait_for(listed.answered.wait(), 5)
    assert listed.choices == []

    answer = await fake.command("region", {"name": "Oceanía"}, dm=True)
    assert not answer.reply.get("flags")
    assert "Sydney story" in answer.reply["embeds"][0]["description"]
    counts = (await fake.command("region", {}, dm=True)).reply["embeds"][0]
    assert counts["title"] == "Headlines per region, last 7 days"
    assert "Oceania: 1" in counts["description"]


async def test_subscribe_needs_manage_channels(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    member = await fake.command(
        "subscribe", {"region": "Asia"}, permissions=MEMBER_PERMISSIONS, channel_id=NEWS
    )
    assert member.reply["flags"] == 64
    assert "only members with the Manage Channels permission" in member.reply["content"]
    assert await storage.destination(ChatRef("discord", NEWS)) is None

    admin = await fake.command("subscribe", {"region": "Asia, Europa"}, channel_id=NEWS)
    assert admin.reply["flags"] == 64  # confirmations are private too
    assert "Asia, Europe" in admin.reply["content"]
    destination = await storage.destination(ChatRef("discord", NEWS))
    assert destination is not None and destination.regions == ("Asia", "Europe")
    assert destination.chat.kind == "channel" and destination.chat.title == "Newsroom #news-1"

    completed = await fake.interact("subscribe", {"region": "Asia, eu"}, focused="region")
    await asyncio.wait_for(completed.answered.wait(), 5)
    assert completed.choices == [{"name": "Asia, Europe", "value": "Asia, Europe"}]


async def test_subscribe_another_channel_checks_permissions_there(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    refused = await fake.command(
        "subscribe", {"channel": SPORTS}, channel_id=NEWS, channel_permissions=MEMBER_PERMISSIONS
    )
    assert "Manage Channels" in refused.reply["content"]
    await fake.command("subscribe", {"channel": SPORTS}, channel_id=NEWS)
    assert await storage.destination(ChatRef("discord", NEWS)) is None
    destination = await storage.destination(ChatRef("discord", SPORTS))
    assert destination is not None and destination.active and destination.regions == ()

    gone = await fake.command("unsubscribe", {"channel": SPORTS}, channel_id=NEWS)
    assert gone.reply["flags"] == 64 and "Unsubscribed" in gone.reply["content"]
    destination = await storage.destination(ChatRef("discord", SPORTS))
    assert destination is not None and not destination.active


async def test_subscribe_refuses_a_channel_the_bot_cannot_post_in(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await fake.deny(NEWS, EMBED_LINKS)
    here = (await fake.command("subscribe", {}, channel_id=NEWS)).reply
    assert here["flags"] == 64
    assert here["content"].startswith(f"I can't post in <#{NEWS}>: I need these permissions")
    assert "there: Embed Links. Ask a server admin to grant them" in here["content"]
    voice = (await fake.command("subscribe", {}, channel_id=VOICE_ID, locale="es-ES")).reply
    assert voice["flags"] == 64
    assert voice["content"].startswith(f"No puedo publicar en <#{VOICE_ID}>: elige un canal")

    await fake.deny(SPORTS, SEND_MESSAGES)
    there = (await fake.command("subscribe", {"channel": SPORTS}, channel_id=OTHER)).reply
    assert "I need these permissions there: Send Messages, Embed Links." in there["content"]
    # Discord offers only the option's channel types, but the check does not rely on it.
    category = (await fake.command("subscribe", {"channel": CATEGORY_ID}, channel_id=OTHER)).reply
    assert "choose a text, announcement or forum channel, or a thread" in category["content"]
    for channel in (NEWS, VOICE_ID, SPORTS, CATEGORY_ID):
        assert await storage.destination(ChatRef("discord", channel)) is None


async def test_subscribe_in_a_thread_needs_send_messages_in_threads(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    fake.add_thread("3200", parent_id=SPORTS)  # not in discord.py's cache: it asks
    new = await fake.command("subscribe", {"channel": "3200"}, channel_id=OTHER)
    assert "Subscribed" in new.reply["content"] and ("GET", "/channels/3200") in fake.requests
    assert await storage.destination(ChatRef("discord", "3200")) is not None

    await fake.deny(THREAD_ID, SEND_MESSAGES_IN_THREADS)
    refused = (await fake.command("subscribe", {}, channel_id=THREAD_ID)).reply
    assert "I need these permissions there: Send Messages in Threads." in refused["content"]
    assert await storage.destination(ChatRef("discord", THREAD_ID)) is None


async def test_help_lists_the_commands(fake: FakeDiscord, start_adapter: Start) -> None:
    await start_adapter()
    reply = (await fake.command("help", {}, locale="es-ES")).reply
    assert "/subscribe [regiones]" in reply["content"] and "World" in reply["content"]


async def test_a_maximal_hostile_option_is_refused(fake: FakeDiscord, start_adapter: Start) -> None:
    await start_adapter()
    hostile = " ".join(["x"] * 3000)[:6000]  # Discord's most for a command's options
    reply = (await fake.command("latest", {"count": 3, "region": hostile})).reply
    assert reply["content"].startswith(
        discord.utils.escape_markdown("That is too long for /latest: 6001 characters")
    )
    assert reply["flags"] == 64
    assert (await fake.command("help", {})).reply["content"].startswith("I post new headlines")


async def test_a_failing_command_is_logged_answered_and_the_bot_keeps_running(
    fake: FakeDiscord, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Command] = []

    async def flaky(command: Command) -> Reply:
        calls.append(command)
        if len(calls) == 1:
            raise RuntimeError("database on fire")
        return Reply(text="fine")

    await start_adapter(flaky)
    broken = (await fake.command("help", {}, locale="es-ES")).reply
    assert broken["content"] == discord.utils.escape_markdown(tr("es", "internal_error"))
    assert broken["flags"] == 64
    assert "database on fire" in caplog.text
    assert (await fake.command("help", {})).reply["content"] == "fine"


async def test_a_slow_command_is_acknowledged_then_answered(
    fake: FakeDiscord, start_adapter: Start
) -> None:
    async def slow(command: Command) -> Reply:
        await asyncio.sleep(0.05)
        return Reply(text="Subscribed", private=True)

    await start_adapter(slow, reply_deadline=0.01)
    answer = await fake.command("subscribe", {})
    defer, followup = answer.answers
    assert defer == {"type": 5, "data": {"flags": 64}}  # "thinking", only for the sender
    assert followup["content"] == "Subscribed" and followup["allowed_mentions"] == NO_MENTIONS


async def test_debug_logs_carry_no_interaction_or_bot_token(
    fake: FakeDiscord, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "-".join(("secret", "in", "an", "error"))  # not in the traceback's source line

    async def slow(command: Command) -> Reply:
        await asyncio.sleep(0.05)
        raise RuntimeError(f"failed at /webhooks/{APP_ID}/{secret}")

    caplog.set_level(logging.DEBUG)
    await start_adapter(slow, reply_deadline=0.01)
    answer = await fake.command("latest", {})  # deferred, then followed up by webhook
    assert {"delete": "@original"} in answer.answers  # the private apology after a defer
    assert f"/interactions/{answer.id}/[token]/callback" in caplog.text
    assert f"/webhooks/{APP_ID}/[token]" in caplog.text and "'token': '[token]'" in caplog.text
    assert answer.token not in caplog.text and secret not in caplog.text
    assert TOKEN not in caplog.text


async def test_a_slow_public_command_keeps_its_errors_private(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    async def slow(command: Command) -> Reply:
        await asyncio.sleep(0.05)
        return await Commands(storage).handle(command)

    await start_adapter(slow, reply_deadline=0.01)
    await seed(storage, headline("In Asia", ("Asia",)))
    wrong = await fake.command("latest", {"region": "Atlantis"})
    assert wrong.answers[0]["type"] == 5  # "thinking...", visible to all: it may succeed
    assert {"delete": "@original"} in wrong.answers
    assert wrong.reply["flags"] == 64 and "Unknown region 'Atlantis'" in wrong.reply["content"]
    right = await fake.command("latest", {})
    assert not right.reply.get("flags") and "In Asia" in right.reply["embeds"][0]["description"]
    assert {"delete": "@original"} not in right.answers


async def test_the_reply_deadline_counts_from_when_discord_created_the_interaction(
    fake: FakeDiscord, start_adapter: Start
) -> None:
    async def quick(command: Command) -> Reply:
        await asyncio.sleep(0.05)
        return Reply(text="done")

    await start_adapter(quick)  # defers what is not answered 2 s after its creation
    late = await fake.command("help", {}, age=2.3)  # delivered late by the gateway
    assert [a.get("type") for a in late.answers] == [5, None]  # deferred, then followed up
    assert late.reply["content"] == "done"
    fresh = await fake.command("help", {})
    assert fresh.answers[0]["type"] == 4


# -- delivering headlines through the core --------------------------------------------


async def test_a_new_headline_is_exactly_one_message_that_pings_nobody(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await storage.sync_destinations(
        "discord",
        [DestinationConfig(SPORTS, language="es"), DestinationConfig(OTHER, regions=("Europe",))],
    )
    item = headline("@everyone look", ("Asia",), summary="<@&123> and @here too")
    await seed(storage, item)

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 2
    assert sorted(m.channel_id for m in fake.messages) == [NEWS, SPORTS]
    for message in fake.messages:
        assert message.payload["allowed_mentions"] == NO_MENTIONS
        assert "content" not in message.payload or not message.payload["content"]
        [embed] = message.embeds
        assert embed["title"] == "@everyone look" and embed["url"] == item.link
        assert embed["description"] == "<@&123> and @here too"
        assert datetime.fromisoformat(embed["timestamp"]) == item.published
        source = "Fuente" if message.channel_id == SPORTS else "Source"
        assert embed["footer"]["text"] == f"{source}: World · Asia"
        assert embed["color"] == 0xE74C3C
    assert await statuses(storage, NEWS) == ["sent"]
    destination = await storage.destination(ChatRef("discord", NEWS))
    assert destination is not None
    [(_, _, message_id)] = await storage.deliveries_for(destination)
    assert message_id == fake.posted_to(NEWS)[0].id
    # Delivered means marked sent: a second pass sends nothing.
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 0
    assert len(fake.messages) == 2


async def test_several_headlines_share_messages_oldest_first(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await storage.subscribe(ChatRef("discord", SPORTS, "channel"))
    await seed(storage, *(headline(f"Story {i}", n=i, summary="y" * 1400) for i in range(8)))

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 16
    for channel in (NEWS, SPORTS):
        messages = fake.posted_to(channel)
        titles = [e["title"] for m in messages for e in m.embeds]
        assert titles == [f"Story {i}" for i in range(8)]
        assert [len(m.embeds) for m in messages] == [4, 4]  # 6000 characters at most
        assert await statuses(storage, channel) == ["sent"] * 8


async def test_a_feed_entry_reaches_discord_through_the_whole_bot(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    async with FeedServer() as feeds:
        old = sample_entries(3, start=NOW - timedelta(hours=2))
        feeds.set_feed("/news", make_rss(old))
        config = parse_config(
            {
                "database": str(tmp_path / "bot.db"),
                "feeds": [{"name": "World", "url": feeds.url("/news")}],
                "discord": {
                    "token": TOKEN,
                    "api_base_url": fake.url,
                    "destinations": [{"channel": NEWS}],
                },
            },
            platforms=section_parsers(),
        )
        section = config.platforms["discord"]
        assert isinstance(section, DiscordConfig)
        bot = HeadlinesBot(config, [DiscordAdapter(section, guild_ready_timeout=0.05)])
        await bot.open()
        await bot.connect()
        try:
            await bot.poll_all()  # the first poll only records what is there
            fresh = FeedEntry(
                "Pakistan: nationwide protests against rising cost of electricity",
                link="https://news.example/new",
                guid="new-1",
                summary="<p>Thousands marched &amp; shops closed.</p>",
                published=NOW,
            )
            feeds.set_feed("/news", make_rss([fresh, *old]))
            await bot.poll_all()
            assert await bot.outbox.deliver_due() == 1
        finally:
            await bot.stop()
    [message] = fake.messages
    [embed] = message.embeds
    assert message.channel_id == NEWS and message.payload["allowed_mentions"] == NO_MENTIONS
    assert embed["title"] == fresh.title and embed["url"] == "https://news.example/new"
    assert embed["description"] == "Thousands marched & shops closed."
    assert embed["footer"]["text"] == "Source: World · Asia"


@pytest.mark.parametrize(("rate", "limited"), [(25.0, False), (10_000.0, True)])
async def test_the_pacer_keeps_a_fan_out_below_the_global_limit(
    storage: Storage, rate: float, limited: bool
) -> None:
    channels = [str(5000 + i) for i in range(12)]
    # Discord's 50 a second, scaled down to 5 in 0.1 s so the test is quick.
    async with FakeDiscord(
        channels=channels, enforce_limits=True, global_limit=5, global_window=0.1
    ) as fake:
        adapter = DiscordAdapter(
            DiscordConfig(token=TOKEN, api_base_url=fake.url),
            guild_ready_timeout=0.05,
            requests_per_second=rate,
        )
        await adapter.start(Commands(storage).handle)
        try:
            await storage.sync_destinations("discord", [DestinationConfig(c) for c in channels])
            await seed(storage, headline("Everywhere"))
            assert await Outbox(storage, {"discord": adapter}).deliver_due() == 12
        finally:
            await adapter.stop()
    # Unpaced, the fake answers 429 (discord.py waits and retries); paced, never.
    assert (fake.rate_limited > 0) is limited
    assert sorted(m.channel_id for m in fake.messages) == channels


# -- failures --------------------------------------------------------------------------


async def test_a_429_with_via_is_waited_out_and_sent_once(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await seed(storage, headline("Patience"))
    fake.rate_limit(NEWS, 0.05)

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 1
    assert fake.rate_limited == 1
    assert fake.requests.count(("POST", f"/channels/{NEWS}/messages")) == 2
    assert [m.embeds[0]["title"] for m in fake.messages] == ["Patience"]
    assert await statuses(storage, NEWS) == ["sent"]


async def test_a_429_that_persists_or_is_long_becomes_retry_after_for_that_channel(
    fake: FakeDiscord, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    fake.rate_limit(NEWS, 0.01, times=None)  # discord.py tries 5 times, then gives up
    with pytest.raises(RetryAfter):
        await adapter.send(ChatRef("discord", NEWS), [headline("x")], "en")
    assert fake.rate_limited == 5
    fake.rate_limit(SPORTS, 45.0)  # longer than discord.py waits
    with pytest.raises(RetryAfter) as raised:
        await adapter.send(ChatRef("discord", SPORTS), [headline("x")], "en")
    assert raised.value.seconds == 45.0
    assert fake.requests.count(("POST", f"/channels/{SPORTS}/messages")) == 1
    # That channel's bucket, not the bot's: the others still post.
    assert (await adapter.send(ChatRef("discord", OTHER), [headline("y")], "en")).count == 1


@pytest.mark.parametrize(
    ("fail", "seconds"),
    [
        (lambda fake: fake.rate_limit(NEWS, 30.0, via=False), 30.0),  # Cloudflare's ban
        (lambda fake: fake.rate_limit(NEWS, 45.0, is_global=True), 45.0),
        (lambda fake: fake.fail(NEWS, 401, 0, "401: Unauthorized"), 600.0),  # token reset
    ],
    ids=["cloudflare-ban", "long-global-limit", "unauthorized"],
)
async def test_an_answer_about_the_whole_bot_pauses_every_channel(
    fake: FakeDiscord,
    start_adapter: Start,
    caplog: pytest.LogCaptureFixture,
    fail: Callable[[FakeDiscord], None],
    seconds: float,
) -> None:
    adapter = await start_adapter()
    fail(fake)
    with pytest.raises(RetryAfter) as first:
        await adapter.send(ChatRef("discord", NEWS), [headline("x")], "en")
    assert first.value.seconds == pytest.approx(seconds, abs=1)
    with pytest.raises(RetryAfter) as other:
        await adapter.send(ChatRef("discord", SPORTS), [headline("x")], "en")
    assert 0 < other.value.seconds <= seconds
    # Nothing more reached Discord: a retry per channel would only prolong a ban.
    assert fake.requests.count(("POST", f"/channels/{NEWS}/messages")) == 1
    assert fake.requests.count(("POST", f"/channels/{SPORTS}/messages")) == 0
    assert fake.messages == []
    assert "all sending paused" in caplog.text and TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("channel", "status", "code", "text", "denied", "injected"),
    [
        (NEWS, 403, 50013, "Missing Permissions", SEND_MESSAGES, False),
        (NEWS, 403, 50001, "Missing Access", VIEW_CHANNEL, False),
        ("3999", 404, 10003, "Unknown Channel", 0, False),  # deleted: the fake does not know it
        (CATEGORY_ID, 400, 50008, "Cannot send messages in a non-text channel", 0, False),
        (ARCHIVED_THREAD_ID, 400, 50083, "Thread is archived", 0, False),
        (NEWS, 400, 10003, "Unknown Channel", 0, True),  # a 400 about the channel, not the post
    ],
    ids=["no-send", "no-view", "deleted", "category", "archived-thread", "400-unknown-channel"],
)
async def test_a_channel_we_cannot_post_to_is_deactivated_not_retried(
    fake: FakeDiscord,
    storage: Storage,
    start_adapter: Start,
    channel: str,
    status: int,
    code: int,
    text: str,
    denied: int,
    injected: bool,
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", channel, "channel"))
    await storage.subscribe(ChatRef("discord", SPORTS, "channel"))
    if denied:
        await fake.deny(channel, denied)
    if injected:
        fake.fail(channel, status, code, text, times=None)
    await seed(storage, headline("One", n=1), headline("Two", n=2))

    outbox = Outbox(storage, {"discord": adapter})
    assert await outbox.deliver_due() == 2  # the healthy channel still gets both
    destination = await storage.destination(ChatRef("discord", channel))
    assert destination is not None and not destination.active
    assert f"HTTP {status}, code {code}" in destination.inactive_reason
    assert text in destination.inactive_reason
    assert await statuses(storage, channel) == ["failed", "failed"]
    assert await outbox.deliver_due() == 0
    assert fake.requests.count(("POST", f"/channels/{channel}/messages")) == 1
    assert [m.channel_id for m in fake.messages] == [SPORTS]


async def test_refused_content_is_narrowed_down_and_only_that_headline_fails(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await seed(storage, headline("Bad", n=1), headline("Good", n=2))
    fake.fail(NEWS, 400, 50035, "Invalid Form Body", times=3)  # both, first, first as text

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 1
    [message] = fake.messages
    assert message.embeds[0]["title"] == "Good"
    assert await statuses(storage, NEWS) == ["failed", "sent"]

    fake.fail(NEWS, 400, 50035, "Invalid Form Body", times=1)  # only the full embed
    sent = await adapter.send(ChatRef("discord", NEWS), [headline("Odd")], "en")
    plain = fake.messages[-1].embeds[0]
    assert sent.count == 1 and plain["description"] == "Odd\nhttps://news.example/story/0"
    with pytest.raises(ContentRejected):
        fake.fail(NEWS, 400, 50035, "Invalid Form Body", times=2)
        await adapter.send(ChatRef("discord", NEWS), [headline("Odd")], "en")


async def test_a_repeat_after_a_lost_answer_is_dropped_by_discord(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await seed(storage, headline("Once", n=1), headline("Only", n=2))
    fake.lose_answer(NEWS)
    outbox = Outbox(storage, {"discord": adapter}, retry_base=0.0)

    assert await outbox.deliver_due() == 0  # Discord took it, the bot could not know
    assert await statuses(storage, NEWS) == ["pending", "pending"]
    assert await outbox.deliver_due() == 2  # the same message again, the same nonce
    [message] = fake.posted_to(NEWS)
    assert [e["title"] for e in message.embeds] == ["Once", "Only"]
    assert message.payload["enforce_nonce"] is True and len(message.payload["nonce"]) <= 25
    destination = await storage.destination(ChatRef("discord", NEWS))
    assert destination is not None
    assert {m for _, _, m in await storage.deliveries_for(destination)} == {message.id}
    # Another message (here: one headline fewer) has a nonce of its own.
    await adapter.send(ChatRef("discord", NEWS), [headline("Once", n=1)], "en")
    assert len(fake.posted_to(NEWS)) == 2


async def test_a_server_error_postpones_the_delivery(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("discord", NEWS, "channel"))
    await seed(storage, headline("Later"))
    fake.fail(NEWS, 503, 0, "Service Unavailable")

    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 0
    assert await statuses(storage, NEWS) == ["pending"]
    assert fake.messages == []
    with pytest.raises(DestinationGone):
        await adapter.send(ChatRef("discord", "#news"), [headline("x")], "en")


@pytest.mark.parametrize("how", ["reconnect", "drop", "invalid-session"])
async def test_a_gateway_disconnect_mid_delivery_loses_nothing(storage: Storage, how: str) -> None:
    channels = [str(4000 + i) for i in range(20)]
    async with FakeDiscord(channels=channels, response_delay=0.005) as fake:
        config = DiscordConfig(token=TOKEN, api_base_url=fake.url)
        adapter = DiscordAdapter(config, guild_ready_timeout=0.05)
        await adapter.start(Commands(storage).handle)
        try:
            for channel in channels:
                await storage.subscribe(ChatRef("discord", channel, "channel"))
            await seed(storage, headline("First", n=1), headline("Second", n=2))
            delivering = asyncio.create_task(Outbox(storage, {"discord": adapter}).deliver_due())
            await fake.wait_for_messages(5)
            if how == "reconnect":
                await fake.reconnect()  # Discord asks the client to reconnect (op 7)
            else:
                if how == "invalid-session":
                    fake.invalidate_session()  # its RESUME will be refused (op 9)
                await fake.drop()  # the connection breaks, no close frame
            # Sent while the bot is away: Discord keeps it and replays it on RESUME.
            asked = await fake.interact("help", {})
            assert await delivering == 40
            if how != "invalid-session":
                await asyncio.wait_for(asked.answered.wait(), 10)
            await fake.connected()
            again = await fake.command("latest", {})
        finally:
            await adapter.stop()
    assert len(fake.resumes) == 1  # discord.py always tries to resume first
    if how == "invalid-session":
        assert fake.identifies == 2  # then identifies anew; what it missed is gone
        assert not asked.answers
    else:
        assert fake.identifies == 1 and fake.resumes[0]["session_id"] == fake.session_id
        assert "/latest" in asked.reply["content"]
    assert "Second" in again.reply["embeds"][0]["description"]
    for channel in channels:
        assert [e["title"] for m in fake.posted_to(channel) for e in m.embeds] == [
            "First",
            "Second",
        ]
        assert await statuses(storage, channel) == ["sent", "sent"]


async def test_a_command_added_to_the_spec_becomes_a_slash_command(
    fake: FakeDiscord, storage: Storage, start_adapter: Start, extra_commands: type[Commands]
) -> None:
    await start_adapter(extra_commands(storage).handle)
    assert {"echo", "wipe"} <= {c["name"] for c in fake.synced[GUILD_ID]}
    commands = {c["name"]: c for c in fake.synced["global"]}
    echo, wipe = commands["echo"], commands["wipe"]
    assert echo["description"] == "Says a region back"
    assert echo["description_localizations"] == {
        "es-ES": "Repite una región",
        "es-419": "Repite una región",
    }
    [option] = echo["options"]
    assert (option["name"], option["type"], option["required"]) == ("region", 3, False)
    assert option["autocomplete"] and option["description"] == "A world region"
    assert option["name_localizations"] == {"es-ES": "región", "es-419": "región"}
    assert 1 in echo["contexts"] and echo["default_member_permissions"] is None
    assert wipe["contexts"] == [0] and int(wipe["default_member_permissions"]) == 16
    assert "start" not in commands  # Telegram's greeting only

    typed = await fake.interact("echo", {"region": "orie"}, focused="region", locale="es-ES")
    await asyncio.wait_for(typed.answered.wait(), 5)
    assert typed.choices == [{"name": "Oriente Medio", "value": "Middle East"}]
    echoed = await fake.command("echo", {"region": "Oceanía"}, dm=True)
    assert echoed.reply["content"] == "echo: Oceania" and not echoed.reply.get("flags")
    member = await fake.command("wipe", {}, permissions=MEMBER_PERMISSIONS)
    assert member.reply["flags"] == 64
    assert "only members with the Manage Channels permission" in member.reply["content"]
    admin = await fake.command("wipe", {})
    assert admin.reply["content"] == "wiped" and admin.reply["flags"] == 64


# -- digests -----------------------------------------------------------------------------


async def test_digest_slash_command_with_a_time_zone_completed_as_typed(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    digest = {c["name"]: c for c in fake.synced["global"]}["digest"]
    options = {o["name"]: o for o in digest["options"]}
    assert list(options) == ["period", "time", "day", "timezone"]
    assert options["timezone"]["autocomplete"] and not options["period"].get("autocomplete")
    assert options["timezone"]["name_localizations"] == {"es-ES": "zona", "es-419": "zona"}
    assert digest["contexts"] == [0] and int(digest["default_member_permissions"]) == 16

    typed = await fake.interact("digest", {"timezone": "madr"}, focused="timezone")
    await asyncio.wait_for(typed.answered.wait(), 5)
    assert typed.choices == [{"name": "Europe/Madrid", "value": "Europe/Madrid"}]

    member = await fake.command("digest", {"period": "hourly"}, permissions=MEMBER_PERMISSIONS)
    assert member.reply["flags"] == 64 and "Manage Channels" in member.reply["content"]
    await fake.command("subscribe", {}, channel_id=NEWS)
    answer = await fake.command(
        "digest",
        {"period": "semanal", "time": "08:00", "day": "lun", "timezone": "Europe/Madrid"},
        channel_id=NEWS,
        locale="es-ES",
    )
    assert answer.reply["flags"] == 64
    assert "cada lunes a las 08:00 (Europe/Madrid)" in answer.reply["content"]
    destination = await storage.destination(ChatRef("discord", NEWS))
    assert destination is not None and destination.digest == "weekly mon 08:00 Europe/Madrid"


async def test_a_digest_is_embeds_per_region_within_discords_limits(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.sync_destinations("discord", [DestinationConfig(NEWS, digest="daily 08:00 UTC")])
    long = "x" * 240
    stories = [headline(f"Asia {i} {long}", ("Asia",), n=i) for i in range(12)]
    stories += [headline(f"Europe {i} {long}", ("Europe",), n=20 + i) for i in range(10)]
    stories += [headline(f"Africa {i} {long}", ("Africa",), n=60 + i) for i in range(10)]
    stories += [headline("Moon landing", (), n=40)]
    await seed(storage, *stories)
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == 0  # held
    assert await storage.queue_due_digests(NOW.timestamp() + 2 * 86400) == 1
    assert await Outbox(storage, {"discord": adapter}).deliver_due() == len(stories)

    messages = fake.posted_to(NEWS)
    assert len(messages) >= 2  # too long for one message's 6,000 characters
    assert messages[0].payload["content"] == "**Your daily digest: 33 headlines**"
    embeds = [e for m in messages for e in m.embeds]
    assert [e["title"] for e in embeds] == ["Africa", "Asia", "Europe", "World"]
    asia = embeds[1]["description"].splitlines()
    assert len(asia) == 11 and asia[-1] == "*… and 2 more*"
    assert asia[0].startswith("• [Asia 11 ")  # newest first
    assert embeds[-1]["footer"]["text"].startswith("Send /latest")
    for message in messages:
        assert message.payload["allowed_mentions"] == NO_MENTIONS
        assert (
            sum(len(e.get("title", "")) + len(e.get("description", "")) for e in message.embeds)
            <= 6000
        )
    assert await statuses(storage, NEWS) == ["sent"] * len(stories)


# -- keyword filters and search --------------------------------------------------------


async def test_search_with_words_and_a_region_answers_in_the_channel(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await seed(
        storage,
        headline("Huelga general en Bogotá", ("Latin America",), n=1),
        headline("General strike in Madrid", ("Europe",), n=2),
        headline("Huelga en Madrid", ("Europe",), n=3),
    )
    answer = await fake.command(
        "search", {"words": '"huelga general" * (', "region": "Latin America"}, locale="es-ES"
    )
    reply = answer.reply
    assert not reply.get("flags")  # for the whole channel, as /latest
    [embed] = reply["embeds"]
    assert embed["title"] == 'Búsqueda: "huelga general" (América Latina)'
    assert embed["description"].startswith(
        "• [Huelga general en Bogotá](https://news.example/story/1)"
    )
    assert "Madrid" not in embed["description"]
    none = (await fake.command("search", {"words": "volcano"}, dm=True)).reply
    assert "No headlines match volcano" in none["content"] and "/latest" in none["content"]


async def test_filter_is_private_and_needs_manage_channels(
    fake: FakeDiscord, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await fake.command("subscribe", {}, channel_id=NEWS)
    member = await fake.command(
        "filter", {"terms": "+strike"}, permissions=MEMBER_PERMISSIONS, channel_id=NEWS
    )
    assert member.reply["flags"] == 64 and "Manage Channels" in member.reply["content"]
    saved = await fake.command(
        "filter", {"terms": '+huelga +"general strike" -football'}, channel_id=NEWS
    )
    assert saved.reply["flags"] == 64  # the confirmation is the sender's alone
    assert saved.reply["content"].startswith('Filter saved: +huelga +"general strike" -football')
    destination = await storage.destination(ChatRef("discord", NEWS))
    assert destination is not None and destination.include == ("huelga", "general strike")
    shown = await fake.command("filter", {}, channel_id=NEWS, locale="es-ES")
    assert shown.reply["content"].startswith("El filtro de palabras de este chat: +huelga")
