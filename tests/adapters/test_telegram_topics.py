"""Telegram forum topics (one per region, or one region per topic) and pictures with
headlines: the real python-telegram-bot against the fake Bot API server, through the real
core (SQLite storage, outbox, commands)."""

from __future__ import annotations

from pathlib import Path

from adapters import section_parsers
from adapters.telegram.adapter import TelegramAdapter
from adapters.telegram.config import TelegramConfig
from adapters.telegram.pacing import RateLimits
from adapters.telegram.render import MAX_CAPTION, post
from bot.app import HeadlinesBot
from bot.chat.commands import Commands
from bot.config import parse_config
from bot.models import ChatRef
from bot.outbox.sender import Outbox
from bot.regions.names import REGIONS, display_name
from bot.store import Storage
from testing.fake_telegram import TOKEN, TOPIC_COLORS, FakeLimits, FakeTelegram
from tests.adapters import test_telegram as telegram_tests
from tests.adapters.test_telegram import FEED, QUICK, Start, headline, seed

FORUM = -1007770001
ADMIN = 42
PICTURE = "https://img.example/photo.jpg"


# The fixtures of test_telegram.py: the fake Telegram, and adapters started on it.
fake = telegram_tests.fake
start_adapter = telegram_tests.start_adapter


async def command(fake: FakeTelegram, text: str, *, thread: str = "", language: str = "en") -> str:
    """An admin's command in the forum (in topic `thread`, if given): the bot's answer."""
    before = len(fake.messages(FORUM))
    await fake.group_command(
        text, FORUM, ADMIN, supergroup=True, thread_id=thread or None, language_code=language
    )
    answers = await fake.wait_messages(FORUM, before + 1)
    return answers[before].text


async def split_into_topics(fake: FakeTelegram, language: str = "en") -> dict[str, str]:
    """`/subscribe topics` from an admin: the topics made, thread id by name."""
    fake.make_admin(FORUM, ADMIN)
    answer = await command(fake, "/subscribe topics", language=language)
    assert "8" in answer, answer
    return {topic.name: thread for thread, topic in fake.topics[str(FORUM)].items()}


def posts(fake: FakeTelegram) -> list[tuple[str, str]]:
    """(topic, first line) of each headline the forum got, oldest first."""
    return [
        (m.thread_id, m.text.splitlines()[0])
        for m in fake.messages(FORUM)
        if m.text.endswith("Source: World")
    ]


# -- one topic per region ----------------------------------------------------------------


async def test_subscribe_topics_makes_one_per_region_and_posts_each_headline_in_its_regions(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    topics = await split_into_topics(fake)

    assert list(topics) == [*REGIONS, "World"]
    colours = [topic.icon_color for topic in fake.topics[str(FORUM)].values()]
    assert set(colours) == set(TOPIC_COLORS)  # all six, each region keeping its own
    await seed(
        storage,
        headline("Tokyo and Paris sign a pact", ("Asia", "Europe"), n=1),
        headline("Markets everywhere", (), n=2),
        headline("Lima votes", ("Latin America",), n=3),
    )
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 4
    assert sorted(posts(fake)) == sorted(
        [
            (topics["Asia"], "Tokyo and Paris sign a pact"),
            (topics["Europe"], "Tokyo and Paris sign a pact"),
            (topics["World"], "Markets everywhere"),
            (topics["Latin America"], "Lima votes"),
        ]
    )
    # The group as a whole gets nothing besides: each headline once per region topic.
    assert all(thread for thread, _ in posts(fake))


async def test_topics_are_named_in_the_chat_language_and_made_once(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    await start_adapter()
    topics = await split_into_topics(fake, language="es")
    assert list(topics) == [display_name(r, "es") for r in REGIONS] + ["Mundo"]
    # Asking again makes nothing new: the topics it made are used again.
    assert "8" in await command(fake, "/subscribe topics", language="es")
    assert len(fake.topics[str(FORUM)]) == 8
    assert len(await storage.region_threads(ChatRef("telegram", str(FORUM)))) == 8


async def test_subscribe_topics_replaces_the_group_as_a_whole(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    fake.make_admin(FORUM, ADMIN)
    await command(fake, "/subscribe")
    topics = await split_into_topics(fake)
    await seed(storage, headline("Seoul story", ("Asia",), n=1))
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert posts(fake) == [(topics["Asia"], "Seoul story")]


async def test_unsubscribe_topics_stops_every_topic(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    await split_into_topics(fake)
    assert "8 region topics" in await command(fake, "/unsubscribe topics")
    await seed(storage, headline("Seoul story", ("Asia",), n=1))
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    assert posts(fake) == []
    assert "no region topics" in await command(fake, "/unsubscribe topics")


async def test_without_the_right_to_manage_topics_the_admin_is_told_what_to_do(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM, can_manage_topics=False)
    await start_adapter()
    fake.make_admin(FORUM, ADMIN)
    answer = await command(fake, "/subscribe topics")
    assert answer == (
        "I may not create topics here. Make me an administrator allowed to manage topics, "
        "then send /subscribe topics again."
    )
    assert "gestionar temas" in await command(fake, "/subscribe topics", language="es")
    assert fake.topics[str(FORUM)] == {}
    assert await storage.destinations() == []


async def test_a_group_without_topics_is_told_to_turn_them_on(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    await start_adapter()
    fake.make_admin(-100555, ADMIN)
    await fake.group_command("/subscribe topics", -100555, ADMIN, supergroup=True)
    [answer] = await fake.wait_messages(-100555)
    assert answer.text.startswith("This group has no topics.")
    assert fake.called("createForumTopic") == []


async def test_a_member_may_not_split_the_group(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    await start_adapter()
    await fake.group_command("/subscribe topics", FORUM, 7, supergroup=True)
    [answer] = await fake.wait_messages(FORUM)
    assert "only administrators" in answer.text
    assert fake.called("createForumTopic") == []


# -- one region in a topic ---------------------------------------------------------------


async def test_subscribe_a_region_inside_a_topic(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    thread = fake.add_topic(FORUM, "Asia desk")
    adapter = await start_adapter()
    fake.make_admin(FORUM, ADMIN)
    answer = await command(fake, "/subscribe Asia", thread=thread)
    assert answer == "Subscribed: this chat will receive new headlines from Asia."
    assert fake.messages(FORUM)[-1].thread_id == thread  # answered in the topic
    await seed(storage, headline("Seoul story", ("Asia",), n=1), headline("Oslo", ("Europe",)))
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    assert posts(fake) == [(thread, "Seoul story")]
    # /latest inside the topic answers there, as text.
    await command(fake, "/latest", thread=thread)
    latest = fake.messages(FORUM)[-1]
    assert latest.thread_id == thread and latest.photo == ""


async def test_a_deleted_region_topic_is_made_again_and_gets_what_it_was_owed(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    topics = await split_into_topics(fake)
    fake.delete_topic(FORUM, topics["Asia"])
    await seed(storage, headline("Seoul story", ("Asia",), n=1))

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 1
    again = fake.topic_named(FORUM, "Asia")
    assert again != topics["Asia"]
    assert posts(fake) == [(again, "Seoul story")]
    [asia] = [d for d in await storage.destinations() if d.regions == ("Asia",)]
    assert asia.active and asia.chat.thread_id == again


async def test_a_deleted_topic_that_cannot_be_made_again_is_deactivated_once(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    topics = await split_into_topics(fake)
    fake.delete_topic(FORUM, topics["Asia"])
    fake.make_forum(FORUM, can_manage_topics=False)  # the bot lost the right meanwhile
    await seed(storage, headline("Seoul story", ("Asia",), n=1), headline("Busan", n=2))

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    [asia] = [d for d in await storage.destinations() if d.regions == ("Asia",)]
    reason = asia.inactive_reason.lower()
    assert not asia.active and "message thread not found" in reason
    assert "not enough rights" in reason
    sends = [c for c in fake.called("sendMessage") if c.get("message_thread_id")]
    assert len(sends) == 1  # one refusal, no loop
    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0


async def test_a_deleted_topic_someone_else_made_stops_its_subscription(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    thread = fake.add_topic(FORUM, "Asia desk")
    adapter = await start_adapter()
    fake.make_admin(FORUM, ADMIN)
    await command(fake, "/subscribe Asia", thread=thread)
    fake.delete_topic(FORUM, thread)
    await seed(storage, headline("Seoul story", ("Asia",), n=1))

    assert await Outbox(storage, {"telegram": adapter}).deliver_due() == 0
    gone = await storage.destination(ChatRef("telegram", str(FORUM), thread_id=thread))
    assert gone is not None and not gone.active
    assert fake.called("createForumTopic") == []  # not ours to make again


async def test_a_closed_topic_skips_what_it_is_owed_and_receives_again_once_reopened(
    fake: FakeTelegram, storage: Storage, start_adapter: Start
) -> None:
    fake.make_forum(FORUM)
    adapter = await start_adapter()
    topics = await split_into_topics(fake)
    fake.close_topic(FORUM, topics["Asia"])
    await seed(storage, *(headline(f"Closed {i}", ("Asia",), n=i) for i in range(3)))
    outbox = Outbox(storage, {"telegram": adapter})

    assert await outbox.deliver_due() == 0
    assert [code for _, code, _ in fake.rejected] == [400]  # one try, not one per headline
    [asia] = [d for d in await storage.destinations() if d.regions == ("Asia",)]
    assert asia.active
    assert {s for _, s, _ in await storage.deliveries_for(asia)} == {"failed"}
    assert await outbox.deliver_due() == 0 and len(fake.rejected) == 1

    fake.close_topic(FORUM, topics["Asia"], closed=False)
    await storage.add_headlines(FEED.name, [headline("Reopened", ("Asia",), n=9)])
    assert await outbox.deliver_due() == 1
    assert posts(fake) == [(topics["Asia"], "Reopened")]


async def test_topics_share_the_groups_minute(storage: Storage) -> None:
    # Two messages per 0.3 s into the group, on both sides: six headlines into three
    # topics pass without a 429 only if every topic counts in the group's one window.
    server = FakeLimits(total=30, total_period=0.05, group=2, group_period=0.3)
    paced = RateLimits(total=30, total_period=0.05, group=2, group_period=0.3)
    async with FakeTelegram(limits=server) as fake:
        fake.make_forum(FORUM)
        threads = [fake.add_topic(FORUM, name) for name in ("A", "B", "C")]
        for thread, region in zip(threads, ("Asia", "Europe", "Africa"), strict=True):
            await storage.subscribe(
                ChatRef("telegram", str(FORUM), "group", thread_id=thread), [region]
            )
        await seed(
            storage,
            *(
                headline(f"{region} {i}", (region,), n=i)
                for i in range(2)
                for region in ("Asia", "Europe", "Africa")
            ),
        )
        adapter = TelegramAdapter(TelegramConfig(token=TOKEN, api_base_url=fake.url), limits=paced)
        await adapter.start(Commands(storage).handle)
        try:
            assert await Outbox(storage, {"telegram": adapter}, batch=1).deliver_due() == 6
        finally:
            await adapter.stop()
    assert fake.too_many == 0 and fake.rejected == []
    assert sorted(m.thread_id for m in fake.sent) == sorted(threads * 2)


# -- pictures ------------------------------------------------------------------------------
# The adapter is handed headlines that carry a picture, as the outbox hands them over once
# the store keeps each headline's picture.

PRIVATE = ChatRef("telegram", "1001", "private")


async def test_a_picture_shows_as_a_large_preview_above_the_text_by_default(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    adapter = await start_adapter()
    await adapter.send(PRIVATE, [headline("With picture", image=PICTURE, n=1)], "en")
    await adapter.send(PRIVATE, [headline("Without", n=2)], "en")
    first, second = fake.sent
    assert first.params["link_preview_options"] == {
        "url": PICTURE,
        "prefer_large_media": True,
        "show_above_text": True,
    }
    assert first.styled("bold") == ["With picture"]
    assert second.params["link_preview_options"] == {"is_disabled": True}
    assert fake.called("sendPhoto") == []


async def test_a_picture_goes_to_the_topic_too(fake: FakeTelegram, start_adapter: Start) -> None:
    fake.make_forum(FORUM)
    thread = fake.add_topic(FORUM, "Asia")
    adapter = await start_adapter(images="photo")
    topic = ChatRef("telegram", str(FORUM), "group", thread_id=thread)
    await adapter.send(topic, [headline("With picture", image=PICTURE)], "en")
    [message] = fake.sent
    assert (message.thread_id, message.photo) == (thread, PICTURE)


async def test_a_packed_message_shows_no_picture(fake: FakeTelegram, start_adapter: Start) -> None:
    adapter = await start_adapter(RateLimits(total_period=0.01, group=1, group_period=60.0))
    group = ChatRef("telegram", "-1001234", "group")
    items = [headline(f"Story {i}", image=PICTURE, n=i) for i in range(3)]
    # One place left in the group's minute for three headlines: packed into one message.
    sent = await adapter.send(group, items, "en")
    assert sent.count == 3
    [packed] = fake.sent
    assert packed.styled("bold") == ["Story 0", "Story 1", "Story 2"]
    assert packed.params["link_preview_options"] == {"is_disabled": True}


async def test_photo_mode_sends_the_picture_with_the_post_as_caption(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    adapter = await start_adapter(images="photo")
    item = headline("With picture", image=PICTURE, n=1)
    sent = await adapter.send(PRIVATE, [item, headline("Next", n=2)], "en")
    [message] = fake.sent
    assert sent.count == 1 and sent.message_id == str(message.message_id)
    assert message.photo == PICTURE
    assert message.text == "With picture\nA short summary.\n#Asia\nSource: World"
    assert message.styled("bold") == ["With picture"] and message.links() == [item.link]


async def test_a_caption_over_1024_characters_is_cut_at_a_word_keeping_the_link(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    adapter = await start_adapter(images="photo")
    # As plain text (Telegram refused the markup) the link is a line of its own, and a
    # long one leaves less room than the summary needs.
    link = "https://news.example/" + "a" * 480
    title = "A long title " * 22  # 286 characters, within a post's 300
    item = headline(title, image=PICTURE, link=link, summary="word " * 60 + "END")
    assert len(post(item, "en").plain) > MAX_CAPTION  # too long as a caption, whole
    fake.reject_entities("1001")
    await adapter.send(PRIVATE, [item], "en")
    [message] = fake.sent
    assert message.photo == PICTURE and message.parse_mode == ""
    lines = message.text.splitlines()
    assert lines[:2] == [title.strip(), link]
    assert lines[2].endswith("word…") and "END" not in message.text
    assert len(message.text) <= MAX_CAPTION


def test_a_caption_cuts_the_summary_then_the_title() -> None:
    item = headline("T " * 200, ("Asia",), summary="s " * 200)
    text = post(item, "en", 120)
    lines = text.plain.splitlines()
    assert len(text.plain) <= 120 and lines[-2:] == ["#Asia", "Source: World"]
    assert lines[1] == item.link  # kept, whatever was cut
    assert "s s" not in text.plain  # no room for a summary worth reading: left out


async def test_a_picture_telegram_cannot_fetch_goes_out_as_text(
    fake: FakeTelegram, start_adapter: Start
) -> None:
    adapter = await start_adapter(images="photo")
    fake.unfetchable.add(PICTURE)
    sent = await adapter.send(PRIVATE, [headline("With picture", image=PICTURE, n=1)], "en")
    assert [(code, text) for _, code, text in fake.rejected] == [
        (400, "Bad Request: wrong file identifier/HTTP URL specified")
    ]
    [message] = fake.sent
    assert message.photo == "" and message.styled("bold") == ["With picture"]
    assert sent.message_id == str(message.message_id)


async def test_images_off_sends_text_as_before(fake: FakeTelegram, start_adapter: Start) -> None:
    adapter = await start_adapter(images="off")
    await adapter.send(PRIVATE, [headline("With picture", image=PICTURE, n=1)], "en")
    [message] = fake.sent
    assert message.photo == "" and message.params["link_preview_options"] == {"is_disabled": True}


async def test_a_config_destination_with_topics_is_split_at_start_once(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    fake.make_forum(FORUM)
    config = parse_config(
        {
            "database": str(tmp_path / "bot.db"),
            "language": "es",
            "feeds": [{"name": "World", "url": "http://127.0.0.1:1/feed"}],
            "telegram": {
                "token": TOKEN,
                "api_base_url": fake.url,
                "destinations": [{"chat": str(FORUM), "topics": True}],
            },
        },
        platforms=section_parsers(),
    )
    section = config.platforms["telegram"]
    assert isinstance(section, TelegramConfig)
    for _ in range(2):  # started twice: the second start makes nothing new
        bot = HeadlinesBot(config, [TelegramAdapter(section, limits=QUICK)])
        await bot.open()
        try:
            await bot.connect()
            await bot.split_configured_chats()
            threads = await bot.storage.region_threads(ChatRef("telegram", str(FORUM)))
        finally:
            await bot.stop()
        assert len(threads) == 8 and all(d.active for d in threads.values())
    names = [topic.name for topic in fake.topics[str(FORUM)].values()]
    assert names == [display_name(r, "es") for r in REGIONS] + ["Mundo"]
