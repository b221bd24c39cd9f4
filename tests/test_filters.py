"""Keyword filters (bot.filters): what /filter reads from what a user typed, and which
headlines a filter lets through; any input is read or refused with a reason, never an
exception of another kind, and matching does bounded work however hostile the text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import filters
from bot.filters import Change, FilterError, Text, apply, describe, parse, passes, split_terms
from bot.models import Headline


def text(title: str, summary: str = "", categories: tuple[str, ...] = ()) -> Text:
    return Text.of(
        Headline(
            "World", "1", title, "https://example.org/1", summary, datetime.now(UTC), categories
        )
    )


def test_signs_phrases_and_a_bare_term() -> None:
    change = parse(("+strike", "+Huelga", "-football", '"Quoted  Phrase"'))
    assert change == Change(include=("strike", "huelga", "quoted phrase"), exclude=("football",))
    # Telegram's parser has grouped quoted words (with the sign before them) already;
    # Discord gives the whole option as one text: both read the same.
    telegram = parse(("+general strike", "-premier league", "paro"))
    discord = parse(('+"general strike" -"premier league" paro',))
    assert telegram == discord == Change(("general strike", "paro"), ("premier league",))
    assert parse(("“curly", "quotes”", "-x")) == Change(("curly quotes",), ("x",))


def test_exclude_alone_clear_and_clear_some() -> None:
    assert parse(("-football",)) == Change(exclude=("football",))
    assert parse(("clear",)) == Change(clear=True)
    assert parse(("BORRAR", '"general strike"')) == Change(clear=True, remove=("general strike",))
    assert parse(("+clear",)) == Change(include=("clear",))  # the word itself, signed
    assert parse(()).empty and not parse(("x",)).empty


def test_apply_adds_moves_removes_and_clears() -> None:
    include, exclude = apply(parse(("+a", "-b")), (), ())
    assert (include, exclude) == (("a",), ("b",))
    # Added again with the other sign, a term moves.
    assert apply(parse(("-a",)), include, exclude) == ((), ("b", "a"))
    assert apply(parse(("clear", "b")), include, exclude) == (("a",), ())
    assert apply(parse(("clear",)), include, exclude) == ((), ())


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("+" + "x" * (filters.MAX_TERM_CHARS + 1), "filter_term_too_long"),
        ('"one two three four five six seven"', "filter_term_too_many_words"),
        ("+***", "filter_term_empty"),
        ("-", "filter_term_empty"),
    ],
)
def test_a_term_that_cannot_be_one_is_refused_with_its_reason(typed: str, key: str) -> None:
    with pytest.raises(FilterError) as refused:
        parse((typed,))
    assert refused.value.key == key


def test_at_most_max_terms() -> None:
    full = tuple(f"w{i}" for i in range(filters.MAX_TERMS))
    assert len(apply(Change(include=full), (), ())[0]) == filters.MAX_TERMS
    with pytest.raises(FilterError) as refused:
        apply(Change(exclude=("one",)), full, ())
    assert refused.value.key == "filter_too_many"


def test_whole_words_in_any_case_with_or_without_accents() -> None:
    headline = text("HUELGA general en Bogotá", "Los sindicatos paran el país", ("Economía",))
    assert headline.has("huelga") and headline.has("bogota") and headline.has("pais")
    assert headline.has("economia")  # a category
    assert headline.has("huelga general") and not headline.has("general huelga")
    assert not headline.has("huelg") and not headline.has("bogo")
    assert text("Strikes spread").has("strikes") and not text("Strikes spread").has("strike")
    assert text("Bogota").has(filters.term("Bogotá"))


def test_passes_needs_one_include_and_no_exclude() -> None:
    strike = text("Strike at the port", "Dockers walk out")
    assert passes(("strike", "huelga"), (), strike)
    assert not passes(("huelga",), (), strike)
    assert not passes(("strike",), ("dockers",), strike)
    assert passes((), ("football",), strike) and passes((), (), strike)


def test_describe_writes_what_parse_reads() -> None:
    include, exclude = ("strike", "general strike"), ("football",)
    shown = describe(include, exclude)
    assert shown == '+strike +"general strike" -football'
    assert parse((shown,)) == Change(include, exclude)


# Hostile input: any text, including FTS5 and regex syntax, quotes left open, signs alone.
HOSTILE = st.text(
    alphabet=st.sampled_from(list('ab +-"“”*:()^NEAR\\.[]{}|?ñÁ_ \t\n\u0301\u200b'))
    | st.characters(),
    max_size=300,
)


@settings(max_examples=300, deadline=None)
@given(HOSTILE)
def test_parse_reads_or_refuses_any_text(typed: str) -> None:
    try:
        change = parse((typed,))
    except FilterError as error:
        assert error.key.startswith("filter_")
        return
    for term in (*change.include, *change.exclude, *change.remove):
        assert term and term == " ".join(filters.words(term))
        assert len(term.split()) <= filters.MAX_TERM_WORDS


@settings(max_examples=200, deadline=None)
@given(
    terms=st.lists(HOSTILE, max_size=filters.MAX_TERMS),
    title=HOSTILE,
    summary=st.text(max_size=5000),
    categories=st.lists(st.text(max_size=100), max_size=50),
)
def test_matching_work_is_bounded_whatever_the_text(
    terms: list[str], title: str, summary: str, categories: list[str]
) -> None:
    headline = text(title, summary, tuple(categories))
    assert len(headline.words) <= filters.MAX_TEXT_WORDS
    stored = [" ".join(filters.words(t)[: filters.MAX_TERM_WORDS]) for t in terms]
    # Counted, not timed: a term costs one lookup plus its length at each place its first
    # word occurs, so at most this many word comparisons per term.
    bound = 1 + filters.MAX_TEXT_WORDS * (filters.MAX_TERM_WORDS - 1)
    for term in filter(None, stored):
        found, steps = headline.find(term)
        assert steps <= bound
        assert found == (f" {term} " in f" {' '.join(headline.words)} ")


def test_the_worst_phrase_does_bounded_work() -> None:
    # Every word of the text is the phrase's first word, and the phrase almost matches.
    headline = text("a " * 5000)
    found, steps = headline.find("a a a a a b")
    assert not found
    assert steps <= 1 + filters.MAX_TEXT_WORDS * (filters.MAX_TERM_WORDS - 1)


def test_split_terms_keeps_unclosed_quotes_as_words() -> None:
    assert split_terms(('+"general strike',)) == [("+", "general strike")]
    assert split_terms(("a", "", "  ")) == [("", "a")]
