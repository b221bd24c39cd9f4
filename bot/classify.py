"""Region tagging: which world regions a headline is about.

Signals, strongest first:

1. a place prefix in the title: "USA: ...", "Pakistan: ...", "EEUU: ...";
2. the feed's categories or tags ("Europe", "Ukraine war");
3. places named in the title (countries, cities, demonyms, institutions such as the Kremlin);
4. places in the summary, weaker: when 1-3 found a region, a region named only in the
   summary counts if it is named at least twice there, so one passing mention does not
   outweigh the title; when they found none, the summary's dominant regions count, and a
   summary that only lists places from three or more regions once each ("fighting in
   Ukraine, Gaza, Sudan and Myanmar") is world news.

A figure of speech ("the African savannah") counts only when nothing else places the story.
The feed's own regions (`FeedConfig.regions`, e.g. the site's Latin America section) are
added to every headline of the feed, like a category. Per-feed keyword rules are matched
like place names. The names and the region decisions (Turkey, Egypt, the Caucasus)
are in `bot.places`.

Matching folds accents and case ("México", "MEXICO", "Mexico" are one name), but keeps
'ñ' ("montaña" is not Montana) and checks capitals where a name is also a word ("Chad",
"US"). All names sit in one token trie, so a headline costs one dict lookup per word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from bot.places import CAPITALIZED, UPPER, Place, entries, fold
from bot.regions import REGIONS, find_region

PREFIX = "prefix"
CATEGORY = "category"
TITLE = "title"
SUMMARY = "summary"
FEED = "feed"
SIGNALS = (PREFIX, CATEGORY, TITLE, SUMMARY, FEED)

# Words allowed between places in a title prefix ("Israel and Hamas: ...").
_CONNECTORS = frozenset({"and", "y", "e", "vs", "v", "or", "o"})
# Words before a capitalized name that still let it be a place ("Israel And Jordan").
_FUNCTION_WORDS = frozenset(
    {"a", "an", "and", "at", "between", "by", "con", "de", "del", "desde", "e", "en", "entre"}
    | {"for", "from", "in", "into", "of", "on", "or", "para", "por", "sobre", "the", "to"}
    | {"vs", "with", "y"}
)
_MAX_PREFIX_WORDS = 6
_END = ""  # the trie key holding the places a word sequence stands for


class Evidence(NamedTuple):
    """One reason for (or against) a region: `used` is False when the rules set it aside."""

    region: str
    signal: str  # one of SIGNALS
    text: str  # the words matched, as written
    source: str = ""  # what the words stand for: "RU" for "Moscú" and "rusos", "Kremlin"
    used: bool = True
    note: str = ""  # why it was set aside, or what an ambiguous name was read as


class _Match(NamedTuple):
    start: int
    end: int
    place: Place


# word -> child node; the key _END holds the places the words so far stand for
Trie = dict[str, Any]


def _build_trie(items: Sequence[tuple[tuple[str, ...], Place]]) -> Trie:
    root: Trie = {}
    for key, place in items:
        node = root
        for word in key:
            node = node.setdefault(word, {})
        places = node.get(_END, ())
        # the first entry per language wins; later ones with the same words are dropped
        if all(p.language != place.language for p in places):
            node[_END] = (*places, place)
    return root


_TRIE = _build_trie([(e.key, e.place) for e in entries()])


@lru_cache(maxsize=64)
def _keyword_trie(keywords: tuple[tuple[str, str], ...]) -> Trie:
    items = []
    for word, region in keywords:
        canonical = find_region(region) or region
        key = tuple(fold(word).lower().split())
        if key and canonical in REGIONS:
            items.append((key, Place((canonical,), "keyword", word)))
    return _build_trie(items)


def _case_ok(place: Place, words: list[str]) -> bool:
    if place.case == UPPER:
        return all(w.isupper() for w in words)
    if place.case == CAPITALIZED:
        return all(w[0].isupper() for w, cap in zip(words, place.capitals, strict=True) if cap)
    return True


def _scan(
    trie: Trie, words: list[str], lower: list[str], language: str, check_case: bool = True
) -> list[_Match]:
    """The longest names in `words`, left to right, without overlaps. Feed categories are
    scanned without `check_case`: tags are often lower-case slugs ("latin-america")."""
    found: list[_Match] = []
    i, n = 0, len(lower)
    while i < n:
        node = trie.get(lower[i])
        best: _Match | None = None
        j = i
        while node is not None:
            j += 1
            for place in node.get(_END, ()):
                if place.language and place.language != language:
                    continue
                if not check_case or _case_ok(place, words[i:j]):
                    best = _Match(i, j, place)
                    break
            node = node.get(lower[j]) if j < n else None
        if best is None:
            i += 1
            continue
        if best.place.person_risk and _looks_like_person(words, lower, i, found):
            i = best.end
            continue
        found.append(best)
        i = best.end
    return found


def _looks_like_person(words: list[str], lower: list[str], i: int, found: list[_Match]) -> bool:
    """'Jim Jordan' is a person: a capitalized word before the name that is neither a place
    ('Amman, Jordan') nor a function word ('Israel And Jordan')."""
    if i == 0 or not words[i - 1][0].isupper() or lower[i - 1] in _FUNCTION_WORDS:
        return False
    return not (found and found[-1].end == i)


def _regions(place: Place, context: frozenset[str]) -> tuple[tuple[str, ...], str]:
    """The regions of a matched place; ambiguous names are read by their context words."""
    if not place.readings:
        return place.regions, ""
    best = max(place.readings, key=lambda r: len(r.cues & context))  # first wins ties
    if best is place.readings[0]:
        return best.regions, ""
    return best.regions, "read as " + (", ".join(best.regions) or "no place")


class _Text(NamedTuple):
    original: str
    words: list[str]  # folded: "Moscu"
    lower: list[str]  # folded, lower case: "moscu"

    def spans(self) -> list[tuple[int, int]]:
        """Where each word is in the original text, to show it as written ("Moscú")."""
        return [m.span() for m in _WORD.finditer(self.original)]


# A word as `fold` sees one: letters and digits (in NFC text, accents are part of letters).
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> _Text:
    text = unicodedata.normalize("NFC", text)
    folded = fold(text)
    return _Text(text, folded.split(), folded.lower().split())


def _prefix_length(title: str) -> int:
    """How many title words come before a 'Place:' prefix colon (0 if there is none)."""
    head, colon, _ = title.partition(":")
    if not colon:
        return 0
    n = len(fold(head).split())
    return n if 0 < n <= _MAX_PREFIX_WORDS else 0


def explain(
    title: str,
    summary: str = "",
    categories: Sequence[str] = (),
    language: str = "en",
    *,
    default_regions: Sequence[str] = (),
    keywords: Sequence[tuple[str, str]] = (),
) -> list[Evidence]:
    """Every place found in a headline with the signal it came from, strongest first;
    evidence with `used` False was set aside (and `note` says why)."""
    language = language if language in ("en", "es") else "en"
    tries = [_TRIE]
    if keywords:
        tries.append(_keyword_trie(tuple(keywords)))
    title_text = _words(title)
    summary_text = _words(summary)
    category_texts = [_words(c) for c in categories]
    context = frozenset(
        title_text.lower + summary_text.lower + [w for c in category_texts for w in c.lower]
    )

    # (signal, text, matches) for each part of the headline
    parts: list[tuple[str, _Text, list[_Match]]] = []
    title_matches = [
        m for t in tries for m in _scan(t, title_text.words, title_text.lower, language)
    ]
    prefix_end = _prefix_length(title)
    if prefix_end and _covers(title_text.lower, prefix_end, title_matches):
        parts.append((PREFIX, title_text, [m for m in title_matches if m.end <= prefix_end]))
        title_matches = [m for m in title_matches if m.end > prefix_end]
    for text in category_texts:
        matches = [
            m for t in tries for m in _scan(t, text.words, text.lower, language, check_case=False)
        ]
        parts.append((CATEGORY, text, matches))
    parts.append((TITLE, title_text, title_matches))
    parts.append(
        (
            SUMMARY,
            summary_text,
            [m for t in tries for m in _scan(t, summary_text.words, summary_text.lower, language)],
        )
    )

    evidence: list[Evidence] = []
    for signal, text, matches in parts:
        spans = text.spans() if matches else []
        for match in sorted(matches, key=lambda m: (m.start, m.end)):
            regions, note = _regions(match.place, context)
            shown = text.original[spans[match.start][0] : spans[match.end - 1][1]]
            if match.place.kind == "figure":
                note = "figure of speech"
            for region in regions:
                evidence.append(Evidence(region, signal, shown, match.place.label, True, note))
    return _decide(evidence, default_regions)


def _covers(lower: list[str], end: int, matches: list[_Match]) -> bool:
    """Whether the first `end` words are all places or connectors ('Israel and Hamas')."""
    covered = set()
    for m in matches:
        if m.end <= end and m.place.kind != "block" and m.place.regions:
            covered.update(range(m.start, m.end))
    return bool(covered) and all(i in covered or lower[i] in _CONNECTORS for i in range(end))


def _decide(evidence: list[Evidence], default_regions: Sequence[str]) -> list[Evidence]:
    literal = [e for e in evidence if e.note != "figure of speech"]
    strong = {e.region for e in literal if e.signal != SUMMARY}
    # distinct places, so that "in Moscow, Russian media said" is one mention of Russia
    counts = Counter(r for r, _ in {(e.region, e.source) for e in literal if e.signal == SUMMARY})
    if strong:
        chosen = strong | {r for r, c in counts.items() if c >= 2}
        why = "only one place in the summary"
    elif len(counts) >= 3 and max(counts.values()) == 1:
        chosen, why = set(), "one of several places listed in passing"
    else:
        top = max(counts.values(), default=0)
        chosen = {r for r, c in counts.items() if 2 * c >= top}
        why = "less prominent in the summary"
    if not chosen:
        figures = [e for e in evidence if e.note == "figure of speech"]
        chosen = {e.region for e in figures}
    result = [
        e if e.region in chosen else e._replace(used=False, note=e.note or why) for e in evidence
    ]
    result += [Evidence(r, FEED, "feed regions") for r in default_regions if r in REGIONS]
    return [e for e in result if e.used] + [e for e in result if not e.used]


def classify(
    title: str,
    summary: str = "",
    categories: Sequence[str] = (),
    language: str = "en",
    *,
    default_regions: Sequence[str] = (),
    keywords: Sequence[tuple[str, str]] = (),
) -> tuple[str, ...]:
    """The regions of a headline, in `REGIONS` order; () for world news."""
    found = {
        e.region
        for e in explain(
            title,
            summary,
            categories,
            language,
            default_regions=default_regions,
            keywords=keywords,
        )
        if e.used
    }
    return tuple(r for r in REGIONS if r in found)
