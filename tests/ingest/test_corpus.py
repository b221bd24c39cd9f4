"""Every file of feedparser's own test corpus goes through parse_feed.

Well-formed, ill-formed, odd encodings and entities: parse_feed either returns headlines
or says plainly that the body is not a feed (ParseError); nothing else may escape.
One test per top-level folder keeps the run short (about a second in all).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from bot.config import FeedConfig
from bot.ingest.parser import SUMMARY_CHARS, parse_feed
from bot.models import ParseError
from tests.conftest import SHARED

CORPUS = SHARED / "corpus" / "feedparser-6.0.14"
FOLDERS = ("compression", "encoding", "entities", "http", "illformed", "wellformed")
# compression/ holds raw gzip/deflate bytes (the fetcher decompresses those), so most of
# its files are rightly not feeds, and one of the nine http/ files is only a comment;
# elsewhere nearly every file is a feed.
MIN_FEED_SHARE = {"compression": 0.3, "http": 0.8}
# Most corpus files test feed-level elements; these folders must still yield entries.
MIN_ENTRIES = {"wellformed": 500, "encoding": 5, "illformed": 5}
FEED = FeedConfig(name="corpus", url="http://127.0.0.1/corpus/feed.xml", interval=600)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def corpus_is_there() -> None:
    """Skipped where the corpus is missing, but failed in CI: there a wrong path must not
    pass for a skip."""
    if CORPUS.is_dir():
        return
    missing = f"the feedparser corpus is not at {CORPUS} (tests/conftest.py's SHARED)"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{missing}, and CI is set: CI must run these tests")
    pytest.skip(missing)


def test_every_corpus_folder_is_covered() -> None:
    assert sorted(d.name for d in CORPUS.iterdir() if d.is_dir()) == list(FOLDERS)


@pytest.mark.parametrize("folder", FOLDERS)
def test_corpus_folder_parses(folder: str) -> None:
    files = sorted(p for p in (CORPUS / folder).rglob("*") if p.is_file())
    assert files, f"no files under {CORPUS / folder}"
    failures = []
    not_feeds = 0
    entries = 0
    for path in files:
        try:
            parsed = parse_feed(path.read_bytes(), FEED, now=NOW)
        except ParseError as error:
            assert str(error).startswith("parser: "), path
            not_feeds += 1
            continue
        except Exception as error:  # the point of this test: report every one, by file
            failures.append(f"{path.relative_to(CORPUS)}: {type(error).__name__}: {error}")
            continue
        entries += len(parsed.headlines)
        for h in parsed.headlines:
            assert h.entry_id, path
            assert h.title or h.link or h.summary, path
            assert h.published.tzinfo is not None and h.published <= NOW, path
            assert len(h.summary) <= SUMMARY_CHARS + 1, path
            assert h.link == "" or h.link.startswith(("http://", "https://")), path
    assert failures == []
    assert (len(files) - not_feeds) >= MIN_FEED_SHARE.get(folder, 0.9) * len(files)
    assert entries >= MIN_ENTRIES.get(folder, 0)
