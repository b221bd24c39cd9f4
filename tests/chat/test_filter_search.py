"""/filter and /search as a user sends them, through a fake adapter into the real core and
a real SQLite file; the full-text index kept in step with the archive."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import filters
from bot.chat.commands import Commands
from bot.config import DestinationConfig, FeedConfig
from bot.models import ChatRef, Headline
from bot.outbox.sender import Outbox
from bot.store import MIGRATIONS, Storage
from testing.fake_adapter import FakeAdapter

NOW = datetime.now(UTC)
FEED = FeedConfig("World", "https://example.org/rss", 600)


def headline(
    n: int, title: str, regions: tuple[str, ...] = (), summary: str = "", hours: float = 0
) -> Headline:
    return Headline(
        feed="World",
        entry_id=str(n),
        title=title,
        link=f"https://example.org/{n}",
        summary=summary,
        published=NOW - timedelta(hours=hours or n),
        categories=("Economía",) if n == 4 else (),
        regions=regions,
    )


ARCHIVE = [
    headline(1, "Huelga general en Bogotá", ("Latin America",)),
    headline(2, "General strike closes ports in Chile", ("Latin America",)),
    headline(3, "Strike talks resume in Madrid", ("Europe",), summary="Unions and the ministry"),
    headline(4, "Bolsa: los mercados caen", ()),
    headline(5, "Striker scores twice in the final", ("Europe",)),
    headline(6, "A general view: strike action spreads", ("Asia",)),
]


@pytest.fixture
async def chat(storage: Storage) -> AsyncIterator[FakeAdapter]:
    await storage.sync_feeds([FEED])
    await storage.add_headlines("World", ARCHIVE)
    adapter = FakeAdapter()
    await adapter.start(Commands(storage, ("World",)).handle)
    yield adapter


# -- /filter ---------------------------------------------------------------------------


async def test_filter_shows_sets_and_clears_privately(chat: FakeAdapter, storage: Storage) -> None:
    refused = await chat.command("/filter +strike")
    assert refused.error and refused.text.startswith("This chat is not subscribed")
    await chat.command("/subscribe")
    shown = await chat.command("/filter")
    assert shown.private and shown.text.startswith("This chat has no keyword filter")

    saved = await chat.command('/filter +strike +Huelga -football "general strike"')
    assert saved.private and not saved.error
    assert saved.text.splitlines()[0] == (
        'Filter saved: +strike +huelga +"general strike" -football'
    )
    destination = await storage.destination(ChatRef("fake", "1"))
    assert destination is not None
    assert destination.include == ("strike", "huelga", "general strike")
    assert destination.exclude == ("football",)
    assert (await chat.command("/filter")).text.startswith(
        'This chat\'s keyword filter: +strike +huelga +"general strike" -football'
    )
    moved = await chat.command("/filter -strike", lang="es")
    assert moved.text.startswith('Filtro guardado: +huelga +"general strike" -football -strike')
    assert (await chat.command("/filter clear huelga")).text.startswith(
        'Filter saved: +"general strike" -football -strike'
    )
    cleared = await chat.command("/filter clear")
    assert cleared.private and cleared.text.startswith("Filter removed")
    destination = await storage.destination(ChatRef("fake", "1"))
    assert destination is not None and destination.include == destination.exclude == ()


async def test_filter_is_for_admins_and_its_errors_are_explained(chat: FakeAdapter) -> None:
    await chat.command("/subscribe")
    refused = await chat.command("/filter +strike", admin=False)
    assert refused.error and refused.text.startswith("Sorry, only administrators")
    too_long = await chat.command("/filter +" + "x" * 70, lang="es")
    assert too_long.error and "demasiado largo" in too_long.text and "60" in too_long.text
    assert (await chat.command("/filter +¿?")).text.startswith("'¿?' has no word to match")
    for start in range(0, filters.MAX_TERMS, 25):
        words = " ".join(f"+w{i}" for i in range(start, start + 25))
        assert not (await chat.command(f"/filter {words}")).error
    full = await chat.command("/filter -one")
    assert full.error and "at most 50 words and phrases" in full.text
    shown = await chat.command("/filter")
    first_line = shown.text.splitlines()[0]
    assert first_line.count(" +w") == filters.MAX_TERMS and "-one" not in first_line


async def test_a_filtered_chat_receives_only_matching_headlines(storage: Storage) -> None:
    await storage.sync_feeds([FEED])
    await storage.add_headlines("World", [], now=NOW.timestamp())  # the first poll
    await storage.sync_destinations(
        "fake",
        [
            DestinationConfig("cfg", regions=("Europe",), include=("strike",)),
            DestinationConfig("plain"),
        ],
    )
    adapter = FakeAdapter()
    commands = Commands(storage)
    await adapter.start(commands.handle)
    await adapter.command("/subscribe", chat="mine")
    await adapter.command('/filter +huelga +"general strike" -chile', chat="mine")
    await storage.add_headlines("World", ARCHIVE, now=NOW.timestamp())
    await Outbox(storage, {"fake": adapter}).deliver_due()
    assert adapter.titles("mine") == ["Huelga general en Bogotá"]
    assert adapter.titles("cfg") == ["Strike talks resume in Madrid"]
    assert len(adapter.titles("plain")) == len(ARCHIVE)


# -- /search ---------------------------------------------------------------------------


def titles(reply: object) -> list[str]:
    return [h.title for h in reply.headlines]  # type: ignore[attr-defined]


async def test_search_finds_whole_words_newest_first_without_accents(chat: FakeAdapter) -> None:
    reply = await chat.command("/search strike")
    assert titles(reply) == [
        "General strike closes ports in Chile",
        "Strike talks resume in Madrid",
        "A general view: strike action spreads",
    ]  # not "Striker"
    assert reply.title == "Search: strike" and not reply.error and not reply.private
    assert titles(await chat.command("/search BOGOTA")) == ["Huelga general en Bogotá"]
    assert titles(await chat.command("/search economia")) == ["Bolsa: los mercados caen"]
    assert titles(await chat.command("/search unions")) == ["Strike talks resume in Madrid"]


async def test_search_phrases_all_words_and_a_region(chat: FakeAdapter) -> None:
    both = await chat.command("/search general strike")
    assert titles(both) == [
        "General strike closes ports in Chile",
        "A general view: strike action spreads",
    ]
    phrase = await chat.command('/search "general strike"')
    assert titles(phrase) == ["General strike closes ports in Chile"]
    assert phrase.title == 'Search: "general strike"'
    europe = await chat.command("/search strike europe")
    assert titles(europe) == ["Strike talks resume in Madrid"]
    latam = await chat.command("/search general América Latina", lang="es")
    assert titles(latam) == ["Huelga general en Bogotá", "General strike closes ports in Chile"]
    assert latam.title == "Búsqueda: general (América Latina)"
    world = await chat.command("/search mercados world")
    assert titles(world) == ["Bolsa: los mercados caen"]
    # A region alone is searched as a word.
    assert (await chat.command("/search Chile")).headlines


async def test_search_with_nothing_found_says_what_to_try(chat: FakeAdapter) -> None:
    none = await chat.command("/search volcano")
    assert none.text == (
        "No headlines match volcano. Try fewer or other words, or /latest for the newest."
    )
    assert not none.headlines
    es = await chat.command("/search volcán asia", lang="es")
    assert es.text.startswith("Ningún titular coincide con volcan en Asia. Prueba con menos")
    empty = await chat.command("/search ***")
    assert empty.error and empty.text.startswith("Send /search with the words to find")


@pytest.mark.parametrize(
    "typed",
    [
        'strike NEAR(general "',
        "strike*",
        "title:strike",
        "(strike OR huelga)",
        'strike" OR "huelga',
        "^strike - NOT AND",
        '"""',
        "strike\x00",
    ],
)
async def test_search_syntax_from_a_user_is_only_words(chat: FakeAdapter, typed: str) -> None:
    reply = await chat.command(f"/search {typed}")
    # Never an FTS5 error: the words are looked for as words, operators included.
    found = [h.title for h in reply.headlines]
    assert all("trike" in t or "uelga" in t for t in found)
    assert not reply.error or reply.text.startswith("Send /search with the words")
    assert (await chat.command("/search strike")).headlines  # the bot goes on


async def test_search_returns_at_most_ten_of_the_newest(storage: Storage) -> None:
    await storage.sync_feeds([FEED])
    many = [headline(n, f"Storm warning {n}", hours=100 - n) for n in range(1, 31)]
    await storage.add_headlines("World", many)
    found = await storage.search(["storm"], None, 10)
    assert [h.title for h in found] == [f"Storm warning {n}" for n in range(30, 20, -1)]


async def test_a_common_word_and_a_rare_one_find_their_newest_alike(storage: Storage) -> None:
    # More matches than a search reads off the index first (PostgreSQL then reads the
    # archive newest first) and fewer (it sorts what the index gave): the same answer.
    await storage.sync_feeds([FEED])
    many = [
        headline(n, f"Storm warning {n}" + (" over the fjords" if n % 300 == 0 else ""))
        for n in range(1, 1201)
    ]
    await storage.add_headlines("World", many)
    common = await storage.search(["storm"], None, 10)
    assert [h.title for h in common] == [f"Storm warning {n}" for n in range(1, 11)]
    rare = await storage.search(["fjords"], None, 10)
    assert [h.entry_id for h in rare] == ["300", "600", "900", "1200"]
    assert await storage.search(["nowhere"], None, 10) == []


async def test_the_index_follows_what_is_added_and_forgotten(storage: Storage) -> None:
    await storage.sync_feeds([FEED])
    await storage.add_headlines("World", ARCHIVE, now=1000.0)
    await storage.add_headlines("World", [headline(9, "Huelga de taxis")], now=2000.0)
    assert len(await storage.search(["huelga"])) == 2
    assert await storage.forget(unseen_since=1500.0) == len(ARCHIVE)
    assert [h.title for h in await storage.search(["huelga"])] == ["Huelga de taxis"]
    assert await storage.search(["strike"]) == []


async def test_an_archive_from_before_search_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    search = next(i for i, script in enumerate(MIGRATIONS) if "headlines_search" in script)
    with sqlite3.connect(path) as db:  # as a bot of the version before made it
        for script in MIGRATIONS[:search]:
            db.executescript(script)
        db.execute(f"PRAGMA user_version = {search}")
        db.execute("INSERT INTO feeds (name, config_url, url) VALUES ('World', 'u', 'u')")
        for n, title in enumerate(["Huelga general en Bogotá", "Markets calm"]):
            db.execute(
                """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
                published, fetched, seen, categories, language, regions)
                VALUES (1, ?, '', ?, '', '', ?, 0, 0, '[]', 'es', '[]')""",
                (str(n), title, n),
            )
    storage = await Storage.open(path)
    try:
        assert [h.title for h in await storage.search(["bogota"])] == ["Huelga general en Bogotá"]
        await storage.add_headlines("World", [headline(7, "Huelga de taxis")])
        assert len(await storage.search(["huelga"])) == 2
    finally:
        await storage.close()


async def test_the_store_quotes_every_term_it_is_given(storage: Storage) -> None:
    await storage.sync_feeds([FEED])
    await storage.add_headlines("World", ARCHIVE)
    for terms in (['strike"', "NEAR("], ["*"], ['" OR "'], ["strike:", "^"]):
        await storage.search(terms)  # no FTS5 syntax error
    assert [h.entry_id for h in await storage.search(['strike"'])] == ["2", "3", "6"]
