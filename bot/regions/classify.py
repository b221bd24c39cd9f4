"""Region tagging: which world regions a headline is about.

Signals, strongest first:

1. a place prefix in the title: "USA: ...", "Pakistan: ...", "EEUU: ...";
2. the feed's categories or tags ("Europe", "Ukraine war");
3. places named in the title (countries, cities, demonyms, institutions such as the Kremlin);
4. places in the summary, weaker, counted by country (the White House and Trump are one
   mention of the US): when 1-3 found a region, a region named only in the summary counts
   if two of its countries are named there, so one passing mention does not outweigh the
   title; when they found none, the summary's dominant regions count, and a summary that
   only lists places from three or more regions once each ("fighting in Ukraine, Gaza,
   Sudan and Myanmar") is world news.

A name with several readings is read by the rest of the headline: a city named like cities
of other regions by the other places' countries ("Tripoli" with "Lebanese"), "Georgia" also
by cue words ("Atlanta", "governor"). A place name that is also a person's name is the
person next to a capitalized word that is no place ("Jordan Bardella", "Jim Jordan"),
unless the title capitalizes every word.

A figure of speech ("an 'African savannah' of small firms") adds no region, not even when
nothing else places the story: it is listed, set aside, and its words count for nothing else.
The feed's own regions (`FeedConfig.regions`, e.g. the site's Latin America section) are
added to every headline of the feed, like a category. Per-feed keyword rules are matched
like place names. The names are in `bot.regions.places` (curated ones in its data files), the
region decisions (Turkey, Egypt, the Caucasus) in `bot.regions.territories`.

Matching folds accents and case ("México", "MEXICO", "mexico" are one name), but keeps
'ñ' ("montaña" is not Montana) and checks capitals where a name is also a word ("Chad",
"US", "Nevada"). Some names count only in one language (Spanish "EU" is the US, English
"EU" the European Union). All names sit in one token trie, so a headline costs one dict
lookup per word.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from bot.models import LANGUAGES
from bot.regions.names import REGIONS, find_region
from bot.regions.places import (
    CAPITALIZED,
    GIVEN_NAME,
    SURNAME,
    UPPER,
    Place,
    Reading,
    entries,
    fold_accents_keeping_case,
)

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
# Capitalized words that are no surname next to a place name: directions, institutions and
# features written with a capital ("Northern Chad", "Indiana Senate", "Sydney Harbour").
_NOT_NAME_WORDS = (
    "north south east west northern southern eastern western central greater upper lower new "
    "old downtown metro rural coastal occupied senate house supreme court state governor gov "
    "legislature assembly parliament government president prime minister king queen army "
    "police national guard university college airport port harbour harbor bay river valley "
    "sea lake gulf coast island islands basin city county street square station bridge "
    "district province region republicans democrats republican democratic election "
    "elections congress mayor federal bank stock exchange open cup fc united monday tuesday "
    "wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december norte sur este oeste gobierno presidente "
    "congreso senado ciudad estado"
)
_NOT_NAMES = _FUNCTION_WORDS | frozenset(_NOT_NAME_WORDS.split())
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
    country: str = ""  # the ISO code of the place ("US" for "Trump" and "Texas"), if one


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
        key = tuple(fold_accents_keeping_case(word).lower().split())
        if key and canonical in REGIONS:
            items.append((key, Place((canonical,), "keyword", word)))
    return _build_trie(items)


def _case_ok(place: Place, words: list[str]) -> bool:
    if place.case == UPPER:
        return all(w.isupper() for w in words)
    if place.case == CAPITALIZED:
        return all(w[0].isupper() for w, cap in zip(words, place.capitals, strict=True) if cap)
    return True


def _match_at(
    trie: Trie, words: list[str], lower: list[str], i: int, language: str, check_case: bool
) -> _Match | None:
    """The longest name starting at word `i`, if any."""
    node = trie.get(lower[i])
    best: _Match | None = None
    j, n = i, len(lower)
    while node is not None:
        j += 1
        for place in node.get(_END, ()):
            if place.language and place.language != language:
                continue
            if not check_case or _case_ok(place, words[i:j]):
                best = _Match(i, j, place)
                break
        node = node.get(lower[j]) if j < n else None
    return best


def _scan(trie: Trie, text: _Text, language: str, check_case: bool = True) -> list[_Match]:
    """The longest names in `text`, left to right, without overlaps. Feed categories are
    scanned without `check_case`: tags are often lower-case slugs ("latin-america")."""
    words, lower = text.words, text.lower
    found: list[_Match] = []
    i = 0
    while i < len(lower):
        best = _match_at(trie, words, lower, i, language, check_case)
        if best is None:
            i += 1
            continue
        risk = best.place.person_risk and check_case and not text.title_case
        if not (risk and _reads_as_person(text, best, found, language)):
            found.append(best)
        i = best.end
    return found


def _reads_as_person(text: _Text, match: _Match, found: list[_Match], language: str) -> bool:
    """Whether a place name that is also a person's name is one here: a given name before a
    capitalized word that is no place ("Jordan Bardella", "Chad Daybell", "Indiana Jones"),
    or a surname after one that is not a place itself ("Jim Jordan", but "Israel, Jordan").
    Only a space may stand between the names ("Chad: Déby wins" is the country)."""
    words, lower = text.words, text.lower
    i, j = match.start, match.end
    if (
        match.place.person_risk & GIVEN_NAME
        and j < len(words)
        and _name_like(words[j], lower[j])
        and text.spaced(j)
    ):
        after = _match_at(_TRIE, words, lower, j, language, True)
        if after is None or after.place.kind == "person":
            return True
    return bool(
        match.place.person_risk & SURNAME
        and i > 0
        and _name_like(words[i - 1], lower[i - 1])
        and not (found and found[-1].end == i)
        and text.spaced(i)
    )


def _name_like(word: str, lower: str) -> bool:
    """A word that can be part of a person's name: capitalized, no acronym ("PM"), and not
    one of `_NOT_NAMES`."""
    return word[0].isupper() and not word.isupper() and lower not in _NOT_NAMES


def _regions(
    place: Place, context: frozenset[str], countries: frozenset[str], regions: frozenset[str]
) -> tuple[tuple[str, ...], str, str]:
    """The regions, note and country of an ambiguous name: the reading with the most
    support, from its cue words and the headline's other places in its countries or (for
    region names such as "Celac") its regions."""

    def support(reading: Reading) -> int:
        return (
            len(reading.cues & context)
            + len(reading.countries & countries)
            + len(regions.intersection(reading.regions))
        )

    best = max(place.readings, key=support)  # the first, the default, wins ties
    if best is place.readings[0]:
        return best.regions, "", best.country
    return best.regions, "read as " + (", ".join(best.regions) or "no place"), best.country


class _Text(NamedTuple):
    original: str
    words: list[str]  # folded: "Moscu"
    lower: list[str]  # folded, lower case: "moscu"
    title_case: bool  # "Jordan Swears In New Government": capitals say nothing of names

    def spans(self) -> list[tuple[int, int]]:
        """Where each word is in the original text, to show it as written ("Moscú")."""
        return [m.span() for m in _WORD.finditer(self.original)]

    def spaced(self, i: int) -> bool:
        """Whether only spaces stand between word `i` and the word before it."""
        spans = self.spans()
        return not self.original[spans[i - 1][1] : spans[i][0]].strip()


# A word as `fold_accents_keeping_case` sees one: letters and digits (in NFC text, accents are
# part of letters).
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> _Text:
    text = unicodedata.normalize("NFC", text)
    folded = fold_accents_keeping_case(text)
    words = folded.split()
    # every longer word after the first capitalized: verbs too, so capitals mark no names
    long = [w for w in words[1:] if len(w) >= 4 and w.isalpha()]
    title_case = len(long) >= 2 and all(w[0].isupper() for w in long)
    return _Text(text, words, folded.lower().split(), title_case)


def _prefix_length(title: str) -> int:
    """How many title words come before a 'Place:' prefix colon (0 if there is none)."""
    head, colon, _ = title.partition(":")
    if not colon:
        return 0
    n = len(fold_accents_keeping_case(head).split())
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
    language = language if language in LANGUAGES else "en"
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
    title_matches = [m for t in tries for m in _scan(t, title_text, language)]
    prefix_end = _prefix_length(title)
    if prefix_end and _covers(title_text.lower, prefix_end, title_matches):
        parts.append((PREFIX, title_text, [m for m in title_matches if m.end <= prefix_end]))
        title_matches = [m for m in title_matches if m.end > prefix_end]
    for text in category_texts:
        matches = [m for t in tries for m in _scan(t, text, language, check_case=False)]
        parts.append((CATEGORY, text, matches))
    parts.append((TITLE, title_text, title_matches))
    parts.append(
        (
            SUMMARY,
            summary_text,
            [m for t in tries for m in _scan(t, summary_text, language)],
        )
    )

    places = [m.place for _, _, matches in parts for m in matches]
    plain = [p for p in places if not p.readings]
    countries = frozenset(p.country for p in plain if p.country)
    named_regions = frozenset(
        r for p in plain if not p.country and p.kind not in ("block", "figure") for r in p.regions
    )
    evidence: list[Evidence] = []
    for signal, text, matches in parts:
        spans = text.spans() if matches else []
        for match in sorted(matches, key=lambda m: (m.start, m.end)):
            place = match.place
            if place.readings:  # "Athens, Georgia": two ambiguous names agree on the US
                maybe = {
                    c for p in places if p is not place for r in p.readings for c in r.countries
                }
                regions, note, country = _regions(place, context, countries | maybe, named_regions)
            else:
                regions, note, country = place.regions, "", place.country
            shown = text.original[spans[match.start][0] : spans[match.end - 1][1]]
            if place.kind == "figure":
                note = "figure of speech"
            for region in regions:
                evidence.append(Evidence(region, signal, shown, place.label, True, note, country))
    return _decide(evidence, default_regions)


def _covers(lower: list[str], end: int, matches: list[_Match]) -> bool:
    """Whether the first `end` words are all places or connectors ('Israel and Hamas')."""
    covered = set()
    for m in matches:
        if m.end <= end and m.place.kind != "block" and (m.place.regions or m.place.readings):
            covered.update(range(m.start, m.end))
    return bool(covered) and all(i in covered or lower[i] in _CONNECTORS for i in range(end))


def _decide(evidence: list[Evidence], default_regions: Sequence[str]) -> list[Evidence]:
    literal = [e for e in evidence if e.note != "figure of speech"]
    strong = {e.region for e in literal if e.signal != SUMMARY}
    # distinct countries, so that "in Moscow, Russian media said" and "the White House said
    # Trump ..." are one mention each
    counts = Counter(
        r for r, _ in {(e.region, e.country or e.source) for e in literal if e.signal == SUMMARY}
    )
    if strong:
        chosen = strong | {r for r, c in counts.items() if c >= 2}
        why = "only one place in the summary"
    elif len(counts) >= 3 and max(counts.values()) == 1:
        chosen, why = set(), "one of several places listed in passing"
    else:
        top = max(counts.values(), default=0)
        chosen = {r for r, c in counts.items() if 2 * c >= top}
        why = "less prominent in the summary"
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
