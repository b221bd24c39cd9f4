"""Commands as a user sends them, through a fake adapter into the real core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.console import format_post, format_reply
from bot.chat.commands import MAX_ARGS_CHARS, Commands, parse_regions
from bot.chat.i18n import region_hashtags, region_labels
from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Command, Headline, Reply
from bot.regions import names as regions
from bot.regions.names import find_region, suggest_region
from bot.store import Storage
from testing.fake_adapter import FakeAdapter

NOW = datetime.now(UTC)


def headline(n: int, title: str, regions: tuple[str, ...] = ()) -> Headline:
    return Headline(
        feed="World",
        entry_id=str(n),
        title=title,
        link=f"https://example.org/{n}",
        summary="",
        published=NOW - timedelta(hours=n),
        regions=regions,
    )


@pytest.fixture
async def chat(storage: Storage) -> AsyncIterator[FakeAdapter]:
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines(
        "World",
        [
            headline(1, "Pakistan: protests against electricity prices", ("Asia",)),
            headline(2, "Chile: pension reform approved", ("Latin America",)),
            headline(3, "UN climate talks close", ()),
            headline(4, "Japan: stimulus package announced", ("Asia",)),
            headline(5, "Iraq and Turkey: pipeline reopens", ("Middle East", "Europe")),
        ],
    )
    adapter = FakeAdapter()
    await adapter.start(Commands(storage, ("World",)).handle)
    yield adapter


async def test_latest_defaults_to_five_newest(chat: FakeAdapter) -> None:
    reply = await chat.command("/latest")
    assert [h.entry_id for h in reply.headlines] == ["1", "2", "3", "4", "5"]
    assert reply.title == "Latest headlines" and not reply.error


async def test_latest_with_count_and_region_in_any_order(chat: FakeAdapter) -> None:
    assert [h.entry_id for h in (await chat.command("/latest 2")).headlines] == ["1", "2"]
    reply = await chat.command("/latest asia 1")
    assert [h.entry_id for h in reply.headlines] == ["1"]
    reply = await chat.command("/latest 3 Latin America")
    assert [h.entry_id for h in reply.headlines] == ["2"]


@pytest.mark.parametrize("count", ["0", "21", "-3", "2.5"])
async def test_latest_bad_count_is_explained(chat: FakeAdapter, count: str) -> None:
    reply = await chat.command(f"/latest {count}")
    assert reply.error and reply.text.startswith(f"'{count}' is not a count")
    assert "1 to 20" in reply.text


async def test_unknown_region_suggests_the_closest(chat: FakeAdapter) -> None:
    reply = await chat.command("/region Asai")
    assert reply.error
    assert reply.text.startswith("Unknown region 'Asai'. Did you mean Asia?")
    assert "Latin America" in reply.text


async def test_region_names_and_aliases_in_both_languages(chat: FakeAdapter) -> None:
    for name in ("asia", "ASIA", "latam", "América Latina", "mideast", "Oriente Medio"):
        reply = await chat.command(f"/region {name}")
        assert not reply.error and reply.headlines, name
    reply = await chat.command("/region Oriente Medio", lang="es")
    assert reply.title == "Últimos titulares: Oriente Medio"


@pytest.mark.parametrize(("text", "lang"), [("/region world", ""), ("/latest 3 mundo", "es")])
async def test_world_means_headlines_with_no_region(
    chat: FakeAdapter, text: str, lang: str
) -> None:
    reply = await chat.command(text, lang=lang)
    assert not reply.error
    assert [h.entry_id for h in reply.headlines] == ["3"]
    assert reply.title == ("Últimos titulares: Mundo" if lang else "Latest headlines: World")


async def test_world_is_no_region_to_subscribe_to(chat: FakeAdapter, storage: Storage) -> None:
    reply = await chat.command("/subscribe world", chat="g3")
    assert reply.error and "cannot be subscribed to on its own" in reply.text
    assert await storage.destination(ChatRef("fake", "g3")) is None


def test_a_region_named_in_a_longer_name_is_suggested() -> None:
    assert suggest_region("Africa subsahariana") == "Africa"
    assert suggest_region("news from Oceanía") == "Oceania"
    assert suggest_region("Eurpoe") == "Europe"


# A legal Telegram message of one-letter words: the most words 4096 characters can hold.
HOSTILE = " ".join(["x"] * 2048)[:4096]


@pytest.mark.parametrize(("name", "lang"), [("region", ""), ("latest", "es"), ("subscribe", "")])
async def test_a_maximal_argument_gets_a_clear_answer(
    chat: FakeAdapter, name: str, lang: str
) -> None:
    reply = await chat.command(f"/{name} {HOSTILE}", lang=lang)
    assert reply.error
    if lang == "es":
        assert reply.text.startswith(f"Es demasiado largo para /{name}: 4095 caracteres")
    else:
        assert reply.text.startswith(f"That is too long for /{name}: 4095 characters, at most")
    # the longest text still read gets the usual answer
    reply = await chat.command(f"/{name} {HOSTILE[:MAX_ARGS_CHARS]}")
    assert reply.error and reply.text.startswith("Unknown region 'x")


async def test_a_long_unknown_command_is_cut_when_echoed(chat: FakeAdapter) -> None:
    reply = await chat.command("/" + "z" * 4000)
    assert reply.error and reply.text == f"Unknown command /{'z' * 31}…. Send /help for the list."


def test_suggest_region_tries_a_few_phrases_per_word(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []

    def counting(name: str, *, world: bool = False) -> str | None:
        tried.append(name)
        return find_region(name, world=world)

    monkeypatch.setattr(regions, "find_region", counting)
    assert suggest_region(HOSTILE) is None
    words = len(HOSTILE.split())
    assert len(tried) <= regions.MAX_NAME_WORDS * words  # every run of words: 2 million
    tried.clear()
    assert suggest_region(HOSTILE[:-8] + " Oceanía") == "Oceania"
    assert len(tried) <= regions.MAX_NAME_WORDS * words


async def test_region_lists_counts_and_this_chats_filter(chat: FakeAdapter) -> None:
    reply = await chat.command("/region")
    assert "Asia: 2" in reply.text and "World (no region): 1" in reply.text
    assert "not subscribed" in reply.text
    await chat.command("/subscribe asia, europe")
    reply = await chat.command("/region")
    assert "This chat receives: Asia, Europe." in reply.text


async def test_subscribe_and_unsubscribe(chat: FakeAdapter, storage: Storage) -> None:
    reply = await chat.command("/subscribe Latin America Middle East", chat="g1")
    assert reply.text == (
        "Subscribed: this chat will receive new headlines from Latin America, Middle East."
    )
    destination = await storage.destination(ChatRef("fake", "g1"))
    assert destination is not None and destination.regions == ("Latin America", "Middle East")
    assert (await chat.command("/unsubscribe", chat="g1")).text.startswith("Unsubscribed")
    destination = await storage.destination(ChatRef("fake", "g1"))
    assert destination is not None and not destination.active
    assert (await chat.command("/unsubscribe", chat="g1")).text == "This chat was not subscribed."


async def test_only_admins_may_change_a_chat(chat: FakeAdapter, storage: Storage) -> None:
    reply = await chat.command("/subscribe", chat="g2", admin=False)
    assert reply.error and "only administrators" in reply.text
    assert await storage.destination(ChatRef("fake", "g2")) is None


async def test_spanish_speakers_get_spanish(chat: FakeAdapter) -> None:
    reply = await chat.command("/subscribe", lang="es-MX")
    assert reply.text == "Suscrito: este chat recibirá los titulares nuevos de todas las regiones."
    assert (await chat.command("/help", lang="es")).text.startswith("Publico los titulares")


async def test_unknown_command_and_help(chat: FakeAdapter) -> None:
    reply = await chat.command("/frobnicate")
    assert reply.error and "/help" in reply.text
    assert "/latest [n] [region]" in (await chat.command("/help")).text
    assert (await chat.command("/start")).text.startswith("Hello!")


async def test_empty_archive_says_so(storage: Storage) -> None:
    adapter = FakeAdapter()
    await adapter.start(Commands(storage).handle)
    reply = await adapter.command("/latest")
    assert reply.headlines == () and reply.text.startswith("No headlines yet")


def test_parse_regions_takes_the_longest_name() -> None:
    assert parse_regions(["north", "america", "europa"]) == ["North America", "Europe"]
    assert parse_regions(["América", "Latina,", "Oceanía"]) == ["Latin America", "Oceania"]


async def test_a_channel_configured_by_username_is_one_destination(storage: Storage) -> None:
    await storage.sync_destinations("fake", [DestinationConfig("@World_News", ("Asia",))])
    adapter = FakeAdapter()
    await adapter.start(Commands(storage).handle)
    assert adapter.on_command is not None
    channel = ChatRef("fake", "-1001234", "channel", "World news", username="world_news")
    reply = await adapter.on_command(Command("subscribe", ("europe",), channel, True))
    assert not reply.error
    [destination] = await storage.destinations()
    assert destination.chat.chat_id == "-1001234" and destination.regions == ("Europe",)


TABLES = ("feeds", "headlines", "headline_regions", "region_hours", "destinations")
TABLES += ("deliveries", "delivery_totals")


async def dump(storage: Storage) -> list[tuple[object, ...]]:
    """Every row of every table, in order: what a write would change."""
    return [
        (table, *row)
        for table in TABLES
        for row in sorted(tuple(r) for r in await storage._fetchall(f"SELECT * FROM {table}", ()))
    ]


async def test_reads_from_a_channel_configured_by_username_leave_the_database_alone(
    storage: Storage, tmp_path: Path
) -> None:
    """/help used to merge the @name destination into the chat's id first: every command
    wrote. Only /subscribe (or a reported move) merges now; the reads find the @name row
    without writing, and answer with its settings."""
    await storage.sync_feeds([FeedConfig("World", "https://example.org/rss", 600)])
    await storage.add_headlines("World", [headline(1, "Japan: stimulus", ("Asia",))])
    await storage.sync_destinations("fake", [DestinationConfig("@World_News", ("Asia",), (), "es")])
    adapter = FakeAdapter()
    await adapter.start(Commands(storage, ("World",)).handle)
    assert adapter.on_command is not None
    channel = ChatRef("fake", "-1001234", "channel", "World news", username="world_news")
    before = await dump(storage)

    replies = {
        name: await adapter.on_command(Command(name, args, channel, True))
        for name, args in [("help", ()), ("start", ()), ("latest", ("2",)), ("region", ())]
    }
    await adapter.on_command(Command("nonsense", (), channel, True))

    assert await dump(storage) == before
    assert all(r.language == "es" and not r.error for r in replies.values())
    assert "Este chat recibe: Asia." in replies["region"].text
    [destination] = await storage.destinations()
    assert destination.chat.chat_id == "@World_News"

    await adapter.on_command(Command("unsubscribe", (), channel, True))
    [destination] = await storage.destinations()
    assert destination.chat.chat_id == "-1001234" and not destination.active


# --- region labels and hashtags for adapters ------------------------------------------


def test_region_labels_in_both_languages_and_world_news() -> None:
    assert region_labels(("Latin America", "Middle East"), "en") == [
        "Latin America",
        "Middle East",
    ]
    assert region_labels(("Latin America", "Middle East"), "es") == [
        "América Latina",
        "Oriente Medio",
    ]
    assert region_labels((), "en") == ["World"]
    assert region_labels((), "es") == ["Mundo"]


def test_region_hashtags_keep_accents_and_lose_spaces() -> None:
    assert region_hashtags(("Latin America", "Middle East"), "en") == "#LatinAmerica #MiddleEast"
    regions = ("Africa", "Latin America", "Middle East", "North America", "Oceania")
    assert region_hashtags(regions, "es") == (
        "#África #AméricaLatina #OrienteMedio #Norteamérica #Oceanía"
    )
    assert region_hashtags((), "en") == "#World"
    assert region_hashtags((), "es") == "#Mundo"


def test_console_posts_and_lists_show_regions_and_world_news() -> None:
    world, latam = headline(3, "UN climate talks close"), headline(2, "Chile", ("Latin America",))
    assert format_post(world, "es").endswith(" #Mundo")
    assert format_post(latam, "en").endswith(" #LatinAmerica")
    listing = format_reply(Reply(title="Últimos", headlines=(latam, world), language="es"))
    assert "- Chile #AméricaLatina" in listing
    assert "- UN climate talks close #Mundo" in listing
