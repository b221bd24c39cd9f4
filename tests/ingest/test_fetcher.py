"""The fetcher end to end: real aiohttp against the feed server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from bot import __version__
from bot.config import FeedConfig
from bot.ingest.fetcher import Fetcher, FetchError, parse_retry_after, redact_url
from bot.ingest.parser import parse_feed
from bot.models import ParseError
from testing.feedserver import HTML_TYPE, Behaviour, FeedServer, make_rss, sample_entries

FEED_BODY = make_rss(sample_entries(3))
LAST_MODIFIED = "Wed, 01 May 2024 12:00:00 GMT"


@pytest.fixture
async def server() -> AsyncIterator[FeedServer]:
    async with FeedServer() as feed_server:
        yield feed_server


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(timeout=5, max_bytes=100_000) as f:
        yield f


async def fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value).startswith("fetcher: ")
    return caught.value


async def test_200_then_304_with_conditional_headers(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", FEED_BODY, etag='"v1"', last_modified=LAST_MODIFIED, max_age=900)

    first = await fetcher.fetch(server.url("/feed"))
    assert first.status == 200
    assert first.body == FEED_BODY
    assert (first.etag, first.last_modified, first.max_age) == ('"v1"', LAST_MODIFIED, 900)
    assert first.url == server.url("/feed")
    assert first.moved_to == ""

    second = await fetcher.fetch(server.url("/feed"), first.etag, first.last_modified)
    assert second.status == 304
    assert second.body == b""
    assert (second.etag, second.last_modified, second.max_age) == ('"v1"', LAST_MODIFIED, 900)

    plain, conditional = server.requests_to("/feed")
    assert "If-None-Match" not in plain.headers
    assert "If-Modified-Since" not in plain.headers
    assert conditional.headers["If-None-Match"] == '"v1"'
    assert conditional.headers["If-Modified-Since"] == LAST_MODIFIED
    assert conditional.status == 304
    agent = plain.headers["User-Agent"]
    assert agent == f"headlines-bot/{__version__}"
    assert "gzip" in plain.headers["Accept-Encoding"]


async def test_last_modified_alone_gets_a_304_and_keeps_the_validators(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_feed("/feed", FEED_BODY, last_modified=LAST_MODIFIED)
    result = await fetcher.fetch(server.url("/feed"), etag='"stale"', last_modified=LAST_MODIFIED)
    assert result.status == 304
    # The server sent no ETag with its 304: the one we had is kept for next time.
    assert (result.etag, result.last_modified) == ('"stale"', LAST_MODIFIED)
    # A changed feed (new validator) is fetched in full.
    server.set_feed("/feed", FEED_BODY, last_modified="Thu, 02 May 2024 12:00:00 GMT")
    result = await fetcher.fetch(server.url("/feed"), last_modified=LAST_MODIFIED)
    assert result.status == 200
    assert result.last_modified == "Thu, 02 May 2024 12:00:00 GMT"


async def test_custom_user_agent(server: FeedServer) -> None:
    server.set_feed("/feed", FEED_BODY)
    async with Fetcher(user_agent="my-bot/1.0") as fetcher:
        await fetcher.fetch(server.url("/feed"))
    assert server.requests[-1].headers["User-Agent"] == "my-bot/1.0"


@pytest.mark.parametrize("status", [301, 308])
async def test_permanent_redirect_reports_the_new_url(
    server: FeedServer, fetcher: Fetcher, status: int
) -> None:
    server.set_redirect("/old", "/new", status=status)  # relative Location
    server.set_feed("/new", FEED_BODY)
    result = await fetcher.fetch(server.url("/old"))
    assert result.status == 200
    assert result.body == FEED_BODY
    assert result.url == server.url("/new")
    assert result.moved_to == server.url("/new")


@pytest.mark.parametrize("status", [302, 303, 307])
async def test_temporary_redirect_is_followed_but_not_stored(
    server: FeedServer, fetcher: Fetcher, status: int
) -> None:
    server.set_redirect("/feed", server.url("/today"), status=status)
    server.set_feed("/today", FEED_BODY)
    result = await fetcher.fetch(server.url("/feed"))
    assert result.body == FEED_BODY
    assert result.url == server.url("/today")
    assert result.moved_to == ""


async def test_only_the_permanent_part_of_a_redirect_chain_moves_the_feed(
    server: FeedServer, fetcher: Fetcher
) -> None:
    server.set_redirect("/a", "/b", status=301)
    server.set_redirect("/b", "/c", status=302)
    server.set_redirect("/c", "/d", status=301)
    server.set_feed("/d", FEED_BODY, etag='"d"')
    result = await fetcher.fetch(server.url("/a"), etag='"d"')
    assert result.status == 304
    assert result.url == server.url("/d")
    assert result.moved_to == server.url("/b")
    # Conditional headers travel along the redirects.
    assert server.requests_to("/d")[0].headers["If-None-Match"] == '"d"'


async def test_redirect_loop_and_too_many_redirects(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_redirect("/ping", "/pong", status=302)
    server.set_redirect("/pong", "/ping", status=302)
    error = await fetch_error(fetcher, server.url("/ping"))
    assert error.kind == "http"
    assert "redirect loop" in str(error)
    assert len(server.requests) == 2

    for i in range(7):
        server.set_redirect(f"/hop{i}", f"/hop{i + 1}", status=301)
    server.set_feed("/hop7", FEED_BODY)
    error = await fetch_error(fetcher, server.url("/hop0"))
    assert error.kind == "http"
    assert "more than 5 redirects" in str(error)
    assert len(server.requests_to("/hop6")) == 0


async def test_bad_redirects(server: FeedServer, fetcher: Fetcher) -> None:
    server.set("/nowhere", Behaviour(status=302))
    error = await fetch_error(fetcher, server.url("/nowhere"))
    assert (error.kind, error.status) == ("http", 302)
    assert "without a Location" in str(error)

    server.set_redirect("/ftp", "ftp://127.0.0.1/feed")
    error = await fetch_error(fetcher, server.url("/ftp"))
    assert error.kind == "http"
    assert "non-HTTP URL" in str(error)


async def test_429_with_retry_after_seconds(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_status("/feed", 429, retry_after="7")
    error = await fetch_error(fetcher, server.url("/feed"))
    assert (error.kind, error.status, error.retry_after) == ("rate_limited", 429, 7.0)
    assert "retry after 7s" in str(error)


async def test_503_with_retry_after_date(server: FeedServer, fetcher: Fetcher) -> None:
    later = datetime.now(UTC) + timedelta(seconds=120)
    server.set_status("/feed", 503, retry_after=format_datetime(later, usegmt=True))
    error = await fetch_error(fetcher, server.url("/feed"))
    assert (error.kind, error.status) == ("rate_limited", 503)
    # An HTTP date has whole seconds, and a little time passed since it was written.
    assert 60 < error.retry_after <= 120


async def test_errors_without_retry_after(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_status("/busy", 503)
    server.set_status("/slow-down", 429)
    error = await fetch_error(fetcher, server.url("/busy"))
    assert (error.kind, error.status, error.retry_after) == ("http", 503, 0.0)
    error = await fetch_error(fetcher, server.url("/slow-down"))
    assert (error.kind, error.status, error.retry_after) == ("rate_limited", 429, 0.0)
    error = await fetch_error(fetcher, server.url("/missing"))
    assert (error.kind, error.status) == ("http", 404)
    assert str(error) == f"fetcher: HTTP 404 Not Found from {server.url('/missing')}"


def test_parse_retry_after() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120.0
    assert parse_retry_after(" 1.5 ", now) == 1.5
    assert parse_retry_after("Wed, 01 May 2024 12:02:30 GMT", now) == 150.0
    assert parse_retry_after("Wed, 01 May 2024 11:00:00 GMT", now) == 0.0  # in the past
    assert parse_retry_after("-3", now) == 0.0
    assert parse_retry_after("soon", now) == 0.0
    assert parse_retry_after("nan", now) == 0.0
    assert parse_retry_after("", now) == 0.0
    assert parse_retry_after("99999999999", now) == 7 * 86400.0


async def test_timeout_on_a_server_that_never_answers(server: FeedServer) -> None:
    server.set_feed("/feed", FEED_BODY, delay=30)
    async with Fetcher(timeout=0.3) as fetcher:
        error = await fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "timeout"
    assert str(error) == f"fetcher: timeout after 0.3s fetching {server.url('/feed')}"


async def test_timeout_on_a_server_that_drips_its_body(server: FeedServer) -> None:
    # Every chunk arrives well within the read timeout; only the overall deadline stops it.
    server.set_feed("/feed", FEED_BODY, drip=0.05, chunk=10)
    async with Fetcher(timeout=0.3) as fetcher:
        error = await fetch_error(fetcher, server.url("/feed"))
    assert error.kind == "timeout"


async def test_body_over_the_limit_with_content_length(server: FeedServer) -> None:
    server.set_feed("/big", b"x" * 50_000)
    async with Fetcher(max_bytes=10_000) as fetcher:
        error = await fetch_error(fetcher, server.url("/big"))
    assert error.kind == "too_large"
    assert "Content-Length 50000" in str(error)


async def test_endless_body_without_content_length_is_cut_off(server: FeedServer) -> None:
    # Never ends (about 200 kB/s): without an early stop the fetch runs into the timeout.
    server.set_feed("/endless", FEED_BODY, endless=True, chunk=2000, drip=0.01)
    async with Fetcher(max_bytes=10_000, timeout=5) as fetcher:
        error = await fetch_error(fetcher, server.url("/endless"))
    assert error.kind == "too_large"
    assert "more than 10000 bytes read" in str(error)


async def test_gzip_is_decompressed_and_counted_after_decompression(server: FeedServer) -> None:
    server.set_feed("/feed", FEED_BODY, gzip=True)
    bomb = b"<rss>" + b" " * 1_000_000
    server.set_feed("/bomb", bomb, gzip=True)
    assert len(gzip.compress(bomb)) < 10_000
    async with Fetcher(max_bytes=20_000) as fetcher:
        result = await fetcher.fetch(server.url("/feed"))
        assert result.body == FEED_BODY
        error = await fetch_error(fetcher, server.url("/bomb"))
    assert error.kind == "too_large"


async def test_chunked_body_within_the_limit(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", FEED_BODY, content_length=False, chunk=100)
    result = await fetcher.fetch(server.url("/feed"))
    assert result.body == FEED_BODY


async def test_html_page_instead_of_a_feed(server: FeedServer, fetcher: Fetcher) -> None:
    page = b"<!DOCTYPE html><html><head><title>News</title></head><body>Home</body></html>"
    server.set_feed("/feed", page, content_type=HTML_TYPE)
    result = await fetcher.fetch(server.url("/feed"))
    feed = FeedConfig(name="n", url=server.url("/feed"), interval=600)
    with pytest.raises(ParseError, match="HTML page"):
        parse_feed(result.body, feed, url=result.url)


async def test_malformed_xml_still_yields_its_entries(server: FeedServer, fetcher: Fetcher) -> None:
    broken = make_rss(sample_entries(3)).replace(b"</channel>", b"<oops></channel>")
    server.set_feed("/feed", broken)
    result = await fetcher.fetch(server.url("/feed"))
    feed = FeedConfig(name="n", url=server.url("/feed"), interval=600)
    parsed = parse_feed(result.body, feed, url=result.url)
    assert parsed.bozo
    assert len(parsed.headlines) == 3


async def test_connection_refused(fetcher: Fetcher) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago, nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = await fetch_error(fetcher, f"http://127.0.0.1:{port}/feed")
    assert (error.kind, error.status) == ("network", 0)
    assert "cannot connect" in str(error)


async def test_tls_handshake_failure(server: FeedServer, fetcher: Fetcher) -> None:
    server.set_feed("/feed", FEED_BODY)
    # https:// to a plain-HTTP server: the handshake fails.
    error = await fetch_error(fetcher, server.url("/feed").replace("http://", "https://"))
    assert error.kind == "tls"


async def test_invalid_urls(fetcher: Fetcher) -> None:
    for url in ("ftp://127.0.0.1/feed", "127.0.0.1/feed", "http://127.0.0.1:99999/feed"):
        error = await fetch_error(fetcher, url)
        assert error.kind == "network"
        assert "invalid http(s) URL" in str(error)


async def test_errors_never_show_credentials(fetcher: Fetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://reader:hunter2@127.0.0.1:{port}/feed?api_key=s3cret&lang=es"
    error = await fetch_error(fetcher, url)
    assert "hunter2" not in str(error)
    assert "s3cret" not in str(error)
    assert "lang=es" in str(error)


def test_redact_url() -> None:
    assert redact_url("https://u:p@example.com/f?token=abc&page=2") == (
        "https://***@example.com/f?token=***&page=2"
    )
    assert redact_url("https://example.com/feed.xml") == "https://example.com/feed.xml"


async def test_a_slow_host_does_not_starve_the_others(server: FeedServer) -> None:
    gate = asyncio.Event()
    server.set_feed("/slow", FEED_BODY, gate=gate)
    async with FeedServer() as other, Fetcher(concurrency=2, per_host=1) as fetcher:
        other.set_feed("/quick", FEED_BODY)
        slow = [asyncio.create_task(fetcher.fetch(server.url("/slow"))) for _ in range(3)]
        # The three slow fetches may hold at most one of the two global slots.
        quick = await asyncio.wait_for(fetcher.fetch(other.url("/quick")), 5)
        assert quick.status == 200
        assert not any(task.done() for task in slow)
        await asyncio.sleep(0.05)  # give queued slow fetches every chance to start
        assert server.in_flight == 1  # per_host=1: one at the gate, the others queued
        gate.set()
        results = await asyncio.gather(*slow)
    assert [r.status for r in results] == [200, 200, 200]
    assert len(server.requests_to("/slow")) == 3


async def test_per_host_cap_limits_requests_in_flight(server: FeedServer) -> None:
    gate = asyncio.Event()
    server.set_feed("/held", FEED_BODY, gate=gate)
    async with Fetcher(concurrency=10, per_host=2) as fetcher:
        tasks = [asyncio.create_task(fetcher.fetch(server.url("/held"))) for _ in range(5)]
        await asyncio.wait_for(server.wait_in_flight(2), 5)
        await asyncio.sleep(0.05)  # room for a third request to arrive if the cap failed
        assert server.in_flight == 2
        gate.set()
        results = await asyncio.gather(*tasks)
    assert [r.status for r in results] == [200] * 5
    assert server.peak_in_flight == 2
    assert len(server.requests_to("/held")) == 5
