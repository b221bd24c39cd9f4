"""Region decisions: which regions a country, territory or curated data key belongs to."""

from __future__ import annotations

import pycountry
import pytest

from bot.regions.names import (
    AFRICA,
    ASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST,
    NORTH_AMERICA,
    OCEANIA,
)
from bot.regions.territories import key_country, key_regions, territory_regions


@pytest.mark.parametrize(
    ("code", "regions"),
    [
        ("TR", (EUROPE, MIDDLE_EAST)),
        ("EG", (MIDDLE_EAST,)),
        ("GE", (EUROPE,)),
        ("AM", (EUROPE,)),
        ("AZ", (EUROPE,)),
        ("RU", (EUROPE,)),
        ("UA", (EUROPE,)),
        ("CY", (EUROPE,)),
        ("MX", (LATIN_AMERICA,)),
        ("PR", (LATIN_AMERICA,)),
        ("JM", (LATIN_AMERICA,)),
        ("CL", (LATIN_AMERICA,)),
        ("US", (NORTH_AMERICA,)),
        ("CA", (NORTH_AMERICA,)),
        ("LY", (AFRICA,)),
        ("MG", (AFRICA,)),
        ("KZ", (ASIA,)),
        ("MV", (ASIA,)),
        ("IR", (MIDDLE_EAST,)),
        ("NZ", (OCEANIA,)),
        ("IS", (EUROPE,)),
        ("AQ", ()),
    ],
)
def test_region_decisions(code: str, regions: tuple) -> None:
    assert territory_regions(code) == regions


def test_every_iso_country_has_a_region_except_the_uninhabited() -> None:
    without = {c.alpha_2 for c in pycountry.countries if not territory_regions(c.alpha_2)}
    assert without == {"AQ", "BV", "HM", "TF"}


def test_a_data_key_is_a_region_or_a_territory() -> None:
    assert key_regions("Middle East") == (MIDDLE_EAST,)
    assert key_regions("TR") == (EUROPE, MIDDLE_EAST)
    assert key_regions("XX") == ()
    assert (key_country("US"), key_country("Latin America")) == ("US", "")
