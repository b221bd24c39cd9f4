"""The delivery plan, as pure functions: who is owed which new headline, and when."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.models import ChatRef, Destination, Headline
from bot.outbox.plan import (
    TITLE_DEDUP_SECONDS,
    Listed,
    ids_changed,
    owed,
    schedule,
    title_key,
    wants,
)
from tests.store.test_storage import NOW
from tests.store.test_storage import headline as stored_headline


def headline(
    n: int, title: str = "", regions: tuple[str, ...] = (), feed: str = "World"
) -> Headline:
    """The stored headline of test_storage's entry `n`, of `feed`."""
    return replace(stored_headline(n, title, regions), feed=feed, id=n + 1)


def chat(
    n: int, regions: tuple[str, ...] = (), feeds: tuple[str, ...] = (), active: bool = True
) -> Destination:
    return Destination(n, ChatRef("fake", str(n)), regions, feeds, active=active)


def ids(headlines: list[Headline]) -> list[int]:
    return [int(h.entry_id.removeprefix("id-")) for h in headlines]


def owed_of(new: list[Headline], **changes: object) -> list[Headline]:
    args: dict[str, object] = {
        "initialized": True,
        "backfill": 0,
        "max_age": 0.0,
        "recent_titles": {},
        "now": NOW,
    }
    return owed(new, **(args | changes))  # type: ignore[arg-type]


# -- owed: which new headlines are posted at all --------------------------------------


@pytest.mark.parametrize(
    ("backfill", "posted"),
    [
        (0, []),
        (3, [6, 7, 8]),
        (9, list(range(9))),  # as many as the feed lists
        (12, list(range(9))),  # more: issue 14 posted only the newest 3 (9 - 12 = -3)
    ],
)
def test_a_first_poll_posts_the_newest_backfill_or_all_when_the_feed_has_fewer(
    backfill: int, posted: list[int]
) -> None:
    new = [headline(n) for n in reversed(range(9))]  # feeds list the newest first
    assert ids(owed_of(new, initialized=False, backfill=backfill)) == posted


def test_a_first_poll_ignores_age_and_repeated_titles() -> None:
    new = [headline(n) for n in range(3)]
    recent = {title_key(h.title): NOW for h in new}
    posted = owed_of(new, initialized=False, backfill=3, max_age=1.0, recent_titles=recent)
    assert ids(posted) == [0, 1, 2]


def test_later_polls_post_every_new_entry_oldest_first() -> None:
    new = [headline(2), headline(0), headline(1)]
    assert ids(owed_of(new)) == [0, 1, 2]


def test_entries_older_than_max_age_are_not_posted() -> None:
    new = [headline(n) for n in range(0, 60, 10)]  # published 60..10 minutes before NOW
    assert ids(owed_of(new, max_age=30 * 60)) == [30, 40, 50]
    assert ids(owed_of(new, max_age=0)) == [0, 10, 20, 30, 40, 50]


def test_a_title_the_feed_had_within_the_window_is_not_posted_again() -> None:
    again = headline(1, "Chile: pension reform APPROVED!")
    fresh = headline(2, "Chile: pension reform fails")
    key = title_key("Chile: pension reform approved")
    assert key == title_key(again.title)
    inside = {key: NOW - TITLE_DEDUP_SECONDS + 1}
    outside = {key: NOW - TITLE_DEDUP_SECONDS}
    assert ids(owed_of([again, fresh], recent_titles=inside)) == [2]
    assert ids(owed_of([again, fresh], recent_titles=outside)) == [1, 2]


def test_titles_without_words_are_never_repeats() -> None:
    assert title_key("!!! ...") == ""
    assert ids(owed_of([headline(1, "!!! ...")], recent_titles={"": NOW})) == [1]


# -- schedule: to whom, and when -----------------------------------------------------


def test_a_burst_goes_out_max_per_poll_at_a_time() -> None:
    planned = schedule(
        [headline(n) for n in range(5)],
        [chat(1)],
        waiting={},
        now=NOW,
        max_per_poll=2,
        release_every=600,
    )
    assert [(p.headline.id, p.due - NOW) for p in planned] == [
        (1, 0),
        (2, 0),
        (3, 600),
        (4, 600),
        (5, 1200),
    ]


def test_a_burst_over_several_polls_queues_behind_what_is_still_owed() -> None:
    # Chat 1 is owed 3 of this feed's entries from earlier polls: with 2 a batch, the
    # first new one shares the second batch; chat 2 is owed nothing.
    planned = schedule(
        [headline(n) for n in range(3)],
        [chat(1), chat(2)],
        waiting={1: 3, 7: 50},
        now=NOW,
        max_per_poll=2,
        release_every=600,
    )
    due = {(p.destination.id, p.headline.id): p.due - NOW for p in planned}
    assert due == {
        (1, 1): 600,
        (1, 2): 1200,
        (1, 3): 1200,
        (2, 1): 0,
        (2, 2): 0,
        (2, 3): 600,
    }


def test_region_and_feed_filters_choose_destinations() -> None:
    asia = headline(1, regions=("Asia",))
    both = headline(2, regions=("Europe", "Middle East"))
    world = headline(3)
    sport = headline(4, regions=("Asia",), feed="Sport")
    chats = [
        chat(1),
        chat(2, regions=("Asia",)),
        chat(3, regions=("Middle East", "Africa")),
        chat(4, feeds=("Sport",)),
        chat(5, regions=("Asia",), feeds=("World",)),
        chat(6, active=False),
    ]
    planned = schedule(
        [asia, both, world, sport],
        chats,
        waiting={},
        now=NOW,
        max_per_poll=20,
        release_every=600,
    )
    got: dict[int, list[int]] = {}
    for p in planned:
        got.setdefault(p.destination.id, []).append(p.headline.id)
    assert got == {1: [2, 3, 4, 5], 2: [2, 5], 3: [3], 4: [5], 5: [2]}


def test_wants_reads_an_empty_filter_as_everything() -> None:
    assert wants(chat(1), headline(1))
    assert not wants(chat(1, regions=("Asia",)), headline(1))
    assert not wants(chat(1, feeds=("Sport",)), headline(1, regions=("Asia",)))


def test_keywords_and_regions_must_both_pass() -> None:
    strike = headline(1, "Huelga general en Bogotá", ("Latin America",))
    football = headline(2, "Strike called off before the football final", ("Europe",))
    quiet = headline(3, "Markets calm in Tokyo", ("Asia",))
    latam_strikes = replace(
        chat(1, regions=("Latin America", "Europe")), include=("huelga", "strike")
    )
    no_football = replace(chat(2), exclude=("football",))
    planned = schedule(
        [strike, football, quiet],
        [latam_strikes, no_football],
        waiting={},
        now=NOW,
        max_per_poll=20,
        release_every=600,
    )
    got: dict[int, list[int]] = {}
    for p in planned:
        got.setdefault(p.destination.id, []).append(p.headline.id)
    assert got == {1: [strike.id, football.id], 2: [strike.id, quiet.id]}
    # The region rule alone would let a headline through that the keywords stop.
    assert not wants(replace(chat(3, regions=("Asia",)), include=("strike",)), quiet)


@given(
    owed_before=st.integers(0, 40),
    count=st.integers(0, 40),
    max_per_poll=st.integers(1, 10),
)
def test_no_release_holds_more_than_max_per_poll_and_the_order_is_kept(
    owed_before: int, count: int, max_per_poll: int
) -> None:
    """Whatever the burst and what is still owed, each release (of earlier and new
    deliveries together) holds at most `max_per_poll`, with no gap, oldest first."""
    planned = schedule(
        [headline(n) for n in range(count)],
        [chat(1)],
        waiting={1: owed_before},
        now=NOW,
        max_per_poll=max_per_poll,
        release_every=600,
    )
    slots = [int((p.due - NOW) // 600) for p in planned]
    assert [p.headline.id for p in planned] == list(range(1, count + 1))
    assert slots == sorted(slots)
    # What was owed before went out the same way, from the first release on.
    releases = [i // max_per_poll for i in range(owed_before)] + slots
    for release in set(releases):
        assert releases.count(release) <= max_per_poll
    assert set(releases) == set(range(len(set(releases))))  # no empty release in between


@given(
    listed=st.lists(st.integers(0, 10_000), unique=True, max_size=30),
    backfill=st.integers(0, 50),
)
def test_a_first_poll_posts_the_newest_backfill_of_any_feed(
    listed: list[int], backfill: int
) -> None:
    posted = ids(owed_of([headline(n) for n in listed], initialized=False, backfill=backfill))
    assert posted == sorted(listed)[len(listed) - min(backfill, len(listed)) :]


# -- a publisher that changed its ids, told apart from a burst of real news ----------------


def listing(headlines: list[Headline]) -> list[Listed]:
    return [Listed(h.entry_id, title_key(h.title), h.link) for h in headlines]


def renamed(headlines: list[Headline], **changes: str) -> list[Headline]:
    return [replace(h, entry_id=f"cms2-{h.entry_id}", **changes) for h in headlines]


def test_new_ids_for_the_same_links_or_titles_in_place_of_the_old_are_a_changed_ids() -> None:
    old = [headline(n) for n in range(10)]
    same_links = renamed(old)
    assert ids_changed(10, same_links, listing(old), known=set())
    same_titles = [replace(h, link=f"https://cms2.example/{h.id}") for h in renamed(old)]
    assert ids_changed(10, same_titles, listing(old), known=set())


def test_a_burst_of_real_news_is_not_held() -> None:
    old = [headline(n) for n in range(10)]
    news = [headline(n, title=f"Story number {n}") for n in range(100, 110)]
    news = [replace(h, link=f"https://news.example/new/{h.entry_id}") for h in news]
    # It pushed every old entry out of the listing: still other titles and links.
    assert not ids_changed(10, news, listing(old), known=set())
    # It added entries while the old stay listed.
    assert not ids_changed(20, renamed(old), listing(old), known={h.entry_id for h in old})


def test_too_few_entries_or_a_first_listing_say_nothing() -> None:
    old = [headline(n) for n in range(3)]
    assert not ids_changed(3, renamed(old), listing(old), known=set())
    assert not ids_changed(10, renamed([headline(n) for n in range(10)]), [], known=set())
