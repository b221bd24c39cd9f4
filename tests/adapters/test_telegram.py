"""The Telegram adapter: the real python-telegram-bot over HTTP to a fake Bot API server on
127.0.0.1, driven through the real core (SQLite storage, outbox, commands)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters import section_parsers
from adapters.telegram.adapter import TelegramAdapter, parse_command_text
from adapters.telegram.config import TelegramConfig
from adapters.telegram.pacing import RateLimits, Window
from adapters.telegram.render import MAX_TEXT, pack, post, render_reply
from bot.app import HeadlinesBot
from bot.chat.commands import Commands
from bot.config import DestinationConfig, parse_config
from bot.models import ChatRef, Command, Headline, Reply
from bot.outbox.sender import Outbox
from bot.ports import CannotStart
from bot.store import Storage
from testing.fake_telegram import (
    BOT_USERNAME,
    TOKEN,
    FakeLimits,
    FakeTelegram,
    parse_html,
    utf16_length,
)
from testing.feedserver import FeedEntry, FeedServer, make_rss, sample_entries
from tests.adapters import FEED, NOW, seed
from tests.adapters import headline as shared_headline

NASTY = 'Profits < wages & "growth" <b>'
# Tiny windows: tests check what is sent, not how fast (that is the benchmark's job).
QUICK = RateLimits(total_period=0.01, group_period=0.01, private_period=0.01)


def headline(title: str, regions: tuple[str, ...] = ("Asia",), n: int = 0, **kw: str) -> Headline:
    """The shared headline, its link carrying a query: an `&` for the HTML to escape."""
    return shared_headline(
        title, regions, n, **{"link": f"https://news.example/story/{n}?a=1&b=2", **kw}
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


Start = Callable[..., Awaitable[TelegramAdapter]]


@pytest.fixture
async def start_adapter(fake: FakeTelegram, storage: Storage) -> AsyncIterator[Start]:
    """Starts adapters answering commands with the core's `Commands` on `storage`, which
    may ask them for topics as the running bot does."""
    started: list[TelegramAdapter] = []

    async def start(limits: RateLimits = QUICK, **config: object) -> TelegramAdapter:
        adapter = TelegramAdapter(
            TelegramConfig(token=TOKEN, api_base_url=fake.url, **config), limits=limits
        )
        commands = Commands(storage, ("World",), adapters={"telegram": adapter})
        await adapter.start(commands.handle)
        started.append(adapter)
        return adapter

    yield start
    for adapter in started:
        await adapter.stop()


# -- formatting ------------------------------------------------------------------------


def test_every_feed_field_arrives_exactly_as_written() -> None:
    item = headline(
        NASTY,
        ("Asia", "Latin America"),
        feed="Left & <Right>",
        summary="Tax <i>cuts</i> & 'jobs'",
        link='https://news.example/a?x=1&y="2"',
    )
    text, entities = parse_html(post(item, "en").html)
    assert text == (
        f"{NASTY}\nTax <i>cuts</i> & 'jobs'\n#Asia #LatinAmerica\nSource: Left & <Right>"
    )
    title = {"offset": 0, "length": len(NASTY)}
    assert {"type": "bold", **title} in entities
    assert {"type": "text_link", **title, "url": 'https://news.example/a?x=1&y="2"'} in entities


def test_posts_use_the_chat_language_and_stay_within_telegram_limits() -> None:
    long = headline("Ω" * 5000, summary="word " * 3000, feed="F" * 500)
    text = post(long, "es")
    visible, _ = parse_html(text.html)
    assert visible.endswith("Fuente: " + "F" * 99 + "…")
    assert len(visible) <= MAX_TEXT and len(text.plain) <= MAX_TEXT


def test_hashtags_follow_the_chat_language_and_world_news_says_so() -> None:
    lines = parse_html(post(headline("T", ("Latin America", "Middle East")), "es").html)[0]
    assert lines.splitlines()[2] == "#AméricaLatina #OrienteMedio"
    assert parse_html(post(headline("T", ()), "en").html)[0].splitlines()[2] == "#World"
    assert parse_html(post(headline("T", ()), "es").html)[0].splitlines()[2] == "#Mundo"


def test_a_link_that_is_not_a_web_address_is_not_made_a_link() -> None:
    text = post(headline("Title", link="javascript:alert(1)"), "en")
    _, entities = parse_html(text.html)
    assert [e["type"] for e in entities] == ["bold", "italic"]


def test_packing_stops_before_the_message_limit() -> None:
    posts = [post(headline(f"Story {i}", summary="x " * 140, n=i), "en") for i in range(40)]
    packed = pack(posts)
    assert 1 < packed.count < 40
    visible, _ = parse_html(packed.html)
    assert len(packed.plain) <= MAX_TEXT and visible.count("Story ") == packed.count


def test_a_reply_is_escaped_and_fits_one_message() -> None:
    reply = Reply(
        title="Latest <headlines>",
        text="a & b",
        headlines=tuple(headline(f"{NASTY} {i}" + "x" * 250, n=i) for i in range(20)),
    )
    visible, entities = parse_html(render_reply(reply).html)
    assert visible.startswith("Latest <headlines>\na & b\n• " + NASTY + " 0")
    assert len(visible) <= MAX_TEXT
    assert entities[0] == {"type": "bold", "offset": 0, "length": len("Latest <headlines>")}


def test_a_reply_of_wide_characters_still_fits_one_message() -> None:
    text = render_reply(Reply(title="Unknown region", text="😀" * 5000))
    visible, _ = parse_html(text.html)
    assert utf16_length(visible) <= MAX_TEXT and utf16_length(text.plain) <= MAX_TEXT
    assert visible.endswith("😀…")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('/region "América Latina"', ("region", ("América Latina",))),
        ("/region@Headlines_Test_Bot  “Latin America”", ("region", ("Latin America",))),
        ("/latest 3 asia", ("latest", ("3", "asia"))),
        ('/subscribe "Asia, Europe', ("subscribe", ('"Asia,', "Europe"))),
        ("/region Côte d'Ivoire", ("region", ("Côte", "d'Ivoire"))),
        ("/help", ("help", ())),
        ("/subscribe@Headlines_Test_Bot\nAsia", ("subscribe", ("Asia",))),
        ("/latest\n3", ("latest", ("3",))),
    ],
)
def test_command_arguments(text: str, expected: tuple[str, tuple[str, ...]]) -> None:
    assert parse_command_text(text) == expected


def test_sliding_window_counts_sends_from_when_they_finished() -> None:
    window = Window(limit=2, period=10.0)
    assert window.room(0.0) == 2 and window.delay(0.0) == 0
    window.in_flight = 2
    assert window.room(0.0) == 0 and window.delay(0.0) is None  # wait for one to finish
    window.in_flight = 0
    window.done.extend([0.5, 0.75])
    assert window.delay(1.0) == 9.5  # a true window: the first send must be 10 s old
    assert window.room(10.5) == 1 and window.delay(10.5) == 0
    window.held_until = 20.0  # Telegram said retry_after
    assert window.room(11.0) == 0 and window.delay(11.0) == 9.0


# -- delivering headlines through the core --------------------------------------------


async def test_a_new_headline_is_one_message_per_subscribed_chat(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await storage.sync_destinations(
        "telegram",
        [
            DestinationConfig("@worldnews", language="es"),
            DestinationConfig("-1001234", regions=("Asia",)),
            DestinationConfig("-1005678", regions=("Europe",)),  # does not want it
        ],
    )
    item = headline(NASTY, ("Asia",), summary="Wages & prices")
    await seed(storage, item)

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 3
    assert sorted(m.chat_id for m in fake.sent) == ["-1001234", "1001", "@worldnews"]
    for message in fake.sent:
        source = "Fuente" if message.chat_id == "@worldnews" else "Source"
        assert message.text == f"{NASTY}\nWages & prices\n#Asia\n{source}: World"
        assert message.styled("bold") == [NASTY] and message.links() == [item.link]
        assert message.params["link_preview_options"] == {"is_disabled": True}
    # Delivered means marked sent: a second pass sends nothing.
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    assert len(fake.sent) == 3


async def test_link_previews_follow_the_config(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter(link_previews=True)
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    await Outbox(storage, {"telegram": adapter}).deliver_due()
    [message] = fake.sent
    assert message.params["link_preview_options"] == {"is_disabled": False}


async def test_a_feed_entry_reaches_telegram_through_the_whole_bot(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    async with FeedServer() as feeds:
        old = sample_entries(3, start=NOW - timedelta(hours=2))
        feeds.set_feed("/news", make_rss(old))
        config = parse_config(
            {
                "database": str(tmp_path / "bot.db"),
                "feeds": [{"name": "World", "url": feeds.url("/news")}],
                "telegram": {
                    "token": TOKEN,
                    "api_base_url": fake.url,
                    "destinations": [{"chat": "-1001234"}],
                },
            },
            platforms=section_parsers(),
        )
        section = config.platforms["telegram"]
        assert isinstance(section, TelegramConfig)
        bot = HeadlinesBot(config, [TelegramAdapter(section, limits=QUICK)])
        await bot.open()
        await bot.connect()
        try:
            await bot.poll_all()  # the first poll only records what is there
            # A plain-text title keeps its brackets all the way: "<T>" and "<b>" are text.
            title = f"Vector<T> is fast: {NASTY}"
            # Its picture, a relative <img> in the summary, is shown as a large preview.
            picture = '<p><img src="/pics/strike.jpg"> Thousands marched.</p>'
            fresh = FeedEntry(
                title, link="https://news.example/new", guid="new-1", summary=picture, published=NOW
            )
            feeds.set_feed("/news", make_rss([fresh, *old]))
            await bot.poll_all()
            assert await bot.outbox.deliver_due() == 1
        finally:
            await bot.stop()
    [message] = fake.sent
    assert message.chat_id == "-1001234"
    assert message.styled("bold") == [title] and message.links() == ["https://news.example/new"]
    assert message.params["link_preview_options"] == {
        "url": "https://news.example/pics/strike.jpg",
        "prefer_large_media": True,
        "show_above_text": True,
    }


async def test_a_busy_group_gets_several_headlines_to_a_message_none_lost(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    # Four messages a minute into the group, six headlines, handed over three at a time:
    # one per message while the minute has room for all given, packed once it has not.
    adapter = await start_adapter(RateLimits(total_period=0.01, group=4, group_period=60.0))
    await storage.sync_destinations("telegram", [DestinationConfig("-1001234")])
    titles = [f"Story {i}" for i in range(6)]
    await seed(storage, *(headline(t, n=i) for i, t in enumerate(titles)))

    assert await Outbox(storage, {"telegram": adapter}, batch=3).deliver_due() == 6
    assert [len(m.styled("bold")) for m in fake.sent] == [1, 1, 3, 1]
    shown = [t for m in fake.sent for t in m.styled("bold")]
    assert shown == titles  # each once, oldest first


async def test_a_private_chat_gets_one_headline_per_message(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, *(headline(f"Story {i}", n=i) for i in range(3)))
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 3
    assert [m.styled("bold") for m in fake.sent] == [["Story 0"], ["Story 1"], ["Story 2"]]


async def test_pacing_keeps_within_the_servers_sliding_windows(
    storage: Storage, tmp_path: Path
) -> None:
    # Scaled-down limits on both sides; the fake answers 429 to anything over them.
    server = FakeLimits(total=5, total_period=0.1, group=2, group_period=0.2, private_period=0.1)
    paced = RateLimits(total=5, total_period=0.1, group=2, group_period=0.2, private_period=0.1)
    for i in range(12):
        await storage.subscribe(ChatRef("telegram", str(2000 + i), "private"))
    await storage.sync_destinations("telegram", [DestinationConfig("-1001234")])
    await seed(storage, *(headline(f"Story {i}", n=i) for i in range(3)))
    async with FakeTelegram(limits=server) as fake:
        adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url), limits=paced)
        await adapter.start(Commands(storage).handle)
        try:
            assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 13 * 3
        finally:
            await adapter.stop()
    assert fake.too_many == 0 and fake.rejected == []


@pytest.mark.parametrize("primed", [True, False])
async def test_a_process_taking_telegram_over_paces_by_what_the_last_one_sent(
    storage: Storage, primed: bool
) -> None:
    # A channel's window of 2 messages per 2 s, on both sides. One process sends two,
    # then another takes over: told what was sent (bot.app primes it from the store's
    # recent sends), it waits for the window; not told, it sends into a full one and
    # Telegram answers 429.
    server = FakeLimits(group=2, group_period=2.0)
    paced = RateLimits(total_period=0.01, group=2, group_period=2.0)
    await storage.sync_destinations("telegram", [DestinationConfig("-1001234")])
    await seed(storage, headline("First", n=1))
    async with FakeTelegram(limits=server) as fake:
        config = TelegramConfig(token=TOKEN, api_base_url=fake.url)
        before = TelegramAdapter(config, limits=paced)
        await before.start(Commands(storage).handle)
        try:
            assert await Outbox(storage, {"telegram": before}).deliver_due() == 1
            await storage.add_headlines(FEED.name, [headline("Second", n=2)])
            assert await Outbox(storage, {"telegram": before}).deliver_due() == 1
        finally:
            await before.stop()  # killed, say: its windows are gone with it

        sent = await storage.recent_sends("telegram", time.time() - 60)
        assert [(chat.chat_id, chat.kind) for chat, _ in sent] == [("-1001234", "")] * 2
        after = TelegramAdapter(config, limits=paced)
        if primed:
            after.prime(sent)
        await after.start(Commands(storage).handle)
        try:
            await storage.add_headlines(FEED.name, [headline("Third", n=3)])
            assert await Outbox(storage, {"telegram": after}).deliver_due() == 1
        finally:
            await after.stop()
    assert [m.styled("bold") for m in fake.sent] == [["First"], ["Second"], ["Third"]]
    assert fake.too_many == (0 if primed else 1)


# -- errors ----------------------------------------------------------------------------


async def test_429_is_waited_out_and_retried_never_dropped(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    destination = await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    fake.retry_after("1001", 1)

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert [(c, code) for c, code, _ in fake.rejected] == [("1001", 429)]
    assert fake.too_early == 0  # the retry came once the chat was free again
    assert [m.styled("bold") for m in fake.sent] == [["Title"]]
    [(_, status, message_id)] = await storage.deliveries_for(destination)
    assert (status, message_id) == ("sent", str(fake.sent[0].message_id))


async def test_403_deactivates_the_destination(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.sync_destinations("telegram", [DestinationConfig("-1001234")])
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    fake.kick("-1001234", "Forbidden: bot was kicked from the channel chat")

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    gone = await storage.destination(ChatRef("telegram", "-1001234"))
    assert gone is not None and not gone.active and "kicked" in gone.inactive_reason
    [(_, status, _)] = await storage.deliveries_for(gone)
    assert status == "failed"
    assert [m.chat_id for m in fake.sent] == ["1001"]  # the others carry on


async def test_chat_not_found_deactivates_the_destination(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.sync_destinations("telegram", [DestinationConfig("@nosuchchannel")])
    await seed(storage, headline("Title"))
    fake.fail("@nosuchchannel", 400, "Bad Request: chat not found")

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    gone = await storage.destination(ChatRef("telegram", "@nosuchchannel"))
    assert gone is not None and not gone.active
    assert "chat not found" in gone.inactive_reason.lower()


async def test_a_channel_where_the_bot_is_no_admin_is_deactivated(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.sync_destinations("telegram", [DestinationConfig("@news")])
    await seed(storage, headline("One", n=1), headline("Two", n=2))
    fake.fail("@news", 400, "Bad Request: need administrator rights in the channel chat")

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    gone = await storage.destination(ChatRef("telegram", "@news"))
    assert gone is not None and not gone.active
    assert "need administrator rights" in gone.inactive_reason.lower()
    assert len(fake.rejected) == 1  # one refusal, not one per headline


async def test_unparsable_entities_fall_back_to_plain_text(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    item = headline(NASTY, summary="Wages & prices")
    await seed(storage, item)
    fake.reject_entities("1001")

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert [code for _, code, _ in fake.rejected] == [400]
    [message] = fake.sent
    assert message.parse_mode == "" and message.entities == []
    assert message.text == f"{NASTY}\n{item.link}\nWages & prices\n#Asia\nSource: World"


async def test_a_migrated_group_is_moved_and_still_receives(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("telegram", "-555", "group"), ["Asia"])
    await seed(storage, headline("Title"))
    fake.migrate("-555", -100555)

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert [m.chat_id for m in fake.sent] == ["-100555"]
    moved = await storage.destination(ChatRef("telegram", "-100555"))
    assert moved is not None and moved.active and moved.regions == ("Asia",)
    assert await storage.destination(ChatRef("telegram", "-555")) is None


async def test_a_migrated_config_group_still_receives_after_a_restart(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    configured = [DestinationConfig("-555")]
    await storage.sync_destinations("telegram", configured)
    await seed(storage, headline("Before", n=1))
    fake.migrate("-555", -100555)
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1

    await storage.sync_destinations("telegram", configured)  # the bot restarts
    await storage.add_headlines(FEED.name, [headline("After", n=2)])
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert [(m.chat_id, m.styled("bold")) for m in fake.sent] == [
        ("-100555", ["Before"]),
        ("-100555", ["After"]),
    ]


async def test_a_server_error_postpones_and_a_later_pass_delivers(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    destination = await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    fake.server_error("1001")
    outbox = Outbox(storage, {"telegram": adapter}, retry_base=0.01)

    assert await outbox.deliver_due() == 0
    [(_, status, _)] = await storage.deliveries_for(destination)
    assert status == "pending"
    await asyncio.sleep(0.05)  # past the short backoff
    assert await outbox.deliver_due() == 1
    assert [m.styled("bold") for m in fake.sent] == [["Title"]]


async def test_a_restart_mid_delivery_loses_and_repeats_nothing(
    fake: FakeTelegram, storage: Storage, start_adapter: Start, database: Path | str
) -> None:
    chats = ["1001", "1002", "1003"]
    for chat in chats:
        await storage.subscribe(ChatRef("telegram", chat, "private"))
    titles = [f"Story {i}" for i in range(4)]
    await seed(storage, *(headline(t, n=i) for i, t in enumerate(titles)))
    gate = fake.hold("1002")

    adapter = await start_adapter()
    outbox = Outbox(storage, {"telegram": adapter})
    running = asyncio.create_task(outbox.run())
    await gate.arrived.wait()  # a send to 1002 is in flight
    stopping = asyncio.create_task(outbox.stop(grace=5.0))
    await asyncio.sleep(0)
    gate.release.set()  # ... and finishes while the outbox stops
    await stopping
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await adapter.stop()
    before = len(fake.sent)
    assert 0 < before < len(chats) * len(titles)

    # A new process on the same database delivers the rest.
    again = await Storage.open(database)
    try:
        adapter = await start_adapter()
        assert await Outbox(again, {"telegram": adapter}).deliver_due() == 12 - before
    finally:
        await again.close()
    for chat in chats:
        shown = [t for m in fake.messages(chat) for t in m.styled("bold")]
        assert shown == titles, chat


# -- commands --------------------------------------------------------------------------


async def test_latest_and_region_in_a_private_chat(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await seed(
        storage,
        headline("Pakistan: protests over electricity prices", ("Asia",), n=1),
        headline(NASTY, ("Latin America",), n=2),
    )
    await start_adapter()
    await fake.private_command("/latest")
    [latest] = await fake.wait_messages("1001")
    assert latest.text.startswith("Latest headlines\n• " + NASTY + " #LatinAmerica · World")
    assert latest.styled("bold")[1:] == [NASTY, "Pakistan: protests over electricity prices"]

    await fake.private_command('/region "América Latina"', language_code="es")
    region = (await fake.wait_messages("1001", 2))[1]
    assert region.text.splitlines() == [
        "Últimos titulares: América Latina",
        f"• {NASTY} #AméricaLatina · World",
    ]


async def test_subscribe_in_a_private_chat(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await fake.private_command('/subscribe "Latin America" asia', user_id=2002)
    [reply] = await fake.wait_messages("2002")
    assert reply.text.startswith("Subscribed")
    destination = await storage.destination(ChatRef("telegram", "2002"))
    assert destination is not None and destination.active
    assert destination.chat.kind == "private"
    assert destination.regions == ("Latin America", "Asia")
    assert fake.called("getChatMember") == []  # the user of a private chat may


async def test_a_group_admin_may_subscribe_with_the_bot_name(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    fake.make_admin(-4001, 77)
    await fake.group_command(f"/subscribe@{BOT_USERNAME} Europe", -4001, 77, title="Readers")
    [reply] = await fake.wait_messages("-4001")
    assert reply.text.startswith("Subscribed")
    assert reply.params["reply_parameters"]["message_id"] > 0  # answers the command
    destination = await storage.destination(ChatRef("telegram", "-4001"))
    assert destination is not None and destination.regions == ("Europe",)
    assert (destination.chat.kind, destination.chat.title) == ("group", "Readers")
    assert fake.called("getChatMember") == [{"chat_id": "-4001", "user_id": "77"}]


async def test_a_group_member_is_politely_refused(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await seed(storage, headline("Title"))
    await start_adapter()
    # Commands are answered concurrently: send each after the previous answer.
    await fake.group_command("/subscribe", -100400, 88, supergroup=True)
    [refusal] = await fake.wait_messages("-100400")
    await fake.group_command("/latest 1", -100400, 88, supergroup=True)
    latest = (await fake.wait_messages("-100400", 2))[1]
    assert refusal.text == "Sorry, only administrators of this chat can change what it receives."
    assert latest.styled("bold")[1:] == ["Title"]  # anyone may read
    assert await storage.destination(ChatRef("telegram", "-100400")) is None
    assert len(fake.called("getChatMember")) == 1  # only for /subscribe


async def test_an_admin_is_told_when_telegram_cannot_say_who_the_admins_are(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    fake.make_admin(-4001, 77)
    fake.member_checks_fail = True
    await fake.group_command("/unsubscribe", -4001, 77, language_code="es")
    [reply] = await fake.wait_messages("-4001")
    assert reply.text == (
        "Lo siento, no pude comprobar quién administra este chat. Inténtalo más tarde."
    )


async def test_an_answer_hit_by_flood_control_arrives_once_it_is_over(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    await start_adapter()
    fake.retry_after("1001", 1)
    await fake.private_command("/help")
    [reply] = await fake.wait_messages("1001")
    assert reply.text.startswith("I post new headlines")
    assert [code for _, code, _ in fake.rejected] == [429] and fake.too_early == 0


async def test_latest_from_a_group_admin_and_region_in_a_channel(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await seed(
        storage, headline("Asia story", ("Asia",), n=1), headline("Europe story", ("Europe",), n=2)
    )
    await start_adapter()
    fake.make_admin(-4001, 77)
    await fake.group_command(f"/latest@{BOT_USERNAME} 1", -4001, 77)
    await fake.channel_command("/region asia", -1009001)
    [latest] = await fake.wait_messages("-4001")
    [region] = await fake.wait_messages("-1009001")
    assert latest.styled("bold") == ["Latest headlines", "Europe story"]
    assert region.styled("bold") == ["Latest headlines: Asia", "Asia story"]
    assert fake.called("getChatMember") == []  # reading needs no rights


async def test_only_a_group_admin_may_unsubscribe_it(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await storage.subscribe(ChatRef("telegram", "-4001", "group"))
    await start_adapter()
    fake.make_admin(-4001, 77)
    await fake.group_command("/unsubscribe", -4001, 88)
    [refusal] = await fake.wait_messages("-4001")
    assert refusal.text.startswith("Sorry, only administrators")
    destination = await storage.destination(ChatRef("telegram", "-4001"))
    assert destination is not None and destination.active
    await fake.group_command("/unsubscribe", -4001, 77)
    done = (await fake.wait_messages("-4001", 2))[1]
    assert done.text.startswith("Unsubscribed")
    destination = await storage.destination(ChatRef("telegram", "-4001"))
    assert destination is not None and not destination.active


async def test_an_edited_command_is_not_run_again(fake: FakeTelegram, start_adapter: Start) -> None:
    adapter = await start_adapter()
    await fake.edit_private_command("/latest")
    await fake.private_command("/start")
    await fake.wait_messages("1001")
    await fake.wait_updates_taken()
    await adapter.stop()  # answers every command it took before it stops
    [reply] = fake.messages("1001")
    assert reply.text.startswith("Hello!") and "/latest [n] [region]" in reply.text


async def test_a_command_for_another_bot_is_ignored(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    await start_adapter()
    await fake.group_command("/latest@some_other_bot", -4001, 77)
    await fake.group_command("/help", -4001, 77)
    [reply] = await fake.wait_messages("-4001")
    assert reply.text.startswith("I post new headlines from World")


async def test_a_channel_post_subscribes_the_channel(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    await fake.channel_command("/subscribe Asia", -1009001, title="World news")
    [reply] = await fake.wait_messages("-1009001")
    assert reply.text.startswith("Subscribed")
    destination = await storage.destination(ChatRef("telegram", "-1009001"))
    assert destination is not None and destination.regions == ("Asia",)
    assert (destination.chat.kind, destination.chat.title) == ("channel", "World news")
    assert fake.called("getChatMember") == []  # only admins can post in a channel


async def test_a_bad_argument_gets_a_clear_answer_and_the_bot_keeps_going(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    await start_adapter()
    replies = []
    for text in ("/region Atlantis", "/latest 500", "/help"):
        await fake.private_command(text)
        replies = await fake.wait_messages("1001", len(replies) + 1)
    region, count, help_reply = replies
    assert region.text.startswith("Unknown region 'Atlantis'.")
    assert count.text.startswith("'500' is not a count")
    assert help_reply.text.startswith("I post new headlines")


async def test_a_maximal_hostile_command_is_refused_and_the_bot_keeps_going(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    await start_adapter()
    # 4096 characters, Telegram's most: one-letter words, and a quote left open
    text = ("/region " + '"x ' + " ".join(["x"] * 2048))[:4096]
    await fake.private_command(text, language_code="es")
    await fake.private_command("/help")
    refused, help_reply = await fake.wait_messages("1001", 2)
    assert refused.text.startswith("Es demasiado largo para /region: 4088 caracteres")
    assert help_reply.text.startswith("I post new headlines")


async def test_a_failing_command_is_logged_apologised_for_and_the_next_one_answered(
    fake: FakeTelegram, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    commands = Commands(storage)

    async def handle(command: Command) -> Reply:
        if command.name == "latest":
            raise RuntimeError("storage on fire")
        return await commands.handle(command)

    adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url), limits=QUICK)
    await adapter.start(handle)
    try:
        await fake.private_command("/latest", language_code="es")
        await fake.private_command("/help")
        replies = await fake.wait_messages("1001", 2)
        await fake.wait_updates_taken()
    finally:
        await adapter.stop()
    texts = sorted(m.text for m in replies)
    assert texts[0].startswith("I post new headlines")
    assert texts[1] == "Lo siento, algo salió mal. Inténtalo de nuevo en un momento."
    assert "storage on fire" in caplog.text


async def test_a_command_being_answered_when_the_adapter_stops_is_answered(
    fake: FakeTelegram, storage: Storage
) -> None:
    commands = Commands(storage)
    handling, go_on = asyncio.Event(), asyncio.Event()

    async def slow(command: Command) -> Reply:
        handling.set()
        await go_on.wait()
        return await commands.handle(command)

    adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url), limits=QUICK)
    await adapter.start(slow)
    await fake.private_command("/help")
    await handling.wait()
    stopping = asyncio.create_task(adapter.stop())
    await asyncio.sleep(0.05)  # the stop is under way, waiting for the command
    go_on.set()
    await asyncio.wait_for(stopping, 5)
    [reply] = fake.messages("1001")
    assert reply.text.startswith("I post new headlines")


async def test_commands_are_listed_in_english_and_spanish(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    await start_adapter()
    names = ["start", "help", "latest", "region", "subscribe", "unsubscribe", "digest"]
    names += ["filter", "search"]
    assert [c["command"] for c in fake.commands[""]] == names
    assert [c["command"] for c in fake.commands["es"]] == names
    assert fake.commands["es"][1]["description"] == "Los comandos y las regiones"
    assert fake.commands["es"][8]["description"].endswith("/search PALABRAS [región]")


async def test_the_token_is_never_logged(
    fake: FakeTelegram, storage: Storage, start_adapter: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = await start_adapter()
    await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    fake.server_error("1001")
    await Outbox(storage, {"telegram": adapter}, retry_base=0.01).deliver_due()
    await fake.private_command("/help")
    await fake.wait_messages("1001")
    await adapter.stop()
    assert len(caplog.records) > 10  # PTB's debug logging was on
    assert all(TOKEN not in record.getMessage() for record in caplog.records)
    assert TOKEN not in caplog.text


async def test_a_wrong_token_fails_start_without_showing_it(
    fake: FakeTelegram, storage: Storage, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999:wrong-token-not-to-be-shown"
    adapter = TelegramAdapter(TelegramConfig(token=wrong, api_base_url=fake.url))
    with pytest.raises(CannotStart) as failure:
        await adapter.start(Commands(storage).handle)
    assert wrong not in str(failure.value) and "rejected" in str(failure.value)
    assert wrong not in caplog.text


async def test_a_stopped_adapter_leaves_deliveries_pending(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    destination = await storage.subscribe(ChatRef("telegram", "1001", "private"))
    await seed(storage, headline("Title"))
    await adapter.stop()
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    [(_, status, _)] = await storage.deliveries_for(destination)
    assert status == "pending" and fake.sent == []


async def test_a_command_added_to_the_spec_is_listed_and_answered(
    fake: FakeTelegram, storage: Storage, extra_commands: type[Commands]
) -> None:
    adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url), limits=QUICK)
    await adapter.start(extra_commands(storage).handle)
    try:
        assert fake.commands[""][-2:] == [
            {"command": "echo", "description": "Says a region back: /echo [region]"},
            {"command": "wipe", "description": "Forget this chat"},
        ]
        assert fake.commands["es"][-2]["description"] == "Repite una región: /echo [región]"
        await fake.private_command("/echo Oceanía")
        [echoed] = await fake.wait_messages("1001")
        assert echoed.text == "echo: Oceania"
        # Admin-only in the spec: in a group, the adapter asks Telegram who administers it.
        await fake.group_command("/echo asia", -4001, 77)
        await fake.group_command("/wipe", -4001, 77)
        answers = sorted(m.text for m in await fake.wait_messages("-4001", 2))
        assert answers[0].startswith("Sorry, only administrators") and answers[1] == "echo: Asia"
        assert fake.called("getChatMember") == [{"chat_id": "-4001", "user_id": "77"}]
    finally:
        await adapter.stop()


# -- digests -----------------------------------------------------------------------------


async def test_a_daily_digest_arrives_once_at_the_chats_local_time(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    # The bot's clock (digests only) starts on 1 December 2025 at 16:00 UTC, 17:00 in Madrid.
    clock = [datetime(2025, 12, 1, 16, tzinfo=UTC).timestamp()]
    async with FeedServer() as feeds:
        old = sample_entries(2, start=NOW - timedelta(hours=2))
        feeds.set_feed("/news", make_rss(old))
        config = parse_config(
            {
                "database": str(tmp_path / "bot.db"),
                "feeds": [{"name": "World", "url": feeds.url("/news")}],
                "telegram": {"token": TOKEN, "api_base_url": fake.url},
            },
            platforms=section_parsers(),
        )
        section = config.platforms["telegram"]
        assert isinstance(section, TelegramConfig)
        adapter = TelegramAdapter(section, limits=QUICK)
        bot = HeadlinesBot(config, [adapter], clock=lambda: clock[0])
        await bot.open()
        await bot.connect()
        try:
            await fake.private_command("/subscribe")
            await fake.wait_messages(1001, 1)
            await fake.private_command("/digest daily 08:00 Europe/Madrid")
            [_, confirmed] = await fake.wait_messages(1001, 2)
            assert "Next: 2025-12-02 08:00 CET" in confirmed.text
            await bot.poll_all()  # the first poll only records what is there
            fresh = [
                FeedEntry(
                    "France: strike closes schools",
                    guid="n1",
                    link="https://news.example/n1",
                    published=NOW,
                ),
                FeedEntry(
                    "Scientists find a new frog",
                    guid="n2",
                    link="https://news.example/n2",
                    published=NOW,
                ),
                FeedEntry(
                    "Pakistan: protests over power cuts",
                    guid="n3",
                    link="https://news.example/n3",
                    published=NOW - timedelta(minutes=10),
                ),
                FeedEntry(
                    "Japan: new cabinet sworn in",
                    guid="n4",
                    link="https://news.example/n4",
                    published=NOW,
                ),
            ]
            feeds.set_feed("/news", make_rss([*fresh, *old]))
            await bot.poll_all()
            assert await bot.outbox.deliver_due() == 0  # held for the digest
            clock[0] = datetime(2025, 12, 2, 6, 59, tzinfo=UTC).timestamp()  # 07:59 there
            assert await bot.queue_digests() == 0
            clock[0] += 60  # 08:00 in Madrid
            assert await bot.queue_digests() == 1
            assert await bot.outbox.deliver_due() == 4
            clock[0] += 60
            assert await bot.queue_digests() == 0
            clock[0] += 86400  # the next day: nothing new, nothing sent
            assert await bot.queue_digests() == 0
            assert await bot.outbox.deliver_due() == 0
        finally:
            await bot.stop()
    [_, _, digest] = fake.messages(1001)
    assert digest.styled("bold") == ["Your daily digest: 4 headlines", "Asia", "Europe", "World"]
    lines = digest.text.splitlines()
    asia = lines.index("Asia")
    # Grouped by region, world news last; the region's newest first.
    assert lines[asia + 1].startswith("• Japan: new cabinet")
    assert lines[asia + 2].startswith("• Pakistan: protests")
    assert lines[lines.index("Europe") + 1].startswith("• France: strike")
    assert lines[lines.index("World") + 1].startswith("• Scientists find a new frog")
    assert lines[-1] == "Send /latest for the newest headlines, /region NAME for one region's."
    assert len(digest.links()) == 4


async def test_a_long_digest_is_split_into_messages_that_fit(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await storage.sync_destinations(
        "telegram", [DestinationConfig("-1001234", digest="hourly", language="es")]
    )
    regions = ("Africa", "Asia", "Europe", "Latin America", "Middle East", "Oceania")
    stories = [
        headline(f"{region} {i} " + "palabra " * 35, (region,), n=10 * r + i)
        for r, region in enumerate(regions)
        for i in range(10)
    ]
    await seed(storage, *stories)
    assert await storage.queue_due_digests(NOW.timestamp() + 7200) == 1
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == len(stories)
    messages = fake.messages("-1001234")
    assert len(messages) >= 2 and all(utf16_length(m.text) <= MAX_TEXT for m in messages)
    assert messages[0].styled("bold")[0] == "Tu resumen de la hora: 60 titulares"
    shown = [link for m in messages for link in m.links()]
    assert sorted(shown) == sorted(h.link for h in stories)  # each once, none lost


# -- keyword filters and search --------------------------------------------------------


async def test_a_filtered_group_receives_only_matching_headlines(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    fake.make_admin(-4001, 77)
    await fake.group_command("/subscribe Europe", -4001, 77)
    await fake.wait_messages("-4001", 1)
    await fake.group_command('/filter +huelga +"general strike" -football', -4001, 77)
    saved = (await fake.wait_messages("-4001", 2))[1]
    assert saved.text.startswith('Filter saved: +huelga +"general strike" -football')
    await fake.group_command("/filter +strike", -4001, 78)  # no admin: refused
    refused = (await fake.wait_messages("-4001", 3))[2]
    assert refused.text.startswith("Sorry, only administrators")
    await storage.subscribe(ChatRef("telegram", "1001", "private"))  # no filter: all
    await seed(
        storage,
        headline("HUELGA en Madrid", ("Europe",), n=1),
        headline("General strike in Santiago", ("Latin America",), n=2),  # not its region
        headline("General strike halts the football league", ("Europe",), n=3),
        headline("General Strike called in Lisbon", ("Europe",), n=4),
        headline("Strike talks in Paris", ("Europe",), n=5),  # no + term
    )
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 2 + 5
    posted = fake.messages("-4001")[3:]
    titles = [title for m in posted for title in m.styled("bold")]
    assert titles == ["HUELGA en Madrid", "General Strike called in Lisbon"]
    assert len(fake.messages("1001")) == 5


async def test_search_in_a_private_chat(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await seed(
        storage,
        headline("Huelga general en Bogotá", ("Latin America",), n=1),
        headline("Bogotá elige alcalde", ("Latin America",), n=2),
        headline("Markets calm", ("Asia",), n=3),
    )
    await start_adapter()
    await fake.private_command('/search "huelga general" bogota')
    [found] = await fake.wait_messages("1001")
    assert found.text.splitlines()[0] == 'Search: "huelga general" bogota'
    assert found.styled("bold")[1:] == ["Huelga general en Bogotá"]
    assert found.links() == ["https://news.example/story/1?a=1&b=2"]
    await fake.private_command("/search volcán", language_code="es")
    none = (await fake.wait_messages("1001", 2))[1]
    assert none.text.startswith("Ningún titular coincide con volcan. Prueba con menos palabras")
