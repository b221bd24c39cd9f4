"""Keyword filters: the words a chat's headlines must or must not contain. Pure: no I/O.

A filter is two lists of terms: `include` (a headline must contain one of them, when there
are any) and `exclude` (it must contain none). A term is a word or a phrase, stored as its
folded words joined by single spaces ("general strike"). Text is compared as words,
whole, in any case and with or without accents ('Bogota' matches 'Bogotá'), by the one
tokenizer `words`, which /search uses too. No term is ever a pattern: a match is a set
lookup, or for a phrase a comparison of a few words at each place its first word occurs,
so the work per headline is bounded by the limits below whatever a user types.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.models import Headline
from bot.regions.names import fold_case_and_accents

MAX_TERMS = 50  # include and exclude together, per chat
MAX_TERM_CHARS = 60
MAX_TERM_WORDS = 6
# A headline is read up to this many characters (title, then summary, then categories;
# summaries are cut to 300 by the parser) and this many words: the bound on its work.
MAX_TEXT_CHARS = 2000
MAX_TEXT_WORDS = 400

CLEAR_WORDS = ("clear", "borrar")  # /filter clear, in English and Spanish

_WORD = re.compile(r"[^\W_]+")
# A term as typed: an optional sign, then a "quoted phrase" or a run of non-space text.
_TERM = re.compile(r'([+-]?)(?:"([^"]*)"?|(\S+))')
_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "„": '"'})


class FilterError(ValueError):
    """A term that cannot be a filter; `key` names the message (bot.chat.i18n) and
    `values` fill it."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


def words(text: str) -> list[str]:
    """`text` as the words filters and search compare: folded case and accents, split at
    anything that is not a letter or digit. 'Huelga en Bogotá!' -> ['huelga', 'en', 'bogota']."""
    return _WORD.findall(fold_case_and_accents(text))


def term(text: str) -> str:
    """The stored form of a term a user typed ('Bogotá', 'General  Strike'); FilterError
    when it is too long or holds no word."""
    if len(text) > MAX_TERM_CHARS:
        raise FilterError(
            "filter_term_too_long", term=text[:MAX_TERM_CHARS] + "…", max=MAX_TERM_CHARS
        )
    found = words(text)
    if not found:
        raise FilterError("filter_term_empty", term=text)
    if len(found) > MAX_TERM_WORDS:
        raise FilterError("filter_term_too_many_words", term=text, max=MAX_TERM_WORDS)
    return " ".join(found)


@dataclass(frozen=True, slots=True)
class Change:
    """What one /filter asks: terms to include, to exclude, or (with `clear`) to remove;
    `clear` with no terms removes them all."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    clear: bool = False
    remove: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.include or self.exclude or self.clear)


def split_terms(args: Sequence[str]) -> list[tuple[str, str]]:
    """The (sign, text) of each term in a command's arguments. They come split by the
    platform: Telegram's parser has already grouped "quoted words" into one argument (and
    a sign before the quotes into it: '+general strike'), Discord gives the whole option
    as one; both are read here as one text, an argument with a space being a phrase."""
    parts = []
    for arg in args:
        arg = arg.translate(_QUOTES)
        if '"' not in arg and len(arg.split()) > 1:
            sign = arg[0] if arg[0] in "+-" else ""
            arg = f'{sign}"{arg[len(sign) :]}"'
        parts.append(arg)
    return [
        (m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
        for m in _TERM.finditer(" ".join(parts))
        if (m.group(2) or m.group(3) or "").strip()
    ]


def parse(args: Sequence[str]) -> Change:
    """A /filter's arguments: '+strike +huelga -football "general strike"' (a term without
    a sign is included), 'clear', or 'clear strike "general strike"'. FilterError for a
    term that cannot be one."""
    terms = split_terms(args)
    if terms and not terms[0][0] and terms[0][1].lower() in CLEAR_WORDS:
        return Change(clear=True, remove=tuple(_unique(term(t) for _, t in terms[1:])))
    include = _unique(term(t) for sign, t in terms if sign != "-")
    exclude = _unique(term(t) for sign, t in terms if sign == "-")
    return Change(include=tuple(include), exclude=tuple(exclude))


def apply(
    change: Change, include: Sequence[str], exclude: Sequence[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A chat's (include, exclude) after `change`. A term added with the other sign moves
    to that list. FilterError past MAX_TERMS."""
    if change.clear:
        if not change.remove:
            return (), ()
        gone = set(change.remove)
        return (
            tuple(t for t in include if t not in gone),
            tuple(t for t in exclude if t not in gone),
        )
    moved_in, moved_out = set(change.include), set(change.exclude)
    new_include = _unique([*(t for t in include if t not in moved_out), *change.include])
    new_exclude = _unique([*(t for t in exclude if t not in moved_in), *change.exclude])
    if len(new_include) + len(new_exclude) > MAX_TERMS:
        raise FilterError("filter_too_many", max=MAX_TERMS)
    return tuple(new_include), tuple(new_exclude)


def _unique(terms: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(terms))


class Text:
    """A headline's words, indexed for matching: read once per headline, matched against
    every chat's filter."""

    __slots__ = ("positions", "words")

    def __init__(self, text_words: Sequence[str]) -> None:
        self.words = list(text_words[:MAX_TEXT_WORDS])
        self.positions: dict[str, list[int]] = {}
        for i, word in enumerate(self.words):
            self.positions.setdefault(word, []).append(i)

    @classmethod
    def of(cls, headline: Headline) -> Text:
        """The text filters read: title, summary and categories."""
        text = " \n ".join((headline.title, headline.summary, *headline.categories))
        return cls(words(text[:MAX_TEXT_CHARS]))

    def find(self, term: str) -> tuple[bool, int]:
        """Whether `term` occurs as whole words, and the words compared to find out (the
        work, which is bounded: one lookup, plus the phrase's length at each place its
        first word occurs)."""
        return self.find_words(term.split(" "))

    def find_words(self, term: Sequence[str]) -> tuple[bool, int]:
        """As `find`, for a term already split into its words."""
        first, rest = term[0], list(term[1:])
        places = self.positions.get(first, ())
        if not rest:
            return bool(places), 1
        steps = 1
        for i in places:
            steps += len(rest)
            if self.words[i + 1 : i + 1 + len(rest)] == rest:
                return True, steps
        return False, steps

    def has(self, term: str) -> bool:
        return self.find(term)[0]


def passes(include: tuple[str, ...], exclude: tuple[str, ...], text: Text) -> bool:
    """Whether a headline of `text` passes a filter: one of `include` (if any), none of
    `exclude`."""
    include_words, include_phrases, exclude_words, exclude_phrases = _split(include, exclude)
    found = text.positions.keys()
    if not found.isdisjoint(exclude_words) or _any_phrase(text, exclude_phrases):
        return False
    if not (include_words or include_phrases):
        return True
    return not found.isdisjoint(include_words) or _any_phrase(text, include_phrases)


def _any_phrase(text: Text, phrases: tuple[tuple[str, ...], ...]) -> bool:
    # Only phrases whose first word the headline has are compared further.
    return any(p[0] in text.positions and text.find_words(p)[0] for p in phrases)


Phrases = tuple[tuple[str, ...], ...]


@functools.lru_cache(maxsize=4096)
def _split(
    include: tuple[str, ...], exclude: tuple[str, ...]
) -> tuple[frozenset[str], Phrases, frozenset[str], Phrases]:
    """A filter's single words as sets (looked up all at once against a headline's words)
    and its phrases split into words; kept for the chats' filters, which change rarely."""
    return (
        frozenset(t for t in include if " " not in t),
        tuple(tuple(t.split(" ")) for t in include if " " in t),
        frozenset(t for t in exclude if " " not in t),
        tuple(tuple(t.split(" ")) for t in exclude if " " in t),
    )


def describe(include: Sequence[str], exclude: Sequence[str]) -> str:
    """The filter as /filter takes it: '+strike +"general strike" -football'."""
    return " ".join([f"+{_shown(t)}" for t in include] + [f"-{_shown(t)}" for t in exclude])


def _shown(term: str) -> str:
    return f'"{term}"' if " " in term else term
