"""A feed server on 127.0.0.1 for tests and benchmarks, and builders for feed bodies.

    async with FeedServer() as server:
        server.set_feed("/news", make_rss(sample_entries(3)), etag='"v1"')
        result = await fetcher.fetch(server.url("/news"))
        assert server.requests[-1].headers["User-Agent"].startswith("headlines-bot/")

Each path has a `Behaviour`: a body with validators (ETag / Last-Modified answered with
304), a status with Retry-After, a redirect, gzip, a delay before answering, a slow drip,
a chunked or endless body, or a gate the response waits on. Unknown paths get 404.
Every request is logged in `requests` with its headers and the status it got;
`in_flight` and `peak_in_flight` count requests being handled at once.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import TracebackType
from xml.sax.saxutils import escape

from aiohttp import web

RSS_TYPE = "application/rss+xml; charset=utf-8"
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass
class Behaviour:
    """How one path answers."""

    body: bytes = b""
    status: int = 200
    content_type: str = RSS_TYPE
    etag: str = ""  # sent, and If-None-Match with it gets a 304
    last_modified: str = ""  # sent, and If-Modified-Since equal to it gets a 304
    max_age: int = 0  # Cache-Control: max-age=N when > 0
    location: str = ""  # Location of a redirect: a path on this server or a full URL
    retry_after: str = ""  # Retry-After, as given (seconds or an HTTP date)
    headers: dict[str, str] = field(default_factory=dict)
    gzip: bool = False  # gzip the body when the client accepts it
    content_length: bool = True  # False: chunked, without Content-Length
    delay: float = 0.0  # seconds before the response starts
    drip: float = 0.0  # seconds between body chunks of `chunk` bytes
    chunk: int = 64 * 1024
    endless: bool = False  # repeat the body until the client hangs up
    gate: asyncio.Event | None = None  # the response waits until this is set
    _gzipped: bytes | None = field(default=None, repr=False)

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body)
        return self._gzipped


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]  # case-insensitive, as received
    status: int  # what the server answered


class FeedServer:
    """An aiohttp server on 127.0.0.1 (a free port) serving per-path behaviours."""

    def __init__(self, *, log_requests: bool = True) -> None:
        self.routes: dict[str, Behaviour] = {}
        self.requests: list[Request] = []
        self.arrivals: list[tuple[str, float]] = []  # (path, time.monotonic()) of each
        self.log_requests = log_requests
        self.in_flight = 0  # requests being handled right now
        self.peak_in_flight = 0
        self._arrivals = asyncio.Condition()
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # Handlers stop when their client hangs up (a timed-out fetch must not leave a
        # sleeping handler behind), and shutdown does not wait long for stragglers.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, shutdown_timeout=0.1, access_log=None
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def url(self, path: str = "/feed") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set(self, path: str, behaviour: Behaviour) -> Behaviour:
        self.routes[path] = behaviour
        return behaviour

    def set_feed(
        self,
        path: str,
        body: bytes,
        *,
        etag: str = "",
        last_modified: str = "",
        content_type: str = RSS_TYPE,
        **options: object,
    ) -> Behaviour:
        """Serve `body` at `path`; `options` are further Behaviour fields."""
        return self.set(
            path,
            Behaviour(
                body=body,
                etag=etag,
                last_modified=last_modified,
                content_type=content_type,
                **options,  # type: ignore[arg-type]
            ),
        )

    def set_redirect(self, path: str, to: str, status: int = 301) -> Behaviour:
        return self.set(path, Behaviour(status=status, location=to))

    def set_status(
        self, path: str, status: int, *, retry_after: str = "", body: bytes = b""
    ) -> Behaviour:
        return self.set(
            path,
            Behaviour(status=status, retry_after=retry_after, body=body, content_type=HTML_TYPE),
        )

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def arrival_times(self, path: str) -> list[float]:
        """When each request for `path` arrived (time.monotonic()), answered or not."""
        return [at for p, at in self.arrivals if p == path]

    async def wait_in_flight(self, count: int) -> None:
        """Return once at least `count` requests are being handled at the same time."""
        async with self._arrivals:
            await self._arrivals.wait_for(lambda: self.in_flight >= count)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.arrivals.append((request.path, time.monotonic()))
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        async with self._arrivals:
            self._arrivals.notify_all()
        try:
            return await self._respond(request)
        finally:
            self.in_flight -= 1

    async def _respond(self, request: web.Request) -> web.StreamResponse:
        behaviour = self.routes.get(request.path)
        if behaviour is None:
            return self._answer(request, web.Response(status=404, text="no such feed"))
        if behaviour.gate is not None:
            await behaviour.gate.wait()
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)

        headers = dict(behaviour.headers)
        if behaviour.etag:
            headers["ETag"] = behaviour.etag
        if behaviour.last_modified:
            headers["Last-Modified"] = behaviour.last_modified
        if behaviour.max_age:
            headers["Cache-Control"] = f"max-age={behaviour.max_age}"
        if behaviour.retry_after:
            headers["Retry-After"] = behaviour.retry_after
        if behaviour.location:
            headers["Location"] = behaviour.location

        if behaviour.status == 200 and _not_modified(request, behaviour):
            return self._answer(request, web.Response(status=304, headers=headers))

        body = behaviour.body
        if behaviour.gzip and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = behaviour.gzipped()
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = behaviour.content_type
        streaming = behaviour.drip or behaviour.endless or not behaviour.content_length
        if not streaming:
            return self._answer(
                request, web.Response(status=behaviour.status, body=body, headers=headers)
            )

        response = web.StreamResponse(status=behaviour.status, headers=headers)
        if behaviour.content_length and not behaviour.endless:
            response.content_length = len(body)
        else:
            response.enable_chunked_encoding()
        self._log(request, behaviour.status)
        await response.prepare(request)
        try:
            while True:
                for start in range(0, len(body), behaviour.chunk):
                    await response.write(body[start : start + behaviour.chunk])
                    if behaviour.drip:
                        await asyncio.sleep(behaviour.drip)
                if not behaviour.endless or not body:
                    break
            await response.write_eof()
        except ConnectionError:
            pass  # the client gave up (over its size limit or its timeout): expected here
        return response

    def _answer(self, request: web.Request, response: web.Response) -> web.Response:
        self._log(request, response.status)
        return response

    def _log(self, request: web.Request, status: int) -> None:
        if self.log_requests:
            self.requests.append(Request(request.method, request.path, request.headers, status))


def _not_modified(request: web.Request, behaviour: Behaviour) -> bool:
    if behaviour.etag and "If-None-Match" in request.headers:
        tags = [t.strip() for t in request.headers["If-None-Match"].split(",")]
        return behaviour.etag in tags or "*" in tags
    if behaviour.last_modified and "If-Modified-Since" in request.headers:
        return request.headers["If-Modified-Since"] == behaviour.last_modified
    return False


@dataclass(frozen=True)
class FeedEntry:
    title: str
    link: str = ""
    guid: str = ""
    summary: str = ""  # HTML; escaped into <description>
    published: datetime | None = None
    categories: tuple[str, ...] = ()


def make_rss(
    entries: Iterable[FeedEntry],
    *,
    title: str = "Sample news",
    link: str = "https://news.example/",
    language: str = "en",
    ttl: int = 0,
    update_period: str = "",
    update_frequency: int = 0,
) -> bytes:
    """An RSS 2.0 document (with the syndication namespace) as UTF-8 bytes."""
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">',
        "<channel>",
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        "<description>Headlines for tests</description>",
    ]
    if language:
        head.append(f"<language>{escape(language)}</language>")
    if ttl:
        head.append(f"<ttl>{ttl}</ttl>")
    if update_period:
        head.append(f"<sy:updatePeriod>{escape(update_period)}</sy:updatePeriod>")
    if update_frequency:
        head.append(f"<sy:updateFrequency>{update_frequency}</sy:updateFrequency>")
    items = []
    for entry in entries:
        parts = ["<item>", f"<title>{escape(entry.title)}</title>"]
        if entry.link:
            parts.append(f"<link>{escape(entry.link)}</link>")
        if entry.guid:
            parts.append(f'<guid isPermaLink="false">{escape(entry.guid)}</guid>')
        if entry.summary:
            parts.append(f"<description>{escape(entry.summary)}</description>")
        if entry.published:
            parts.append(f"<pubDate>{format_datetime(entry.published, usegmt=True)}</pubDate>")
        parts.extend(f"<category>{escape(c)}</category>" for c in entry.categories)
        parts.append("</item>")
        items.append("".join(parts))
    return "\n".join([*head, *items, "</channel>", "</rss>", ""]).encode()


_STORIES = (
    ("Pakistan: nationwide protests against rising cost of electricity", "Asia"),
    ("Kenya: parliament debates new finance bill", "Africa"),
    ("France: unions call a general strike over pension reform", "Europe"),
    ("Brazil: Supreme Court rules on Amazon land rights", "Latin America"),
    ("Iran: talks resume on the nuclear programme", "Middle East"),
    ("Canada: wildfire season forces evacuations in the west", "North America"),
    ("Australia: senate passes climate bill", "Oceania"),
    ("UN: general assembly opens with calls for ceasefires", "World"),
)


def sample_entries(
    n: int, *, seed: str = "", start: datetime | None = None, step: timedelta | None = None
) -> list[FeedEntry]:
    """`n` distinct entries, newest first, across the regions, with HTML summaries."""
    start = start or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    step = step or timedelta(minutes=10)
    entries = []
    for i in range(n):
        title, category = _STORIES[i % len(_STORIES)]
        entries.append(
            FeedEntry(
                title=f"{title} ({seed}{i})" if seed else f"{title} ({i})",
                link=f"https://news.example/{seed}story/{i}?utm_source=rss",
                guid=f"{seed}story-{i}",
                summary=(
                    f"<p>Story {i}: <b>{title}</b>. Reporters on the ground describe "
                    "the day's events &amp; what comes next.</p><p>Read more on the site.</p>"
                ),
                published=start - step * i,
                categories=(category,),
            )
        )
    return entries
