"""Digests: a chat that asks for one receives, once per period, the headlines it was owed
since the last, in one message, instead of each as it comes. Pure: the setting as text,
when the next digest is due, and how its headlines are grouped; no I/O and no clock.

A setting reads "hourly [ZONE]", "daily HH:MM ZONE" or "weekly DAY HH:MM ZONE" (ZONE an IANA
name such as Europe/Madrid); that text is what the database and the config file hold.
Times are wall-clock times in the zone, so daylight saving moves them with the clocks: on
the day the clocks go forward past the time, the digest goes at the first instant after
the gap; on the day they go back over it, at its first occurrence only. Either way, once.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.models import Digest, DigestSection, Headline
from bot.regions.names import REGIONS, WORLD, fold_case_and_accents

HOURLY, DAILY, WEEKLY = "hourly", "daily", "weekly"
PERIODS = (HOURLY, DAILY, WEEKLY)
PER_REGION = 10  # headlines shown per region; the rest are counted ("and 4 more")
OFF_WORDS = ("off", "no", "none", "desactivar", "apagar", "ninguno")

# What a user may type for a period or a day, in English and Spanish (folded: no accents).
_PERIOD_WORDS = {
    "hourly": HOURLY,
    "hour": HOURLY,
    "horario": HOURLY,
    "hora": HOURLY,
    "daily": DAILY,
    "day": DAILY,
    "diario": DAILY,
    "diaria": DAILY,
    "weekly": WEEKLY,
    "week": WEEKLY,
    "semanal": WEEKLY,
}
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = (
    ("monday", "lunes"),
    ("tuesday", "martes"),
    ("wednesday", "miercoles"),
    ("thursday", "jueves"),
    ("friday", "viernes"),
    ("saturday", "sabado"),
    ("sunday", "domingo"),
)
_DAY_WORDS = {
    word: index
    for index, names in enumerate(_DAY_NAMES)
    for name in names
    for word in (name, name[:3])
}


class DigestError(Exception):
    """A setting that cannot be read: `key` names the message (bot.chat.i18n, "digest_"
    prefixed) and `values` fill it in, so the chat reads it in its language and the config
    check in English."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


@dataclass(frozen=True, slots=True)
class DigestSetting:
    """When a chat's digest goes: `period`, at `at` (daily, weekly; hourly on the hour),
    on `weekday` (0 Monday; weekly), all in the IANA time zone `zone`."""

    period: str
    zone: str = "UTC"
    at: time = time(0, 0)
    weekday: int = 0

    def __str__(self) -> str:
        when = f"{self.at:%H:%M}"
        if self.period == HOURLY:
            return f"{HOURLY} {self.zone}"
        if self.period == DAILY:
            return f"{DAILY} {when} {self.zone}"
        return f"{WEEKLY} {DAYS[self.weekday]} {when} {self.zone}"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)


def parse_setting(words: Sequence[str], saved_zone: str = "") -> DigestSetting | None:
    """The setting `words` give ("daily", "08:00", "Europe/Madrid", in any order), or None
    for "off". A daily or weekly digest without a zone takes `saved_zone`; with neither,
    a DigestError ("digest_needs_zone"). An hourly one without a zone goes on the hour of
    `saved_zone`, else UTC."""
    period = day = at = zone = None
    for word in words:
        folded = fold_case_and_accents(word)
        if folded in OFF_WORDS and len(words) == 1:
            return None
        if folded in _PERIOD_WORDS and period is None:
            period = _PERIOD_WORDS[folded]
        elif folded in _DAY_WORDS and day is None:
            day = _DAY_WORDS[folded]
        elif at is None and word[:1].isdigit():
            at = parse_time(word)
        elif zone is None and ("/" in word or folded in _ZONES_FOLDED):
            zone = find_zone(word)
        else:
            raise DigestError("digest_bad_word", word=word)
    if period is None:
        raise DigestError("digest_no_period")
    if period == HOURLY:
        if day is not None or at is not None:
            raise DigestError("digest_hourly_alone")
        return DigestSetting(HOURLY, zone or saved_zone or "UTC")
    if at is None:
        raise DigestError("digest_needs_time")
    if period == WEEKLY and day is None:
        raise DigestError("digest_needs_day")
    if period == DAILY and day is not None:
        raise DigestError("digest_daily_day")
    zone = zone or saved_zone
    if not zone:
        raise DigestError("digest_needs_zone", setting=" ".join(words))
    return DigestSetting(period, zone, at, day or 0)


def parse_time(word: str) -> time:
    """The time of day `word` gives ("08:00", "8:30", "20h"); a DigestError otherwise."""
    text = word.lower().removesuffix("h")
    hours, _, minutes = text.partition(":")
    if (
        hours.isdigit()
        and len(hours) <= 2
        and (not minutes or (minutes.isdigit() and len(minutes) == 2))
    ):
        h, m = int(hours), int(minutes or 0)
        if h < 24 and m < 60:
            return time(h, m)
    raise DigestError("digest_bad_time", word=word)


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone name, by its folded form: "europe/madrid" -> "Europe/Madrid"."""
    return {fold_case_and_accents(name): name for name in available_timezones()}


class _FoldedZones:
    """`"utc" in _ZONES_FOLDED`: whether a word is a zone name without a slash."""

    def __contains__(self, folded: object) -> bool:
        return folded in _zones()


_ZONES_FOLDED = _FoldedZones()


def find_zone(name: str) -> str:
    """The IANA zone `name` means, in any case; a DigestError with a suggestion if none."""
    found = _zones().get(fold_case_and_accents(name.strip()))
    if found is not None:
        try:
            ZoneInfo(found)
        except (ZoneInfoNotFoundError, ValueError):
            found = None
    if found is None:
        close = difflib.get_close_matches(fold_case_and_accents(name), list(_zones()), n=1)
        hint = _zones()[close[0]] if close else "Europe/Madrid"
        raise DigestError("digest_bad_zone", zone=name, hint=hint)
    return found


def zone_choices(typed: str, limit: int = 25) -> list[str]:
    """Zone names for a box that completes as one types: those that start with `typed`
    (or whose city does), then those that contain it."""
    folded = fold_case_and_accents(typed.strip()).replace(" ", "_")
    first, then = [], []
    for key, name in sorted(_zones().items()):
        city = key.rsplit("/", 1)[-1]
        if key.startswith(folded) or city.startswith(folded):
            first.append(name)
        elif folded in key:
            then.append(name)
    return (first + then)[:limit]


# -- when ------------------------------------------------------------------------------


def next_due(setting: DigestSetting, after: float) -> float:
    """The first instant strictly after `after` (seconds since the epoch) at which the
    digest of `setting` is due. Successive calls from each answer give each period once:
    every day (week, hour) one instant, none skipped, none twice."""
    zone = setting.tz
    if setting.period == HOURLY:
        return _next_hour(zone, after)
    local = datetime.fromtimestamp(after, zone).date()
    step = 1 if setting.period == DAILY else 7
    day = local - timedelta(days=1)
    if setting.period == WEEKLY:
        day -= timedelta(days=(day.weekday() - setting.weekday) % 7)
    while True:
        due = wall_instant(day, setting.at, zone)
        if due > after:
            return due
        day += timedelta(days=step)


def wall_instant(day: date, at: time, zone: ZoneInfo) -> float:
    """The instant the clocks of `zone` show `at` on `day`: the first of two when they go
    back over it, and when they go forward past it, the first instant after the gap."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=zone, fold=0).timestamp()
    if datetime.fromtimestamp(first, zone).replace(tzinfo=None) == wall:
        return first  # it exists; fold=0 is the earlier of two
    # A gap: fold=0 reads the wall time with the offset before the change (an instant
    # after the gap), fold=1 with the one after it (an instant before). The change is
    # the first second between them whose clock reads past `wall`.
    before = wall.replace(tzinfo=zone, fold=1).timestamp()
    lo, hi = math.floor(min(first, before)), math.ceil(max(first, before))
    while hi - lo > 1:
        middle = (lo + hi) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            hi = middle
        else:
            lo = middle
    return float(hi)


def _next_hour(zone: ZoneInfo, after: float) -> float:
    """The next instant after `after` at which the clocks of `zone` show a whole hour
    (minute 0): where the offset has half or quarter hours, they are not UTC's hours.
    Looked for minute by minute, so that a change of offset is simply read off; the
    clocks show minute 0 at least once in any 120 minutes."""
    t = math.floor(after / 60) * 60 + 60
    for _ in range(180):
        if datetime.fromtimestamp(t, zone).minute == 0:
            return float(t)
        t += 60
    return float(math.floor(after / 3600) * 3600 + 3600)  # no zone does this; a safe answer


# -- what -------------------------------------------------------------------------------


def build(
    key: int,
    period: str,
    headlines: Iterable[Headline],
    regions: Sequence[str] = (),
    per_region: int = PER_REGION,
) -> Digest:
    """A digest of `headlines`: grouped by region in the order of REGIONS, world news
    (no region) last, newest first, at most `per_region` of each with the rest counted.
    A headline of several regions is listed once, under the first the chat receives
    (`regions`; empty: all)."""
    groups: dict[str, list[Headline]] = {}
    total = 0
    for headline in headlines:
        total += 1
        wanted = [r for r in headline.regions if not regions or r in regions]
        groups.setdefault(wanted[0] if wanted else WORLD, []).append(headline)
    sections = []
    for region in (*REGIONS, WORLD):
        found = groups.get(region)
        if found:
            found.sort(key=lambda h: (h.published, h.id), reverse=True)
            sections.append(
                DigestSection(region, tuple(found[:per_region]), max(0, len(found) - per_region))
            )
    return Digest(key, period, tuple(sections), total)


def describe_due(setting: DigestSetting, due: float) -> str:
    """The time `due` as the chat's clocks show it: "2026-12-02 08:00 CET"."""
    return datetime.fromtimestamp(due, setting.tz).strftime("%Y-%m-%d %H:%M %Z")
