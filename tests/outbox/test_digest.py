"""Digest settings, when digests fall due (across time zones and daylight-saving changes,
with the clock given), and how their headlines are grouped."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import Headline
from bot.outbox.digest import (
    DAILY,
    HOURLY,
    WEEKLY,
    DigestError,
    DigestSetting,
    build,
    find_zone,
    next_due,
    parse_setting,
    wall_instant,
    zone_choices,
)
from bot.regions.names import ASIA, EUROPE, WORLD

MADRID = ZoneInfo("Europe/Madrid")


def at(text: str, zone: ZoneInfo = UTC) -> float:  # type: ignore[assignment]
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def local(timestamp: float, zone: ZoneInfo = MADRID) -> str:
    return datetime.fromtimestamp(timestamp, zone).strftime("%Y-%m-%d %H:%M %Z")


def chain(setting: DigestSetting, start: float, count: int) -> list[float]:
    dues, now = [], start
    for _ in range(count):
        now = next_due(setting, now)
        dues.append(now)
    return dues


# -- reading a setting --------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("daily 08:00 Europe/Madrid", "daily 08:00 Europe/Madrid"),
        ("08:00 daily europe/madrid", "daily 08:00 Europe/Madrid"),
        ("diario 8:05 UTC", "daily 08:05 UTC"),
        ("weekly mon 08:00 America/Mexico_City", "weekly mon 08:00 America/Mexico_City"),
        ("semanal mié 20h Europe/Madrid", "weekly wed 20:00 Europe/Madrid"),
        ("semanal Sábado 07:30 utc", "weekly sat 07:30 UTC"),
        ("hourly", "hourly UTC"),
        ("hourly Asia/Kolkata", "hourly Asia/Kolkata"),
    ],
)
def test_settings_are_read_in_english_and_spanish(words: str, expected: str) -> None:
    setting = parse_setting(words.split())
    assert str(setting) == expected
    assert parse_setting(expected.split()) == setting  # what is stored reads back the same


def test_off_and_the_saved_zone() -> None:
    assert parse_setting(["off"]) is None and parse_setting(["desactivar"]) is None
    assert str(parse_setting(["daily", "08:00"], "Europe/Madrid")) == "daily 08:00 Europe/Madrid"
    assert str(parse_setting(["hourly"], "Asia/Kolkata")) == "hourly Asia/Kolkata"
    with pytest.raises(DigestError) as error:
        parse_setting(["daily", "08:00"])
    assert error.value.key == "digest_needs_zone" and error.value.values == {
        "setting": "daily 08:00"
    }


@pytest.mark.parametrize(
    ("words", "key"),
    [
        ("daily", "digest_needs_time"),
        ("weekly 08:00 UTC", "digest_needs_day"),
        ("daily mon 08:00 UTC", "digest_daily_day"),
        ("hourly 08:00", "digest_hourly_alone"),
        ("08:00 UTC", "digest_no_period"),
        ("daily 24:00 UTC", "digest_bad_time"),
        ("daily 8:5 UTC", "digest_bad_time"),
        ("daily 08:00 Europe/Madird", "digest_bad_zone"),
        ("daily 08:00 UTC banana", "digest_bad_word"),
        ("daily 08:00 ../../etc/passwd", "digest_bad_zone"),
    ],
)
def test_bad_settings_say_what_is_wrong(words: str, key: str) -> None:
    with pytest.raises(DigestError) as error:
        parse_setting(words.split())
    assert error.value.key == key


def test_a_misspelt_zone_gets_a_suggestion_and_zones_complete() -> None:
    with pytest.raises(DigestError) as error:
        find_zone("Europe/Madird")
    assert error.value.values["hint"] == "Europe/Madrid"
    assert zone_choices("madr") == ["Europe/Madrid"]
    assert zone_choices("america/mex")[0] == "America/Mexico_City"
    assert len(zone_choices("")) == 25


# -- when ------------------------------------------------------------------------------


def test_a_daily_digest_goes_at_the_local_time_every_day() -> None:
    setting = DigestSetting(DAILY, "Europe/Madrid", time(8, 0))
    dues = chain(setting, at("2026-12-01T16:00"), 3)
    assert [local(d) for d in dues] == [
        "2026-12-02 08:00 CET",
        "2026-12-03 08:00 CET",
        "2026-12-04 08:00 CET",
    ]
    # At the very instant it is due, the next is tomorrow's: never the same one twice.
    assert next_due(setting, dues[0]) == dues[1]
    assert next_due(setting, dues[0] - 1) == dues[0]


def test_spring_forward_sends_once_at_the_first_valid_instant() -> None:
    # Madrid, 31 March 2024: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
    setting = DigestSetting(DAILY, "Europe/Madrid", time(2, 30))
    dues = chain(setting, at("2024-03-29T12:00"), 3)
    assert [local(d) for d in dues] == [
        "2024-03-30 02:30 CET",
        "2024-03-31 03:00 CEST",  # the first instant after the gap
        "2024-04-01 02:30 CEST",
    ]
    assert dues[1] == at("2024-03-31T01:00")


def test_fall_back_sends_once_at_the_first_of_two() -> None:
    # Madrid, 27 October 2024: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    setting = DigestSetting(DAILY, "Europe/Madrid", time(2, 30))
    dues = chain(setting, at("2024-10-26T12:00"), 3)
    assert [local(d) for d in dues] == [
        "2024-10-27 02:30 CEST",
        "2024-10-28 02:30 CET",
        "2024-10-29 02:30 CET",
    ]
    # Asked during the second 02:30, it is tomorrow's: the day's digest went at the first.
    assert local(next_due(setting, at("2024-10-27T01:15"))) == "2024-10-28 02:30 CET"


def test_weekly_and_hourly() -> None:
    weekly = DigestSetting(WEEKLY, "America/Mexico_City", time(8, 0), weekday=0)
    zone = ZoneInfo("America/Mexico_City")
    dues = chain(weekly, at("2026-12-01T16:00"), 2)  # a Tuesday
    assert [local(d, zone) for d in dues] == ["2026-12-07 08:00 CST", "2026-12-14 08:00 CST"]
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30: its hours are UTC's half hours
    hourly = DigestSetting(HOURLY, "Asia/Kolkata")
    dues = chain(hourly, at("2026-12-01T16:10"), 2)
    assert [local(d, kolkata) for d in dues] == ["2026-12-01 22:00 IST", "2026-12-01 23:00 IST"]


# -- properties over zones and instants -----------------------------------------------

ZONES = sorted(available_timezones())
instants = st.floats(
    min_value=datetime(1990, 1, 1, tzinfo=UTC).timestamp(),
    max_value=datetime(2060, 1, 1, tzinfo=UTC).timestamp(),
    allow_nan=False,
)
setting_of = st.builds(
    DigestSetting,
    period=st.sampled_from((DAILY, WEEKLY)),
    zone=st.sampled_from(ZONES),
    at=st.builds(time, st.integers(0, 23), st.sampled_from((0, 1, 15, 30, 45, 59))),
    weekday=st.integers(0, 6),
)


def occurrences(setting: DigestSetting, start: date, end: date) -> list[float]:
    """Independently of next_due: every instant the clocks of the zone show the setting's
    time on one of its days (the first, where they show it twice), by scanning the days."""
    zone = setting.tz
    found = []
    day = start
    while day <= end:
        if setting.period == DAILY or day.weekday() == setting.weekday:
            wall = datetime.combine(day, setting.at)
            instant = wall.replace(tzinfo=zone, fold=0).timestamp()
            if datetime.fromtimestamp(instant, zone).replace(tzinfo=None) == wall:
                found.append(instant)
        day += timedelta(days=1)
    return found


@settings(max_examples=300, deadline=None)
@given(setting_of, instants)
def test_dues_are_strictly_increasing_once_per_period_and_never_skipped(
    setting: DigestSetting, start: float
) -> None:
    zone = setting.tz
    count = 4
    dues = chain(setting, start, count)
    assert start < dues[0] and all(a < b for a, b in pairwise(dues))
    # Each due is one day's (one week's): the day whose clocks show the setting's time
    # at it, or, at a change of offset, the day whose time the gap swallowed.
    days = []
    for due in dues:
        shown = datetime.fromtimestamp(due, zone)
        if shown.time() == setting.at and not shown.fold:
            days.append(shown.date())
            continue
        before = datetime.fromtimestamp(due - 1, zone).replace(tzinfo=None)
        assert (
            before.utcoffset() is None
            and shown.utcoffset() != datetime.fromtimestamp(due - 1, zone).utcoffset()
        ), (setting, local(due, zone))
        swallowed = [
            d
            for n in range((shown.date() - before.date()).days + 1)
            if before
            < datetime.combine(d := before.date() + timedelta(days=n), setting.at)
            <= shown.replace(tzinfo=None)
        ]
        assert len(swallowed) == 1, (setting, local(due, zone))
        days.append(swallowed[0])
    # One per period: consecutive dues are consecutive days (weeks), none skipped, none
    # twice...
    step = 1 if setting.period == DAILY else 7
    assert all((b - a).days == step for a, b in pairwise(days)), days
    if setting.period == WEEKLY:
        assert {d.weekday() for d in days} == {setting.weekday}
    # ...and every real occurrence of the time between the start and the last due is one
    # of them.
    first_day = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last_day = datetime.fromtimestamp(dues[-1], zone).date()
    expected = [t for t in occurrences(setting, first_day, last_day) if start < t <= dues[-1]]
    assert set(expected) <= set(dues)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ZONES), instants)
def test_hourly_dues_come_every_hour_on_the_hour(zone_name: str, start: float) -> None:
    zone = ZoneInfo(zone_name)
    dues = chain(DigestSetting(HOURLY, zone_name), start, 3)
    previous = start
    for due in dues:
        assert previous < due <= previous + 2 * 3600  # never an hour skipped but at a change
        assert datetime.fromtimestamp(due, zone).minute == 0
        previous = due


def test_wall_instant_in_a_gap_is_the_change_itself() -> None:
    # New York, 10 March 2024: 02:00 EST becomes 03:00 EDT.
    new_york = ZoneInfo("America/New_York")
    assert wall_instant(date(2024, 3, 10), time(2, 15), new_york) == at("2024-03-10T07:00")


# -- what ------------------------------------------------------------------------------


def headline(n: int, regions: tuple[str, ...], minutes: int) -> Headline:
    published = datetime(2026, 12, 1, 8, tzinfo=UTC) + timedelta(minutes=minutes)
    return Headline(
        "F", f"e{n}", f"Story {n}", f"https://e.org/{n}", "", published, (), "en", regions, n
    )


def test_a_digest_groups_by_region_world_last_newest_first_ten_at_most() -> None:
    headlines = [headline(n, (EUROPE,), n) for n in range(13)]
    headlines += [headline(20, (), 5), headline(21, (ASIA, EUROPE), 1), headline(22, (ASIA,), 2)]
    digest = build(7, DAILY, headlines)
    assert digest.key == 7 and digest.total == 16
    assert [s.region for s in digest.sections] == [ASIA, EUROPE, WORLD]
    asia, europe, world = digest.sections
    assert [h.title for h in asia.headlines] == ["Story 22", "Story 21"]
    assert [h.title for h in europe.headlines] == [f"Story {n}" for n in range(12, 2, -1)]
    assert europe.more == 3 and asia.more == 0
    assert [h.title for h in world.headlines] == ["Story 20"]
    # A chat of Europe alone lists the Asia-and-Europe story under Europe.
    only_europe = build(7, DAILY, headlines[13:], regions=(EUROPE,))
    assert [s.region for s in only_europe.sections] == [EUROPE, WORLD]
