"""The delivery plan: which new headlines of a poll are owed to which destination, and
when each falls due. Pure: plain data in, plain data out, no I/O and no clock.

The store's `add_headlines` reads what the plan needs in its transaction, asks `owed`
which of the new headlines are posted at all and `schedule` to whom and when, and
writes the answer in the same transaction; the sender then sends what is due.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass

from bot import filters
from bot.models import Destination, Headline
from bot.regions.names import WORLD, fold_case_and_accents

# A new entry whose title matches one stored this recently is the same story under a
# rewritten guid, and is not posted again.
TITLE_DEDUP_SECONDS = 7 * 86400


@dataclass(frozen=True, slots=True)
class Planned:
    """One delivery to write: `headline` owed to `destination`, not sent before `due`."""

    headline: Headline
    destination: Destination
    due: float
    held: bool = False  # owed to the destination's next digest, not sent on its own


def title_key(title: str) -> str:
    """A title reduced to its words, for spotting the same story under a new guid."""
    return " ".join(re.findall(r"\w+", fold_case_and_accents(title)))


def wants(destination: Destination, headline: Headline, text: filters.Text | None = None) -> bool:
    """Whether `destination`'s filters let `headline` through: its feeds, its regions and
    its keywords, all of them. A region filter naming WORLD lets through the headlines
    with no region (world news). `text` is the headline's `filters.Text` when the caller has
    it (read once for every destination), else it is read here if needed."""
    if destination.feeds and headline.feed not in destination.feeds:
        return False
    if destination.regions and not any(
        r in destination.regions for r in headline.regions or (WORLD,)
    ):
        return False
    if not (destination.include or destination.exclude):
        return True
    text = filters.Text.of(headline) if text is None else text
    return filters.passes(destination.include, destination.exclude, text)


def oldest_first(headlines: Iterable[Headline]) -> list[Headline]:
    """The order new entries are stored and go out in."""
    return sorted(headlines, key=lambda h: (h.published, h.title))


def owed(
    new: Sequence[Headline],
    *,
    initialized: bool,
    backfill: int,
    max_age: float,
    recent_titles: Mapping[str, float],
    now: float,
) -> list[Headline]:
    """Which of a poll's `new` headlines are posted at all, oldest first.

    On a feed's first poll (`initialized` False) only the newest `backfill`. After it,
    all but those published more than `max_age` seconds ago (0: no limit) and those whose
    title key was stored (at the time in `recent_titles`) within TITLE_DEDUP_SECONDS.
    """
    new = oldest_first(new)
    if not initialized:
        # The newest `backfill`, or all of them when the feed lists fewer: a start
        # computed as len - backfill would go negative and count from the end.
        return new[max(0, len(new) - backfill) :]
    return [
        h
        for h in new
        if not _repeated(h, recent_titles, now)
        and (not max_age or h.published.timestamp() >= now - max_age)
    ]


def _repeated(headline: Headline, recent_titles: Mapping[str, float], now: float) -> bool:
    """Whether the feed had `headline`'s title (one with words) within the window."""
    key = title_key(headline.title)
    stored = recent_titles.get(key) if key else None
    return stored is not None and stored > now - TITLE_DEDUP_SECONDS


# A publisher that changed its ids (a new CMS, a new domain) lists about as many entries as
# before, nearly all unknown, while the ids of the last poll vanish, many of them under
# the titles or links of those that vanished; a burst of real news adds entries while the
# old ones stay listed, or pushes them out with stories of its own. Only the first is held.
IDS_CHANGED_MIN_ENTRIES = 4  # fewer listed say too little to tell
IDS_CHANGED_SHARE = 0.8  # of the listing new, and of the last listing gone


@dataclass(frozen=True, slots=True)
class Listed:
    """An entry the feed listed at its last poll, as the ids check compares it."""

    entry_id: str
    title_key: str
    link: str


def mostly_unknown(listed: int, fresh: int) -> bool:
    """Whether a poll's listing is mostly entries never seen: only then is it worth
    reading the last listing to ask `ids_changed`."""
    return listed >= IDS_CHANGED_MIN_ENTRIES and fresh >= IDS_CHANGED_SHARE * listed


def ids_changed(
    listed: int, fresh: Sequence[Headline], previous: Sequence[Listed], known: Set[str]
) -> bool:
    """Whether a poll that lists `listed` entries, `fresh` of them never seen, shows a
    publisher that changed its ids: mostly unknown entries, most of the last listing
    (`previous`) gone (not among the `known` ids listed now), and at least half of the
    unknown ones carrying the title or the link of one that went."""
    if not mostly_unknown(listed, len(fresh)) or not previous:
        return False
    gone = [p for p in previous if p.entry_id not in known]
    if len(gone) < IDS_CHANGED_SHARE * len(previous):
        return False
    titles = {p.title_key for p in gone if p.title_key}
    links = {p.link for p in gone if p.link}
    same = sum(1 for h in fresh if title_key(h.title) in titles or h.link in links)
    return 2 * same >= len(fresh)


def schedule(
    headlines: Sequence[Headline],
    destinations: Iterable[Destination],
    *,
    waiting: Mapping[int, int],
    now: float,
    max_per_poll: int,
    release_every: float,
) -> list[Planned]:
    """The deliveries of `headlines` (oldest first) to each active destination whose
    filters let them through: `max_per_poll` at a time, a batch every `release_every`
    seconds. What the feed still owes a destination from earlier polls (`waiting`, by
    destination id) goes first: new entries queue behind it, so a long burst keeps both
    its order and its pace. A destination with a digest is owed them all at once, held
    for the digest rather than paced."""
    planned: list[Planned] = []
    texts: dict[int, filters.Text] = {}  # by index in `headlines`, read when first needed

    def text(i: int) -> filters.Text:
        if i not in texts:
            texts[i] = filters.Text.of(headlines[i])
        return texts[i]

    for destination in destinations:
        if not destination.active:
            continue
        ahead = waiting.get(destination.id, 0)
        keywords = bool(destination.include or destination.exclude)
        matching = [
            h
            for i, h in enumerate(headlines)
            if wants(destination, h, text(i) if keywords else None)
        ]
        if destination.digest:
            planned += [Planned(h, destination, now, held=True) for h in matching]
            continue
        planned += [
            Planned(h, destination, now + ((ahead + i) // max_per_poll) * release_every)
            for i, h in enumerate(matching)
        ]
    return planned
