"""Feed bytes -> headlines: feedparser plus the clean-up the bot needs.

Pure and synchronous: the poller runs `parse_feed` in a worker thread so that parsing
never blocks the event loop.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import feedparser

from bot.config import FeedConfig
from bot.models import LANGUAGES, FeedHints, Headline, ParsedFeed, ParseError
from bot.regions.classify import classify

SUMMARY_CHARS = 300
# A publication date further ahead than this is a feed's mistake (wrong time zone, typo):
# clamped to now so that it does not stay on top of /latest for days.
FUTURE_SKEW = timedelta(minutes=5)
# Longer guids are hashed so that ids stay small enough to index and compare.
MAX_ID_CHARS = 256
# A picture's URL longer than this is dropped, not cut (a cut URL points nowhere): 2048
# is what Discord takes in an embed, and far more than any real picture's address.
MAX_IMAGE_URL_CHARS = 2048
_IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp")
# The first <img>'s src in markup: quoted either way or bare.
_IMG_SRC = re.compile(
    r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I | re.S
)

# Query parameters that only track the reader: dropping them makes one story one id.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_hsenc",
        "_hsmi",
        "ocid",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

_SYNDICATION_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}
_YEAR = 366 * 86400

_INVISIBLE = re.compile(r"<(script|style|noscript|template)\b.*?(?:</\1\s*>|\Z)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)|<!\[CDATA\[|\]\]>", re.S)
# Block-level tags separate words ("a</p><p>b" is two words); inline ones do not.
_BLOCK_TAG = re.compile(
    r"</?(?:p|br|div|li|ul|ol|h[1-6]|tr|td|th|table|blockquote|section|article|header|"
    r"footer|figure|figcaption|hr|img|dd|dt|dl|pre)\b[^>]*>",
    re.I,
)
# Only "<" followed by a letter, "/", "!" or "?" starts a tag: "x < y" is text.
_TAG = re.compile(r"<[a-zA-Z/!?][^>]*>")
_SPACE = re.compile(r"\s+")
# What feedparser reports for a field that is text, not markup: an Atom type="text" (the
# default), an RSS title unless it guesses HTML (a closing tag or an entity in it).
_PLAIN = "text/plain"


def parse_feed(
    body: bytes, feed: FeedConfig, *, url: str = "", now: datetime | None = None
) -> ParsedFeed:
    """Parse an RSS/Atom document into headlines for `feed`.

    `url` is where the body came from (relative links resolve against it, defaulting to the
    configured feed URL); `now` stands in for missing or future publication dates.
    Raises ParseError when `body` is not a feed; malformed XML that still yields entries is
    returned with `bozo` set.
    """
    now = now or datetime.now(UTC)
    base = url or feed.url
    if not body.strip():
        raise ParseError("parser: an empty body does not look like an RSS or Atom feed")
    # A BytesIO, never the bytes themselves: feedparser opens a string that looks like a
    # path or URL, and a hostile server must not make it read local files.
    # The content type stops a "no Content-type specified" bozo on every feed, and
    # application/xml means the XML declaration decides the encoding. No Content-Location:
    # feedparser would then resolve every element against it (a quarter of its time);
    # links are resolved against `base` below instead.
    parsed = feedparser.parse(
        io.BytesIO(body),
        sanitize_html=False,
        resolve_relative_uris=False,
        response_headers={"content-type": "application/xml"},
    )
    if not parsed.version and not parsed.entries:
        raise ParseError(f"parser: {_describe(body)} does not look like an RSS or Atom feed")

    info = parsed.feed
    language = feed.language or _language(info.get("language"))
    headlines = []
    for entry in parsed.entries:
        headline = _headline(entry, feed, base, language, now)
        if headline is not None:
            headlines.append(headline)
    bozo = ""
    if parsed.bozo:
        exc = parsed.get("bozo_exception")
        bozo = _shorten(f"{type(exc).__name__}: {exc}" if exc else "malformed feed", 200)
    return ParsedFeed(
        headlines=tuple(headlines),
        title=_text(info, "title"),
        hints=FeedHints(ttl=_ttl(info.get("ttl")), update_period=_update_period(info)),
        bozo=bozo,
    )


def _describe(body: bytes) -> str:
    """What a body that is not a feed looks like, for the feed's error status."""
    start = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<html" in start:
        return f"an HTML page ({len(body)} bytes)"
    snippet = body[:40].decode("utf-8", "replace")
    return f"a body of {len(body)} bytes starting {snippet!r}"


def _headline(
    entry: dict[str, Any], feed: FeedConfig, base: str, language: str, now: datetime
) -> Headline | None:
    title = _text(entry, "title")
    summary = summarize(_summary(entry))
    link = absolute_link(entry.get("link", ""), base)
    if not (title or link or summary):
        return None
    categories = _categories(entry.get("tags"))
    return Headline(
        feed=feed.name,
        entry_id=entry_id(entry.get("id", ""), link, title, summary),
        title=title,
        link=link,
        summary=summary,
        published=published(entry, now),
        categories=categories,
        language=language,
        image=entry_image(entry, link or base),
        regions=classify(
            title,
            summary,
            categories,
            language,
            default_regions=feed.regions,
            keywords=feed.keywords,
        ),
    )


def _text(item: Mapping[str, Any], key: str) -> str:
    """The text of a feed's or an entry's `key` (title, summary): markup is stripped unless
    feedparser reports the field as plain text in `KEY_detail`."""
    detail = item.get(f"{key}_detail") or {}
    # The value from `key`, not the detail: feedparser can take the detail from a nested
    # element (an <image>'s title) where `key` has the entry's own.
    return clean_text(str(item.get(key) or ""), markup=detail.get("type") != _PLAIN)


def _summary(entry: Mapping[str, Any]) -> str:
    # Without a summary, feedparser copies the first <content> into `summary` but gives no
    # `summary_detail`: the content says what type it is.
    summary = _text(entry, "summary") if entry.get("summary_detail") else ""
    if summary:
        return summary
    for content in entry.get("content") or ():
        value = content.get("value")
        if value:
            return clean_text(str(value), markup=content.get("type") != _PLAIN)
    return ""


def entry_image(entry: Mapping[str, Any], base: str) -> str:
    """The entry's picture as an http(s) URL resolved against `base` (the entry's link), or
    "": a `media:content` that is an image, else a `media:thumbnail`, else an image
    enclosure, else the first `<img>` of the content or summary."""
    candidates: list[str] = []
    for media in entry.get("media_content") or ():
        if _is_image(media.get("type"), media.get("medium"), media.get("url")):
            candidates.append(media.get("url") or "")
    for thumbnail in entry.get("media_thumbnail") or ():
        # A thumbnail is a picture by definition; only a type that says otherwise is not.
        kind = str(thumbnail.get("type") or "image/")
        if kind.lower().startswith("image/"):
            candidates.append(thumbnail.get("url") or "")
    for link in entry.get("links") or ():
        if link.get("rel") == "enclosure" and _is_image(link.get("type"), None, link.get("href")):
            candidates.append(link.get("href") or "")
    for url in candidates:
        image = _image_url(url, base)
        if image:
            return image
    markup = [c.get("value") for c in entry.get("content") or ()] + [entry.get("summary")]
    for value in markup:
        found = _IMG_SRC.search(str(value or ""))
        if found:
            # Markup: the src is HTML-escaped ("?a=1&amp;b=2").
            image = _image_url(
                html.unescape(next(g for g in found.groups() if g is not None)), base
            )
            if image:
                return image
    return ""


def _is_image(kind: Any, medium: Any, url: Any) -> bool:
    """Whether a media element or enclosure is a picture: by its type, else its medium,
    else (neither given) by its file extension."""
    if kind:
        return str(kind).strip().lower().startswith("image/")
    if medium:
        return str(medium).strip().lower() == "image"
    try:
        path = urlsplit(str(url or "")).path.lower()
    except ValueError:
        return False
    return path.endswith(_IMAGE_EXTENSIONS)


def _image_url(url: str, base: str) -> str:
    """`url` resolved against `base` if it is a usable http(s) address with a host, else
    "": never javascript: or data:, nothing with spaces or control characters, nothing
    over MAX_IMAGE_URL_CHARS."""
    url = (url or "").strip()
    if not url or len(url) > MAX_IMAGE_URL_CHARS:
        return ""
    if any(c.isspace() or not c.isprintable() for c in url):
        return ""
    try:
        resolved = urljoin(base, url) if base else url
        parts = urlsplit(resolved)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ""
    return resolved if len(resolved) <= MAX_IMAGE_URL_CHARS else ""


def entry_id(guid: str, link: str, title: str, summary: str) -> str:
    """The stable id of an entry within its feed: guid, else normalised link, else a hash."""
    guid = (guid or "").strip()
    if guid:
        if len(guid) > MAX_ID_CHARS:
            return "sha1:" + hashlib.sha1(guid.encode()).hexdigest()
        return guid
    if link:
        normal = normalize_link(link)
        if len(normal) <= MAX_ID_CHARS:
            return normal
        return "sha1:" + hashlib.sha1(normal.encode()).hexdigest()
    return "sha1:" + hashlib.sha1(f"{title}\n{summary}".encode()).hexdigest()


def normalize_link(link: str) -> str:
    """The link as an id: lowercase scheme and host, no default port, no fragment and no
    utm_* or other tracking parameters; the path and the other parameters are kept as they
    are (they can be case-sensitive and meaningful)."""
    try:
        parts = urlsplit(link.strip())
        port = parts.port
    except ValueError:
        return link.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        host = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept)
    return urlunsplit((scheme, host, parts.path or ("/" if host else ""), query, ""))


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name.startswith("utm_") or name in _TRACKING_PARAMS


def absolute_link(link: str, base: str) -> str:
    """`link` resolved against the feed's URL; "" unless it ends up http(s)."""
    link = (link or "").strip()
    if not link:
        return ""
    try:
        resolved = urljoin(base, link) if base else link
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return ""
    # javascript:, data: and friends are not something to post as a headline's link.
    return resolved if scheme in ("http", "https") else ""


def clean_text(value: str, *, markup: bool = True) -> str:
    """Plain text from a title, summary or category: entities decoded once, whitespace
    squeezed and, if `markup` says the value is HTML, tags (and script/style contents)
    removed first. Text that is not markup keeps its brackets ("Vector<T>", "a <b> c"); the
    adapters escape them for their platform."""
    if not value:
        return ""
    if markup and "<" in value:
        value = _INVISIBLE.sub(" ", value)
        value = _COMMENT.sub(" ", value)
        value = _BLOCK_TAG.sub(" ", value)
        value = _TAG.sub("", value)
    if "&" in value:
        value = html.unescape(value)
    return _SPACE.sub(" ", value).strip()


def summarize(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` cut at a word boundary to at most about `limit` characters, ending in "…"."""
    return _shorten(text, limit)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    # One enormous "word" (a URL, CJK text without spaces) is cut where the limit falls.
    cut = cut[:space] if space > limit // 2 else text[:limit]
    return cut.rstrip(" ,;:.-–—") + "…"


def published(entry: dict[str, Any], now: datetime) -> datetime:
    """The entry's date in UTC: published, else updated, else `now`; future dates are
    clamped to `now`."""
    # dict.get: FeedParserDict.get("updated_parsed") answers with published_parsed and a
    # DeprecationWarning when an entry has no updated date.
    stamp = dict.get(entry, "published_parsed") or dict.get(entry, "updated_parsed")
    if not stamp:
        return now
    try:
        # feedparser's struct_time is already UTC: timegm, never mktime (local time).
        when = datetime.fromtimestamp(calendar.timegm(stamp), UTC)
    except (OverflowError, ValueError, OSError, TypeError):
        return now
    return now if when > now + FUTURE_SKEW else when


def _categories(tags: Any) -> tuple[str, ...]:
    seen: set[str] = set()
    found = []
    for tag in tags or ():
        # A term is text (an Atom attribute; a string in RSS), but as in titles an entity
        # in it is decoded: WordPress sends "Health &amp;amp; Fitness" in CDATA.
        term = clean_text(tag.get("term") or "", markup=False)
        if term and term.casefold() not in seen:
            seen.add(term.casefold())
            found.append(term)
    return tuple(found)


def _language(value: Any) -> str:
    """The primary subtag of a feed's language if the bot speaks it, else English."""
    if isinstance(value, str):
        primary = re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0]
        if primary in LANGUAGES:
            return primary
    return "en"


def _ttl(value: Any) -> int:
    return _positive_int(value, maximum=_YEAR // 60) * 60


def _update_period(info: Mapping[str, Any]) -> int:
    period = _SYNDICATION_PERIODS.get(str(info.get("sy_updateperiod", "")).strip().lower(), 0)
    if not period:
        return 0
    frequency = _positive_int(info.get("sy_updatefrequency"), maximum=period) or 1
    return period // frequency


def _positive_int(value: Any, maximum: int) -> int:
    """A positive whole number from feed text; 0 for garbage or a value over `maximum`."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return 0
    return number if 0 < number <= maximum else 0
