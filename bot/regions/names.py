"""The world regions headlines are tagged with, and how users name them."""

from __future__ import annotations

import difflib
import unicodedata

AFRICA = "Africa"
ASIA = "Asia"
EUROPE = "Europe"
LATIN_AMERICA = "Latin America"
MIDDLE_EAST = "Middle East"
NORTH_AMERICA = "North America"
OCEANIA = "Oceania"

# How storage and the commands name headlines with no region: world news.
WORLD = ""

REGIONS: tuple[str, ...] = (
    AFRICA,
    ASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST,
    NORTH_AMERICA,
    OCEANIA,
)

# Names users type for each region, English and Spanish, folded (`fold_case_and_accents`).
ALIASES: dict[str, str] = {
    "africa": AFRICA,
    "african": AFRICA,
    "afrique": AFRICA,
    "africa subsahariana": AFRICA,
    "sub saharan africa": AFRICA,
    "subsaharan africa": AFRICA,
    "asia": ASIA,
    "asian": ASIA,
    "asia pacifico": ASIA,
    "asia pacific": ASIA,
    "southeast asia": ASIA,
    "sudeste asiatico": ASIA,
    "apac": ASIA,
    "europe": EUROPE,
    "europa": EUROPE,
    "eu": EUROPE,
    "european": EUROPE,
    "latin america": LATIN_AMERICA,
    "latinamerica": LATIN_AMERICA,
    "latam": LATIN_AMERICA,
    "america latina": LATIN_AMERICA,
    "latinoamerica": LATIN_AMERICA,
    "iberoamerica": LATIN_AMERICA,
    "south america": LATIN_AMERICA,
    "sudamerica": LATIN_AMERICA,
    "suramerica": LATIN_AMERICA,
    "america del sur": LATIN_AMERICA,
    "central america": LATIN_AMERICA,
    "centroamerica": LATIN_AMERICA,
    "america central": LATIN_AMERICA,
    "caribbean": LATIN_AMERICA,
    "caribe": LATIN_AMERICA,
    "el caribe": LATIN_AMERICA,
    "hispanoamerica": LATIN_AMERICA,
    "middle east": MIDDLE_EAST,
    "mideast": MIDDLE_EAST,
    "mena": MIDDLE_EAST,
    "near east": MIDDLE_EAST,
    "oriente medio": MIDDLE_EAST,
    "oriente proximo": MIDDLE_EAST,
    "proximo oriente": MIDDLE_EAST,
    "medio oriente": MIDDLE_EAST,
    "north america": NORTH_AMERICA,
    "northamerica": NORTH_AMERICA,
    "norteamerica": NORTH_AMERICA,
    "america del norte": NORTH_AMERICA,
    "oceania": OCEANIA,
    "pacific": OCEANIA,
    "pacifico": OCEANIA,
    "australasia": OCEANIA,
}

# What users call world news (headlines with no region), folded.
WORLD_ALIASES = frozenset(
    {"world", "world news", "mundo", "el mundo", "internacional", "international", "global"}
    | {"no region", "sin region", "none", "ninguna"}
)

# Spanish display names; English ones are the canonical names above.
SPANISH_NAMES: dict[str, str] = {
    AFRICA: "África",
    ASIA: "Asia",
    EUROPE: "Europa",
    LATIN_AMERICA: "América Latina",
    MIDDLE_EAST: "Oriente Medio",
    NORTH_AMERICA: "Norteamérica",
    OCEANIA: "Oceanía",
}


def fold_case_and_accents(text: str) -> str:
    """Lower-case, strip accents (even 'ñ'), quotes, '#' and '_', and squeeze spaces:
    'América_Latina' -> 'america latina', 'España' -> 'espana'. How names users type are
    compared; the gazetteer compares place names keeping case and 'ñ'
    (`bot.regions.places.fold_accents_keeping_case`)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("_", " ").replace("-", " ").strip("\"'«»“”#").lower()
    return " ".join(text.split())


for _region in REGIONS:
    ALIASES.setdefault(fold_case_and_accents(_region), _region)
    ALIASES.setdefault(fold_case_and_accents(SPANISH_NAMES[_region]), _region)
    ALIASES.setdefault(fold_case_and_accents(_region).replace(" ", ""), _region)

# The most words a region's name or alias has ("america del norte"): no longer run of words
# names a region, so `suggest_region` tries none, and its work grows only linearly.
MAX_NAME_WORDS = max(len(alias.split()) for alias in ALIASES)


def find_region(name: str, *, world: bool = False) -> str | None:
    """The canonical region a user means by `name`, or None; with `world`, also `WORLD` for
    "world", "mundo" and the like."""
    key = fold_case_and_accents(name)
    if world and key in WORLD_ALIASES:
        return WORLD
    return ALIASES.get(key) or ALIASES.get(key.replace(" ", ""))


def suggest_region(name: str) -> str | None:
    """The region a misspelt or longer `name` most likely means: one named by some of its
    words ("Africa subsahariana"), else the one whose name or alias is closest, if any is.
    It tries at most `MAX_NAME_WORDS` phrases per word of `name`."""
    folded = fold_case_and_accents(name)
    words = folded.split()
    for size in range(min(len(words), MAX_NAME_WORDS), 0, -1):
        for start in range(len(words) - size + 1):
            region = find_region(" ".join(words[start : start + size]))
            if region:
                return region
    matches = difflib.get_close_matches(folded, list(ALIASES), n=1, cutoff=0.6)
    return ALIASES[matches[0]] if matches else None


_WORLD_NAMES = {"en": "World", "es": "Mundo"}


def display_name(region: str, language: str) -> str:
    """A region's name in `language`; "World" or "Mundo" for `WORLD`."""
    if region == WORLD:
        return _WORLD_NAMES.get(language, _WORLD_NAMES["en"])
    return SPANISH_NAMES.get(region, region) if language == "es" else region
