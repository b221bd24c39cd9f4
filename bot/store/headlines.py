"""The archive: the headlines of every feed, what each poll adds (with the deliveries it
owes, in the same transaction), what is forgotten, and the newest and the counts that
commands read."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.models import DeliveryStatus, Headline
from bot.outbox import plan
from bot.regions.names import WORLD
from bot.store import rows
from bot.store.destinations import DestinationStore
from bot.store.feeds import FeedStore
from bot.store.schema import hour_of

# /search orders by publication the most recently stored matches, this many: a story is
# stored when it is published, give or take a feed's delay, so these hold the newest.
SEARCH_WINDOW = 200


@dataclass(frozen=True, slots=True)
class StoreResult:
    """What one poll added: the new headlines (oldest first) and how many deliveries."""

    new: tuple[Headline, ...]
    deliveries: int
    first_run: bool = False
    held: int = 0  # owed, but held: the feed changed its ids (plan.ids_changed)


class HeadlineStore(FeedStore, DestinationStore):
    async def add_headlines(
        self,
        feed: str,
        headlines: Sequence[Headline],
        *,
        backfill: int = 0,
        max_per_poll: int = 20,
        release_every: float = 600.0,
        max_age: float = 0.0,
        now: float | None = None,
    ) -> StoreResult:
        """Store the entries of one poll of `feed` and queue what is owed, in one transaction.

        New entries are those whose id this feed has not had. They are all stored; who is
        owed which of them, and when, is the delivery plan's answer (bot.outbox.plan):
        on a feed's first poll only the newest `backfill`, after it all but the old and
        the repeated titles, `max_per_poll` at a time, a batch every `release_every`.
        """
        now = time.time() if now is None else now
        async with self._transaction():
            feed_id, initialized = await self._feed_to_fill(feed)
            unique: dict[str, Headline] = {}
            for headline in headlines:
                unique.setdefault(headline.entry_id, headline)
            known = {
                r[0]
                for r in await self._fetch_in(
                    "SELECT entry_id FROM headlines WHERE feed_id = ? AND entry_id IN ({})",
                    (feed_id,),
                    list(unique),
                )
            }
            fresh = plan.oldest_first(h for h in unique.values() if h.entry_id not in known)
            changed = (
                initialized
                and plan.mostly_unknown(len(unique), len(fresh))
                and plan.ids_changed(len(unique), fresh, await self._last_listing(feed_id), known)
            )
            await self._executemany(
                "UPDATE headlines SET seen = ? WHERE feed_id = ? AND entry_id = ?",
                [(now, feed_id, entry_id) for entry_id in known],
            )
            title_keys = {h.entry_id: plan.title_key(h.title) for h in fresh}
            # When this feed last stored each of the new titles (its newest copy).
            recent_titles = dict(
                await self._fetch_in(
                    """SELECT title_key, max(fetched) FROM headlines
                    WHERE feed_id = ? AND title_key IN ({}) GROUP BY title_key""",
                    (feed_id,),
                    list({k for k in title_keys.values() if k}),
                )
            )
            await self._executemany(
                """INSERT INTO headlines (feed_id, entry_id, title_key, title, link, summary,
                    published, fetched, seen, categories, language, regions, image)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [
                    (
                        feed_id,
                        h.entry_id,
                        title_keys[h.entry_id],
                        h.title,
                        h.link,
                        h.summary,
                        h.published.timestamp(),
                        now,
                        now,
                        json.dumps(h.categories, ensure_ascii=False),
                        h.language,
                        json.dumps(h.regions),
                        h.image,
                    )
                    for h in fresh
                ],
            )
            ids = dict(
                await self._fetch_in(
                    "SELECT entry_id, id FROM headlines WHERE feed_id = ? AND entry_id IN ({})",
                    (feed_id,),
                    [h.entry_id for h in fresh],
                )
            )
            stored = [replace(h, id=ids[h.entry_id], feed=feed) for h in fresh]
            await self._executemany(
                """INSERT INTO headline_regions (region, published, headline_id)
                VALUES (?, ?, ?) ON CONFLICT DO NOTHING""",
                [
                    (region, h.published.timestamp(), h.id)
                    for h in stored
                    for region in h.regions or (WORLD,)
                ],
            )
            if not initialized:
                await self._initialized(feed_id)
            posted = plan.owed(
                stored,
                initialized=initialized,
                backfill=backfill,
                max_age=max_age,
                recent_titles=recent_titles,
                now=now,
            )
            if changed and posted:
                # Stored, not queued: the operator looks, then releases them (or not).
                await self._executemany(
                    """INSERT INTO held_headlines (headline_id, feed_id) VALUES (?, ?)
                    ON CONFLICT DO NOTHING""",
                    [(h.id, feed_id) for h in posted],
                )
                return StoreResult(tuple(stored), 0, held=len(posted))
            planned = (
                plan.schedule(
                    posted,
                    await self.destinations(active_only=True),
                    waiting=await self._waiting(feed_id),
                    now=now,
                    max_per_poll=max_per_poll,
                    release_every=release_every,
                )
                if posted
                else []
            )
            await self._insert_deliveries(planned, now)
        return StoreResult(tuple(stored), len(planned), first_run=not initialized)

    async def _last_listing(self, feed_id: int) -> list[plan.Listed]:
        """The entries the feed listed at its last poll (those it saw last)."""
        found = await self._fetchall(
            """SELECT entry_id, title_key, link FROM headlines WHERE feed_id = ?
            AND seen = (SELECT max(seen) FROM headlines WHERE feed_id = ?)""",
            (feed_id, feed_id),
        )
        return [plan.Listed(*row) for row in found]

    async def held_counts(self) -> dict[str, int]:
        """Per feed name, the entries held since the feed changed its ids."""
        return dict(
            await self._fetchall(
                """SELECT f.name, count(*) FROM held_headlines x JOIN feeds f ON f.id = x.feed_id
                GROUP BY f.name""",
                (),
            )
        )

    async def release(
        self,
        feed: str,
        *,
        max_per_poll: int = 20,
        release_every: float = 600.0,
        now: float | None = None,
    ) -> int | None:
        """Queue the entries held for `feed` as a poll would have: returns how many were
        held (0: none), None if there is no such feed."""
        now = time.time() if now is None else now
        async with self._transaction():
            row = await self._fetchone("SELECT id FROM feeds WHERE name = ?", (feed,))
            if row is None:
                return None
            found = await self._fetchall(
                f"""SELECT {rows.HEADLINE_COLUMNS} FROM held_headlines x
                JOIN headlines h ON h.id = x.headline_id JOIN feeds f ON f.id = h.feed_id
                WHERE x.feed_id = ? ORDER BY h.published, h.id""",
                (row[0],),
            )
            held = [rows.headline(r) for r in found]
            planned = plan.schedule(
                held,
                await self.destinations(active_only=True),
                waiting=await self._waiting(row[0]),
                now=now,
                max_per_poll=max_per_poll,
                release_every=release_every,
            )
            await self._insert_deliveries(planned, now)
            await self._execute("DELETE FROM held_headlines WHERE feed_id = ?", (row[0],))
        return len(held)

    async def forget(self, unseen_since: float) -> int:
        """Drop the headlines no feed has listed since `unseen_since`, with their delivery
        records, except those still owed to someone; returns how many went."""
        doomed = """SELECT id FROM headlines h WHERE h.seen < ? AND NOT EXISTS (
            SELECT 1 FROM deliveries x WHERE x.headline_id = h.id AND x.status IN (?, ?))"""
        args = (unseen_since, DeliveryStatus.PENDING, DeliveryStatus.HELD)
        async with self._transaction():
            for table in ("headline_regions", "deliveries", "held_headlines"):
                await self._execute(f"DELETE FROM {table} WHERE headline_id IN ({doomed})", args)
            gone = await self._execute(f"DELETE FROM headlines WHERE id IN ({doomed})", args)
        return gone

    async def latest(
        self, limit: int = 5, region: str | None = None, feeds: Sequence[str] = ()
    ) -> list[Headline]:
        """The newest headlines, of one region if given (`""`: those with no region)."""
        where, args = [], []
        if region is None:
            # The newest of the whole archive, read off headlines_by_time.
            source, order = "headlines h", "h.published DESC, h.id DESC"
        else:
            # The newest of a region, read off headline_regions' key, which starts with it.
            source = "headline_regions r JOIN headlines h ON h.id = r.headline_id"
            order = "r.published DESC, r.headline_id DESC"
            where.append("r.region = ?")
            args.append(region)
        if feeds:
            where.append(f"f.name IN ({', '.join('?' * len(feeds))})")
            args += feeds
        sql = f"""SELECT {rows.HEADLINE_COLUMNS} FROM {source} JOIN feeds f ON f.id = h.feed_id
            {"WHERE " + " AND ".join(where) if where else ""}
            ORDER BY {order} LIMIT ?"""
        # max: SQLite reads a negative LIMIT as no limit at all.
        return [rows.headline(r) for r in await self._fetchall(sql, (*args, max(0, limit)))]

    async def search(
        self, terms: Sequence[str], region: str | None = None, limit: int = 10
    ) -> list[Headline]:
        """The newest headlines whose title, summary or categories hold every one of
        `terms` (words, or phrases of words separated by spaces, as `bot.filters.words`
        gives them), of one region if given (`""`: those with no region).

        The backend's full-text index finds them (SQLite's FTS5 table, PostgreSQL's
        tsvector), and no user text reaches its query syntax. The index is read newest
        stored first, which is what keeps a common word fast in a large archive: the
        SEARCH_WINDOW most recently stored matches are ordered by publication, and the
        newest `limit` of them returned."""
        if not terms:
            return []
        matches, args = self.backend.search_sql(terms, region)
        sql = f"""SELECT {rows.HEADLINE_COLUMNS} FROM ({matches}) m
            JOIN headlines h ON h.id = m.id JOIN feeds f ON f.id = h.feed_id
            ORDER BY h.published DESC, h.id DESC LIMIT ?"""
        found = await self._fetchall(sql, (*args, SEARCH_WINDOW, max(0, limit)))
        return [rows.headline(r) for r in found]

    async def region_counts(self, since: float) -> dict[str, int]:
        """How many headlines published since `since` each region has ("" for none).

        The hours after the one `since` falls in are summed from region_hours; that hour's
        part from `since` on is counted off headline_regions' index, region by region."""
        first = hour_of(since)
        counts = dict(
            await self._fetchall(
                "SELECT region, sum(headlines) FROM region_hours WHERE hour > ? GROUP BY 1",
                (first,),
            )
        )
        partial = await self._fetchall(
            f"""SELECT b.region, (SELECT count(*) FROM headline_regions r
                WHERE r.region = b.region AND r.published >= ? AND r.published < ?
                AND {self._hour_sql("r.published")} = b.hour)
            FROM region_hours b WHERE b.hour = ?""",
            (since, (first + 1) * 3600.0, first),
        )
        for region, count in partial:
            if count:
                counts[region] = counts.get(region, 0) + count
        counts.setdefault(WORLD, 0)
        return counts
