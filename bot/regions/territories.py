"""Region decisions: which regions a country, territory or curated place key belongs to.

Most territories get their region from the continent their time zones lie on (CLDR, through
Babel); the decisions below are what a reader of an international political news site
expects where that answer is wrong or unclear:

* **Russia, Ukraine, Belarus, Moldova: Europe**, the whole of Russia included: its politics are
  read as European politics, even when a story is set in Siberia.
* **Turkey: Europe and Middle East.** A NATO member and EU candidate whose news is as much
  about Syria, the Kurds and Gaza as about Brussels; readers of either section expect it.
* **Egypt: Middle East.** Its political news (Gaza, Sinai, the Gulf's money, the Arab League)
  is filed under the Middle East by the international press; Libya, Sudan and the Maghreb
  stay in Africa.
* **The South Caucasus (Georgia, Armenia, Azerbaijan): Europe.** Council of Europe and OSCE
  members, Georgia an EU candidate, Armenia and Azerbaijan in the EU's Eastern Partnership;
  their news is bound up with Russia and the EU.
* **Cyprus: Europe** (an EU member, though the time zone says Asia).
* **Greenland: Europe and North America** (Danish, on the North American plate; its news is
  about Denmark and the United States).
* **Mexico, Central America, the Caribbean (Puerto Rico included) and South America, with the
  Falklands: Latin America.** North America is the United States, Canada, Bermuda and Saint
  Pierre and Miquelon. "The Americas" and Spanish "América" mean Latin America (the "Spanish
  conquest of the Americas", the "Summit of the Americas"); English "America" means the US
  (data/places.txt).
* Islands in the Atlantic and Indian Oceans go with the continent whose politics they share
  (Madagascar, Mauritius: Africa; Maldives: Asia; Iceland, Faroes: Europe); Antarctica, the
  UN and "the world" have no region.

A name with several readings ("Georgia", "Tripoli") is not decided here but by its headline:
see data/ambiguous.txt and `bot.regions.places`.
"""

from __future__ import annotations

from collections import Counter

from babel.core import get_global

from bot.regions.names import (
    AFRICA,
    ASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST,
    NORTH_AMERICA,
    OCEANIA,
    REGIONS,
)

_CONTINENT = {
    "Africa": AFRICA,
    "Europe": EUROPE,
    "Asia": ASIA,
    "America": LATIN_AMERICA,
    "Australia": OCEANIA,
    "Pacific": OCEANIA,
}
_MIDDLE_EAST = {"AE", "BH", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "YE"}
_REGION_OVERRIDES: dict[str, tuple[str, ...]] = {
    # the decisions in the module docstring
    "RU": (EUROPE,),
    "TR": (EUROPE, MIDDLE_EAST),
    "EG": (MIDDLE_EAST,),
    "GE": (EUROPE,),
    "AM": (EUROPE,),
    "AZ": (EUROPE,),
    "CY": (EUROPE,),
    "GL": (EUROPE, NORTH_AMERICA),
    "US": (NORTH_AMERICA,),
    "CA": (NORTH_AMERICA,),
    "BM": (NORTH_AMERICA,),
    "PM": (NORTH_AMERICA,),
    "ES": (EUROPE,),  # Ceuta's time zone is African
    "FK": (LATIN_AMERICA,),
    "GS": (LATIN_AMERICA,),
    # Atlantic and Indian Ocean islands, and territories without a time zone
    "IS": (EUROPE,),
    "FO": (EUROPE,),
    "AX": (EUROPE,),
    "SJ": (EUROPE,),
    "IC": (EUROPE,),
    "EA": (EUROPE,),
    "CQ": (EUROPE,),
    "XK": (EUROPE,),
    "EU": (EUROPE,),
    "EZ": (EUROPE,),
    "CV": (AFRICA,),
    "SH": (AFRICA,),
    "AC": (AFRICA,),
    "TA": (AFRICA,),
    "IO": (AFRICA,),
    "DG": (AFRICA,),
    "MG": (AFRICA,),
    "MU": (AFRICA,),
    "SC": (AFRICA,),
    "KM": (AFRICA,),
    "YT": (AFRICA,),
    "RE": (AFRICA,),
    "MV": (ASIA,),
    "CC": (OCEANIA,),
    "CX": (OCEANIA,),
    "QO": (OCEANIA,),
    "CP": (LATIN_AMERICA,),
    "AQ": (),
    "BV": (),
    "HM": (),
    "TF": (),
    "UN": (),
}
# CLDR's region codes (UN M49) that have names: "Latinoamérica", "Sudeste asiático"...
_M49_REGIONS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("002", "011", "014", "015", "017", "018", "202"), (AFRICA,)),
    **dict.fromkeys(("003", "021"), (NORTH_AMERICA,)),
    **dict.fromkeys(("005", "013", "019", "029", "419"), (LATIN_AMERICA,)),
    **dict.fromkeys(("009", "053", "054", "057", "061"), (OCEANIA,)),
    **dict.fromkeys(("030", "034", "035", "142", "143"), (ASIA,)),
    "145": (MIDDLE_EAST,),
    **dict.fromkeys(("039", "150", "151", "154", "155"), (EUROPE,)),
}


def territory_regions(code: str) -> tuple[str, ...]:
    """The regions of an ISO 3166 territory: the decisions above, else the Middle East list,
    else the continent most of its time zones are on (ocean zones count only when there is
    nothing else, so Chile is American despite Easter Island)."""
    if code in _REGION_OVERRIDES:
        return _REGION_OVERRIDES[code]
    if code in _MIDDLE_EAST:
        return (MIDDLE_EAST,)
    if code in _M49_REGIONS:
        return _M49_REGIONS[code]
    zones = get_global("territory_zones").get(code, ())
    land = Counter(z.split("/")[0] for z in zones if z.split("/")[0] in _CONTINENT)
    if len(land) > 1:
        land.pop("Pacific", None)
    if not land:
        return ()
    return (_CONTINENT[land.most_common(1)[0][0]],)


def key_regions(key: str) -> tuple[str, ...]:
    """The regions of a curated data key: a region's name maps to itself, an ISO code to
    `territory_regions`."""
    return (key,) if key in REGIONS else territory_regions(key)


def key_country(key: str) -> str:
    """The ISO code a curated data key stands for ("US"), or "" for a region ("Middle East")."""
    return key if len(key) == 2 and key.isupper() else ""
