"""Region tagging (first version; see issue 5 for the accurate one)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.regions import find_region, fold

_PLACES = {
    "pakistan": "Asia",
    "india": "Asia",
    "china": "Asia",
    "japan": "Asia",
    "usa": "North America",
    "eeuu": "North America",
    "canada": "North America",
    "mexico": "Latin America",
    "brazil": "Latin America",
    "brasil": "Latin America",
    "france": "Europe",
    "francia": "Europe",
    "nigeria": "Africa",
    "kenya": "Africa",
    "iran": "Middle East",
    "israel": "Middle East",
    "australia": "Oceania",
}


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
    found = set(default_regions)
    words = set(fold(f"{title} {' '.join(categories)}").replace(":", " ").split())
    for category in categories:
        region = find_region(category)
        if region:
            found.add(region)
    found.update(region for place, region in _PLACES.items() if place in words)
    text = fold(f"{title} {summary}")
    found.update(region for word, region in keywords if fold(word) in text)
    from bot.regions import REGIONS

    return tuple(r for r in REGIONS if r in found)
