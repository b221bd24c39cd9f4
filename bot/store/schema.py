"""The schema: the ordered migrations, and the SQL helpers they and the queries share.

The schema version of a database is the number of migrations applied (PRAGMA
user_version); a new migration is appended, never edited in place.
"""

from __future__ import annotations

import math


def hour_sql(published: str) -> str:
    """SQL for the hour (since the epoch, rounded down) a published time falls in; SQLite's
    CAST rounds towards zero, so an hour before 1970 takes one off. `hour_of` agrees."""
    quotient = f"({published} / 3600.0)"
    return f"(CAST({quotient} AS INTEGER) - ({quotient} < CAST({quotient} AS INTEGER)))"


def hour_of(published: float) -> int:
    """The hour `published` falls in, as `hour_sql` computes it in SQL."""
    return math.floor(published / 3600.0)


def _count_delivery(row: str, change: int) -> str:
    """SQL adding `change` to the deliveries of `row`'s destination and status (a trigger's
    NEW or OLD), dropping the count when it reaches 0."""
    return f"""INSERT INTO delivery_totals (destination_id, status, deliveries)
            VALUES ({row}.destination_id, {row}.status, {change})
            ON CONFLICT (destination_id, status)
            DO UPDATE SET deliveries = deliveries + ({change});
        DELETE FROM delivery_totals WHERE destination_id = {row}.destination_id
            AND status = {row}.status AND deliveries = 0;"""


# Ordered migrations: the schema version is the number applied (PRAGMA user_version).
# The delivery statuses in them ('pending' as the column's default and in the partial
# index deliveries_pending) are literals, as SQL needs them there and as databases
# already hold them; they are the values of DeliveryStatus, which the queries bind.
# A query binding DeliveryStatus.PENDING still uses the partial index: SQLite compares
# the bound value when it plans (and plans again should a later binding differ).
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE feeds (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        config_url TEXT NOT NULL,
        url TEXT NOT NULL,
        etag TEXT NOT NULL DEFAULT '',
        last_modified TEXT NOT NULL DEFAULT '',
        initialized INTEGER NOT NULL DEFAULT 0,
        last_poll_at REAL NOT NULL DEFAULT 0,
        last_success_at REAL NOT NULL DEFAULT 0,
        last_status TEXT NOT NULL DEFAULT '',
        last_error TEXT NOT NULL DEFAULT '',
        failures INTEGER NOT NULL DEFAULT 0,
        next_poll_at REAL NOT NULL DEFAULT 0,
        min_interval INTEGER NOT NULL DEFAULT 0,
        disabled_reason TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE headlines (
        id INTEGER PRIMARY KEY,
        feed_id INTEGER NOT NULL REFERENCES feeds(id),
        entry_id TEXT NOT NULL,
        title_key TEXT NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        summary TEXT NOT NULL,
        published REAL NOT NULL,
        fetched REAL NOT NULL,
        seen REAL NOT NULL,  -- when the feed last listed it
        categories TEXT NOT NULL,
        language TEXT NOT NULL,
        regions TEXT NOT NULL,
        UNIQUE (feed_id, entry_id)
    );
    CREATE INDEX headlines_by_time ON headlines (published DESC, id DESC);
    CREATE INDEX headlines_by_title ON headlines (feed_id, title_key);
    CREATE TABLE headline_regions (
        region TEXT NOT NULL,
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        PRIMARY KEY (region, headline_id)
    ) WITHOUT ROWID;
    CREATE TABLE destinations (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        regions TEXT NOT NULL DEFAULT '[]',
        feeds TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT NOT NULL DEFAULT '',
        -- The chat as the config file names it (@name, or an id it no longer has after a
        -- move); empty for chats that subscribed themselves.
        config_key TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        UNIQUE (platform, chat_id)
    );
    CREATE UNIQUE INDEX destinations_by_config_key ON destinations (platform, config_key)
        WHERE config_key != '';
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        destination_id INTEGER NOT NULL REFERENCES destinations(id),
        status TEXT NOT NULL DEFAULT 'pending',
        due REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        message_id TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        sent REAL NOT NULL DEFAULT 0,
        UNIQUE (headline_id, destination_id)
    );
    CREATE INDEX deliveries_pending ON deliveries (destination_id, due, headline_id)
        WHERE status = 'pending';
    """,
    # 2: commands stay fast as the archive grows. headline_regions carries each headline's
    # published time, so the newest of a region are read off its index, and a row with
    # region '' (WORLD) for a headline with no region. The counts /region, `status` and
    # the feeds' state show are kept by triggers, in the same transaction as whatever
    # adds, moves or removes the rows they count, so no code path can forget them:
    # headlines per region per hour of publication, per feed, and deliveries per
    # destination and status.
    f"""
    CREATE TABLE headline_regions_2 (
        region TEXT NOT NULL,
        published REAL NOT NULL,  -- the headline's, copied so the index orders by it
        headline_id INTEGER NOT NULL REFERENCES headlines(id),
        PRIMARY KEY (region, published, headline_id)
    ) WITHOUT ROWID;
    INSERT INTO headline_regions_2 (region, published, headline_id)
        SELECT r.region, h.published, r.headline_id
        FROM headline_regions r JOIN headlines h ON h.id = r.headline_id;
    INSERT INTO headline_regions_2 (region, published, headline_id)
        SELECT '', published, id FROM headlines WHERE regions = '[]';
    DROP TABLE headline_regions;
    ALTER TABLE headline_regions_2 RENAME TO headline_regions;
    CREATE INDEX headline_regions_by_headline ON headline_regions (headline_id);

    CREATE TABLE region_hours (
        hour INTEGER NOT NULL,  -- floor(published / 3600)
        region TEXT NOT NULL,
        headlines INTEGER NOT NULL,
        PRIMARY KEY (hour, region)
    ) WITHOUT ROWID;
    INSERT INTO region_hours (hour, region, headlines)
        SELECT {hour_sql("published")}, region, count(*) FROM headline_regions GROUP BY 1, 2;
    CREATE TRIGGER region_hours_add AFTER INSERT ON headline_regions BEGIN
        INSERT INTO region_hours (hour, region, headlines)
            VALUES ({hour_sql("NEW.published")}, NEW.region, 1)
            ON CONFLICT (hour, region) DO UPDATE SET headlines = headlines + 1;
    END;
    CREATE TRIGGER region_hours_remove AFTER DELETE ON headline_regions BEGIN
        UPDATE region_hours SET headlines = headlines - 1
            WHERE hour = {hour_sql("OLD.published")} AND region = OLD.region;
        DELETE FROM region_hours
            WHERE hour = {hour_sql("OLD.published")} AND region = OLD.region AND headlines = 0;
    END;

    CREATE TRIGGER headline_regions_republished AFTER UPDATE OF published ON headlines
        WHEN NEW.published != OLD.published BEGIN
        INSERT INTO headline_regions (region, published, headline_id)
            SELECT region, NEW.published, headline_id FROM headline_regions
            WHERE headline_id = NEW.id;
        DELETE FROM headline_regions WHERE headline_id = NEW.id AND published = OLD.published;
    END;

    ALTER TABLE feeds ADD COLUMN headlines INTEGER NOT NULL DEFAULT 0;
    UPDATE feeds SET headlines = (SELECT count(*) FROM headlines h WHERE h.feed_id = feeds.id);
    CREATE TRIGGER feed_headlines_add AFTER INSERT ON headlines BEGIN
        UPDATE feeds SET headlines = headlines + 1 WHERE id = NEW.feed_id;
    END;
    CREATE TRIGGER feed_headlines_remove AFTER DELETE ON headlines BEGIN
        UPDATE feeds SET headlines = headlines - 1 WHERE id = OLD.feed_id;
    END;
    CREATE TRIGGER feed_headlines_move AFTER UPDATE OF feed_id ON headlines
        WHEN NEW.feed_id != OLD.feed_id BEGIN
        UPDATE feeds SET headlines = headlines - 1 WHERE id = OLD.feed_id;
        UPDATE feeds SET headlines = headlines + 1 WHERE id = NEW.feed_id;
    END;

    CREATE TABLE delivery_totals (
        destination_id INTEGER NOT NULL,
        status TEXT NOT NULL,
        deliveries INTEGER NOT NULL,
        PRIMARY KEY (destination_id, status)
    ) WITHOUT ROWID;
    INSERT INTO delivery_totals (destination_id, status, deliveries)
        SELECT destination_id, status, count(*) FROM deliveries GROUP BY 1, 2;
    CREATE TRIGGER delivery_totals_add AFTER INSERT ON deliveries BEGIN
        {_count_delivery("NEW", +1)}
    END;
    CREATE TRIGGER delivery_totals_remove AFTER DELETE ON deliveries BEGIN
        {_count_delivery("OLD", -1)}
    END;
    CREATE TRIGGER delivery_totals_change AFTER UPDATE OF status, destination_id ON deliveries
        WHEN NEW.status != OLD.status OR NEW.destination_id != OLD.destination_id BEGIN
        {_count_delivery("OLD", -1)}
        {_count_delivery("NEW", +1)}
    END;
    """,
    # Digests: a chat's setting ("daily 08:00 Europe/Madrid", '' for none), its saved time
    # zone and when its next digest is due. While it has one, what it is owed waits as
    # 'held'; when the digest falls due, its held deliveries become pending together under
    # one digest key (the smallest of their ids), in the transaction that sets the next due.
    """
    ALTER TABLE destinations ADD COLUMN digest TEXT NOT NULL DEFAULT '';
    ALTER TABLE destinations ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
    ALTER TABLE destinations ADD COLUMN digest_due REAL NOT NULL DEFAULT 0;
    CREATE INDEX destinations_digest_due ON destinations (digest_due) WHERE digest != '';
    ALTER TABLE deliveries ADD COLUMN digest INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX deliveries_held ON deliveries (destination_id) WHERE status = 'held';
    """,
    # 4: a chat may be split into destinations of its own, each part by its thread id (a
    # Telegram forum topic): the key becomes (platform, chat_id, thread_id), '' being the
    # chat itself. region_thread marks the parts `/subscribe topics` made, one per region.
    """
    CREATE TABLE destinations_4 (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        title TEXT NOT NULL DEFAULT '',
        regions TEXT NOT NULL DEFAULT '[]',
        feeds TEXT NOT NULL DEFAULT '[]',
        language TEXT NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        inactive_reason TEXT NOT NULL DEFAULT '',
        config_key TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        digest TEXT NOT NULL DEFAULT '',
        timezone TEXT NOT NULL DEFAULT '',
        digest_due REAL NOT NULL DEFAULT 0,
        thread_id TEXT NOT NULL DEFAULT '',
        region_thread INTEGER NOT NULL DEFAULT 0,
        UNIQUE (platform, chat_id, thread_id)
    );
    INSERT INTO destinations_4 (id, platform, chat_id, kind, title, regions, feeds, language,
        active, inactive_reason, config_key, created, digest, timezone, digest_due)
        SELECT id, platform, chat_id, kind, title, regions, feeds, language, active,
            inactive_reason, config_key, created, digest, timezone, digest_due
        FROM destinations;
    DROP TABLE destinations;
    ALTER TABLE destinations_4 RENAME TO destinations;
    CREATE UNIQUE INDEX destinations_by_config_key ON destinations (platform, config_key)
        WHERE config_key != '';
    CREATE INDEX destinations_digest_due ON destinations (digest_due) WHERE digest != '';
    """,
    # 5: keyword filters per destination (bot.filters): JSON lists of terms, as regions.
    """
    ALTER TABLE destinations ADD COLUMN filter_include TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE destinations ADD COLUMN filter_exclude TEXT NOT NULL DEFAULT '[]';
    """,
    # 6: /search. A full-text index of the archive's titles, summaries and categories,
    # whole words without case or accents in any language (unicode61 remove_diacritics 2:
    # 'Bogota' finds 'Bogotá'). It holds no copy of the text (content='headlines'), and
    # triggers keep it in step in the same transaction as whatever adds, edits or forgets
    # a headline; the existing archive is indexed here.
    """
    CREATE VIRTUAL TABLE headlines_search USING fts5(
        title, summary, categories,
        content = 'headlines', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2"
    );
    INSERT INTO headlines_search (headlines_search) VALUES ('rebuild');
    CREATE TRIGGER headlines_search_add AFTER INSERT ON headlines BEGIN
        INSERT INTO headlines_search (rowid, title, summary, categories)
            VALUES (NEW.id, NEW.title, NEW.summary, NEW.categories);
    END;
    CREATE TRIGGER headlines_search_remove AFTER DELETE ON headlines BEGIN
        INSERT INTO headlines_search (headlines_search, rowid, title, summary, categories)
            VALUES ('delete', OLD.id, OLD.title, OLD.summary, OLD.categories);
    END;
    CREATE TRIGGER headlines_search_change AFTER UPDATE OF title, summary, categories
        ON headlines BEGIN
        INSERT INTO headlines_search (headlines_search, rowid, title, summary, categories)
            VALUES ('delete', OLD.id, OLD.title, OLD.summary, OLD.categories);
        INSERT INTO headlines_search (rowid, title, summary, categories)
            VALUES (NEW.id, NEW.title, NEW.summary, NEW.categories);
    END;
    """,
    # 7: what operators hear. `alerts`: one row per incident (a kind and its
    # subject: a feed, a platform, a chat), open until `resolved`; at most one open per
    # kind and subject, so a restart neither repeats nor loses one. `notices`: the
    # messages to the operator's chats, an outbox of plain text, marked sent once the
    # platform took them. `held_headlines`: entries a feed listed when it changed its ids,
    # stored but not queued until the operator releases them. `feeds.failing_since`: when
    # the feed's current run of failures began (0: it works).
    """
    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        opened REAL NOT NULL,
        resolved REAL NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX alerts_open ON alerts (kind, subject) WHERE resolved = 0;
    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        due REAL NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT NOT NULL DEFAULT '',
        created REAL NOT NULL,
        sent REAL NOT NULL DEFAULT 0
    );
    CREATE INDEX notices_pending ON notices (id) WHERE status = 'pending';
    CREATE TABLE held_headlines (
        headline_id INTEGER PRIMARY KEY REFERENCES headlines(id),
        feed_id INTEGER NOT NULL REFERENCES feeds(id)
    );
    ALTER TABLE feeds ADD COLUMN failing_since REAL NOT NULL DEFAULT 0;
    """,
    # 8: a headline's picture, an http(s) URL or '' (older headlines have none).
    """
    ALTER TABLE headlines ADD COLUMN image TEXT NOT NULL DEFAULT '';
    """,
    # 9: several processes on one database (bot/roles.py). `processes`: each running bot,
    # when it started and was last seen, by the database's clock. `leases`: a role (a
    # platform's sending and updates, a shard, the maintenance jobs) held by one process
    # until `expires` unless renewed. `feeds.poller`/`poll_lease`: the process polling a
    # feed now and until when; `feeds_due` finds the feeds due; `deliveries_sent`, what
    # was sent lately (a process taking a platform over paces by it).
    """
    CREATE TABLE processes (
        id TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        started REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        since REAL NOT NULL,
        expires REAL NOT NULL
    );
    ALTER TABLE feeds ADD COLUMN poller TEXT NOT NULL DEFAULT '';
    ALTER TABLE feeds ADD COLUMN poll_lease REAL NOT NULL DEFAULT 0;
    CREATE INDEX feeds_due ON feeds (next_poll_at);
    CREATE INDEX deliveries_sent ON deliveries (sent) WHERE sent > 0;
    """,
)
