"""Region names as users type them."""

from __future__ import annotations

from bot.regions.names import (
    LATIN_AMERICA,
    WORLD,
    display_name,
    find_region,
    fold_case_and_accents,
)


def test_names_users_type_lose_case_accents_and_quotes() -> None:
    assert fold_case_and_accents('"América_Latina"') == "america latina"
    assert fold_case_and_accents("#España") == "espana"
    assert fold_case_and_accents("  Oriente   Próximo ") == "oriente proximo"


def test_a_region_is_found_by_any_of_its_names() -> None:
    for typed in ("América Latina", "LATAM", "latinoamérica", "Latin_America"):
        assert find_region(typed) == LATIN_AMERICA
    assert find_region("Mundo") is None
    assert find_region("Mundo", world=True) == WORLD


def test_display_names() -> None:
    assert display_name(LATIN_AMERICA, "es") == "América Latina"
    assert display_name(LATIN_AMERICA, "en") == "Latin America"
    assert (display_name(WORLD, "es"), display_name(WORLD, "en")) == ("Mundo", "World")
