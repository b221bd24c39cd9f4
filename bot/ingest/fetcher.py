"""Polite, bounded HTTP fetching of feeds.

One aiohttp session for the whole bot. Each fetch sends the conditional headers it is
given, follows at most five redirects (reporting permanent ones so the stored URL can
change), stops at `timeout` seconds however slowly the server drips, and stops reading
at `max_bytes`. A global cap and a per-host cap on concurrent fetches keep one slow or
hostile host from starving the others. Failures raise FetchError with a kind the poller
can act on; messages name this module and never show credentials from a URL.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp

from bot import __version__
from bot.config import FetchConfig

log = logging.getLogger(__name__)

# Publishers see who polls them; operators can add a contact URL with fetch.user_agent.
USER_AGENT = f"headlines-bot/{__version__}"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8"
)
MAX_REDIRECTS = 5
# A Retry-After further away than this is not believed; the poller's own backoff applies.
MAX_RETRY_AFTER = 7 * 86400.0

# The config file's defaults are this fetcher's: one place for the numbers.
DEFAULT = FetchConfig()

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_SECRET_PARAM = re.compile(r"token|key|secret|passw|auth|sig|session", re.I)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.I)


@dataclass(frozen=True, slots=True)
class FetchResult:
    status: int  # 200 (any 2xx) or 304
    url: str  # final URL after redirects
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    moved_to: str = ""  # set when permanent redirects (301/308) moved the feed: the URL to store
    max_age: int = 0  # Cache-Control max-age seconds, 0 if none


class FetchError(Exception):
    """A fetch that failed; `str(error)` starts with "fetcher: " and is fit for logs.

    `kind` is "timeout", "network", "tls", "http" (an error status, a broken redirect),
    "too_large" or "rate_limited" (429, or 503 with Retry-After; `retry_after` holds the
    seconds the server asked for, 0 if it did not say).
    """

    def __init__(self, kind: str, message: str, *, status: int = 0, retry_after: float = 0.0):
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after


class Fetcher:
    """Fetches feeds over one aiohttp session; use as `async with Fetcher() as fetcher:`."""

    def __init__(
        self,
        *,
        timeout: float = DEFAULT.timeout,
        max_bytes: int = DEFAULT.max_bytes,
        user_agent: str = DEFAULT.user_agent,
        concurrency: int = DEFAULT.concurrency,
        per_host: int = 4,
    ) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.user_agent = user_agent or USER_AGENT
        self.per_host = per_host
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Fetcher:
        self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._concurrency, limit_per_host=self.per_host, ttl_dns_cache=300
                ),
                # Per-read and connect timeouts name the stall early; the overall deadline in
                # fetch() is what stops a server that drips a byte at a time.
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self.timeout, sock_read=self.timeout
                ),
                headers={"User-Agent": self.user_agent, "Accept": ACCEPT},
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def fetch(self, url: str, etag: str = "", last_modified: str = "") -> FetchResult:
        """GET `url` (conditionally when `etag`/`last_modified` are given); raises FetchError."""
        session = self._open()
        shown = redact_url(url)
        # The host slot first, then a global one: fetches queued behind a slow host do not
        # hold global slots that other hosts could use. Waiting for a slot is not part of
        # the timeout; only the server's own time is.
        async with self._host_slots(url), self._slots:
            try:
                async with asyncio.timeout(self.timeout):
                    return await self._follow(session, url, etag, last_modified)
            except TimeoutError:
                raise FetchError(
                    "timeout", f"fetcher: timeout after {self.timeout:g}s fetching {shown}"
                ) from None
            except aiohttp.ClientSSLError as exc:
                # Its os_error is the ssl error without aiohttp's "Cannot connect to host".
                reason = getattr(exc, "certificate_error", None) or exc.os_error
                raise FetchError("tls", f"fetcher: TLS error fetching {shown}: {reason}") from None
            except ssl.SSLError as exc:
                raise FetchError("tls", f"fetcher: TLS error fetching {shown}: {exc}") from None
            except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError):
                raise FetchError("network", f"fetcher: invalid http(s) URL {shown}") from None
            except aiohttp.ClientPayloadError:
                raise FetchError("network", f"fetcher: broken response body from {shown}") from None
            except aiohttp.ClientConnectorError as exc:
                reason = exc.os_error.strerror or exc.os_error
                raise FetchError(
                    "network", f"fetcher: cannot connect to {shown}: {reason}"
                ) from None
            except (aiohttp.ClientError, OSError) as exc:
                # aiohttp messages may quote the URL: never with its credentials.
                reason = (str(exc) or type(exc).__name__).replace(url, shown)
                raise FetchError(
                    "network", f"fetcher: network error fetching {shown}: {reason}"
                ) from None

    def _host_slots(self, url: str) -> asyncio.Semaphore:
        try:
            parts = urlsplit(url)
            key = f"{parts.hostname}:{parts.port}"
        except ValueError:
            key = ""  # aiohttp rejects the URL with a clear error inside the slot
        slots = self._hosts.get(key)
        if slots is None:
            slots = self._hosts[key] = asyncio.Semaphore(self.per_host)
        return slots

    async def _follow(
        self, session: aiohttp.ClientSession, url: str, etag: str, last_modified: str
    ) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current, moved_to, permanent = url, "", True
        seen = {url}
        for _ in range(MAX_REDIRECTS + 1):
            async with session.get(current, headers=headers, allow_redirects=False) as resp:
                status = resp.status
                if status in _REDIRECTS:
                    target = self._redirect_target(resp, current)
                    # Only an unbroken chain of permanent redirects moves the feed: after a
                    # temporary one, the original URL is still the one to ask.
                    permanent = permanent and status in _PERMANENT
                    if permanent:
                        moved_to = target
                    if target in seen:
                        raise FetchError(
                            "http",
                            f"fetcher: redirect loop at {redact_url(target)} "
                            f"fetching {redact_url(url)}",
                            status=status,
                        )
                    seen.add(target)
                    current = target
                    continue
                if status == 304:
                    result = FetchResult(
                        status=304,
                        url=current,
                        etag=resp.headers.get("ETag", etag),
                        last_modified=resp.headers.get("Last-Modified", last_modified),
                        moved_to=moved_to,
                        max_age=_max_age(resp.headers.get("Cache-Control", "")),
                    )
                elif 200 <= status < 300:
                    result = FetchResult(
                        status=200,
                        url=current,
                        body=await self._read(resp, current),
                        etag=resp.headers.get("ETag", ""),
                        last_modified=resp.headers.get("Last-Modified", ""),
                        moved_to=moved_to,
                        max_age=_max_age(resp.headers.get("Cache-Control", "")),
                    )
                else:
                    raise _status_error(resp, current)
                log.debug("fetched %s: %d, %d bytes", redact_url(current), status, len(result.body))
                return result
        raise FetchError(
            "http",
            f"fetcher: more than {MAX_REDIRECTS} redirects fetching {redact_url(url)}",
            status=status,
        )

    def _redirect_target(self, resp: aiohttp.ClientResponse, current: str) -> str:
        location = resp.headers.get("Location", "").strip()
        if not location:
            raise FetchError(
                "http",
                f"fetcher: HTTP {resp.status} redirect without a Location "
                f"from {redact_url(current)}",
                status=resp.status,
            )
        target = urljoin(current, location)
        if urlsplit(target).scheme.lower() not in ("http", "https"):
            raise FetchError(
                "http",
                f"fetcher: redirect to a non-HTTP URL {redact_url(target)} "
                f"from {redact_url(current)}",
                status=resp.status,
            )
        return target

    async def _read(self, resp: aiohttp.ClientResponse, url: str) -> bytes:
        declared = resp.content_length
        if declared is not None and declared > self.max_bytes:
            raise self._too_large(url, f"Content-Length {declared}")
        chunks = []
        size = 0
        # Counted after decompression, so a small gzip bomb is caught as well.
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > self.max_bytes:
                raise self._too_large(url, f"more than {self.max_bytes} bytes read")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, url: str, detail: str) -> FetchError:
        return FetchError(
            "too_large",
            f"fetcher: body of {redact_url(url)} is over the limit of {self.max_bytes} bytes "
            f"({detail})",
        )


def _status_error(resp: aiohttp.ClientResponse, url: str) -> FetchError:
    status = resp.status
    retry_after_header = resp.headers.get("Retry-After", "")
    if status == 429 or (status == 503 and retry_after_header):
        retry_after = parse_retry_after(retry_after_header)
        wait = f", retry after {retry_after:g}s" if retry_after else ""
        return FetchError(
            "rate_limited",
            f"fetcher: HTTP {status} {resp.reason or ''} from {redact_url(url)}{wait}",
            status=status,
            retry_after=retry_after,
        )
    return FetchError(
        "http", f"fetcher: HTTP {status} {resp.reason or ''} from {redact_url(url)}", status=status
    )


def parse_retry_after(value: str, now: datetime | None = None) -> float:
    """Seconds to wait from a Retry-After header: delta seconds or an HTTP date; 0 if
    absent or unreadable, at most MAX_RETRY_AFTER."""
    value = value.strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return 0.0
        if when.tzinfo is None:  # HTTP dates are GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return 0.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _max_age(cache_control: str) -> int:
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else 0


def redact_url(url: str) -> str:
    """`url` fit for logs: no password, and no value of a query parameter that looks like
    a token or key."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            netloc = "***@" + netloc.rpartition("@")[2]
        query = parts.query
        if query and _SECRET_PARAM.search(query):
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode(
                [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in pairs], safe="*"
            )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return "<unreadable URL>"
