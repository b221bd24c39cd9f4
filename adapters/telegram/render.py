"""Posts and command answers as Telegram HTML (with a plain-text twin), cut to fit in
UTF-16 code units as Telegram counts them."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot.chat.i18n import region_hashtags, tr
from bot.models import Digest, Headline, Reply
from bot.regions.names import display_name

MAX_TEXT = 4096  # characters after entity parsing, counted in UTF-16 code units
MAX_CAPTION = 1024  # a photo's caption, counted the same way
MIN_SUMMARY = 40  # a summary cut shorter than this says nothing: left out instead
MAX_TITLE = 300
MAX_SUMMARY = 300
MAX_SOURCE = 100
MAX_LINK = 2048


@dataclass(frozen=True, slots=True)
class Text:
    """One message both ways: `html` for parse_mode HTML and `plain`, what is sent if
    Telegram rejects the markup. `plain` shows the links as well, so it is never shorter
    than what the HTML displays. `count` is how many headlines it carries."""

    html: str
    plain: str
    count: int = 1


def post(headline: Headline, language: str, limit: int = MAX_TEXT) -> Text:
    """A headline as a post: the title in bold as a link, a short summary, the region
    hashtags and the source; within `limit` shown characters (a photo's caption:
    MAX_CAPTION), the summary cut at a word first, then the title. The link is kept: in
    the HTML it takes no room, in the plain text it is a line of its own."""
    title = _shorten(headline.title, MAX_TITLE) or _shorten(headline.link, MAX_TITLE) or "-"
    link = headline.link if is_web_link(headline.link) else ""
    summary = _shorten(headline.summary, MAX_SUMMARY)
    tags = region_hashtags(headline.regions, language)
    source = f"{tr(language, 'source')}: {_shorten(headline.feed, MAX_SOURCE)}"
    html_title, html_summary = _fit(title, "", summary, tags, source, limit)
    html_lines = [f"<b>{_linked(html_title, link)}</b>"]
    for line in (html_summary, tags):
        if line:
            html_lines.append(_escape(line))
    html_lines.append(f"<i>{_escape(source)}</i>")
    # A link longer than the whole limit cannot be kept in the plain text.
    plain_link = link if _length(link) < limit // 2 else ""
    plain_title, plain_summary = _fit(title, plain_link, summary, tags, source, limit)
    plain_lines = [plain_title] + ([plain_link] if plain_link else [])
    plain_lines += [line for line in (plain_summary, tags) if line] + [source]
    return Text("\n".join(html_lines), "\n".join(plain_lines))


def _fit(
    title: str, link: str, summary: str, tags: str, source: str, limit: int
) -> tuple[str, str]:
    """`title` and `summary`, cut so that the post's lines (with `link`, when the link is
    shown as text) take at most `limit`: the summary first, then the title."""
    fixed = [line for line in (link, tags, source) if line]
    room = limit - _length("\n".join(fixed)) - 1  # the newline after the title
    if _length(title) + (1 + _length(summary) if summary else 0) <= room:
        return title, summary
    summary_room = room - _length(title) - 1
    if summary_room >= MIN_SUMMARY:
        return title, _shorten(summary, summary_room)
    return _shorten(title, max(1, room)), ""


def pack(posts: Sequence[Text]) -> Text:
    """As many of `posts` (at least the first) as fit in one message."""
    html_parts, plain_parts = [posts[0].html], [posts[0].plain]
    size = _length(posts[0].plain)
    for item in posts[1:]:
        size += 2 + _length(item.plain)
        if size > MAX_TEXT:
            break
        html_parts.append(item.html)
        plain_parts.append(item.plain)
    return Text("\n\n".join(html_parts), "\n\n".join(plain_parts), len(html_parts))


def render_reply(reply: Reply) -> Text:
    """A command's answer: the title in bold, the text, then the headlines as a compact
    list formatted like posts, as many as fit."""
    html_lines: list[str] = []
    plain_lines: list[str] = []
    if reply.title:
        html_lines.append(f"<b>{_escape(reply.title)}</b>")
        plain_lines.append(reply.title)
    if reply.text:
        text = _shorten(reply.text, MAX_TEXT // 2, squeeze=False)
        html_lines.append(_escape(text))
        plain_lines.append(text)
    size = _length("\n".join(plain_lines))
    for headline in reply.headlines:
        title = _shorten(headline.title, MAX_TITLE) or "-"
        link = headline.link if is_web_link(headline.link) else ""
        tags = " " + region_hashtags(headline.regions, reply.language)
        source = _shorten(headline.feed, MAX_SOURCE)
        plain = f"• {title}{tags} · {source}" + (f"\n  {link}" if link else "")
        size += 1 + _length(plain)
        if size > MAX_TEXT:
            break
        html_lines.append(
            f"• <b>{_linked(title, link)}</b>{_escape(tags)} · <i>{_escape(source)}</i>"
        )
        plain_lines.append(plain)
    return Text("\n".join(html_lines) or "-", "\n".join(plain_lines) or "-")


def render_digest(digest: Digest, language: str) -> list[Text]:
    """A digest as messages of at most MAX_TEXT each: its title, then each region's
    headlines under the region's name (a compact list as in answers, with "and N more"),
    then the hint to /latest; split between lines where one message cannot hold it all."""
    title = tr(language, f"digest_title_{digest.period}", count=digest.total)
    lines: list[tuple[str, str]] = [(f"<b>{_escape(title)}</b>", title)]
    for section in digest.sections:
        label = display_name(section.region, language)
        lines.append(("", ""))
        lines.append((f"<b>{_escape(label)}</b>", label))
        for headline in section.headlines:
            title = _shorten(headline.title, MAX_TITLE) or _shorten(headline.link, MAX_TITLE)
            link = headline.link if is_web_link(headline.link) else ""
            source = _shorten(headline.feed, MAX_SOURCE)
            lines.append(
                (
                    f"• {_linked(title or '-', link)} · <i>{_escape(source)}</i>",
                    f"• {title or '-'} · {source}" + (f"\n  {link}" if link else ""),
                )
            )
        if section.more:
            more = tr(language, "digest_more", count=section.more)
            lines.append((f"<i>{_escape(more)}</i>", more))
    hint = tr(language, "digest_hint")
    lines += [("", ""), (f"<i>{_escape(hint)}</i>", hint)]
    messages: list[Text] = []
    html_part: list[str] = []
    plain_part: list[str] = []
    size = 0
    for html_line, plain_line in lines:
        length = _length(plain_line) + 1
        if plain_part and size + length > MAX_TEXT:
            messages.append(_digest_text(html_part, plain_part))
            html_part, plain_part, size = [], [], 0
        if not plain_part and not plain_line:
            continue  # no message starts with an empty line
        html_part.append(html_line)
        plain_part.append(plain_line)
        size += length
    messages.append(_digest_text(html_part, plain_part))
    return messages


def _digest_text(html_lines: list[str], plain_lines: list[str]) -> Text:
    return Text("\n".join(html_lines).strip(), "\n".join(plain_lines).strip(), 0)


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _linked(title: str, link: str) -> str:
    if not link:
        return _escape(title)
    return f'<a href="{html.escape(link, quote=True)}">{_escape(title)}</a>'


def is_web_link(link: str) -> bool:
    return link.startswith(("http://", "https://")) and len(link) <= MAX_LINK and " " not in link


def _shorten(text: str, limit: int, squeeze: bool = True) -> str:
    """`text` in at most `limit` UTF-16 code units (as Telegram counts), cut at a word."""
    text = " ".join(text.split()) if squeeze else text.strip()
    if _length(text) <= limit:
        return text
    cut = text[: limit - 1]
    while (excess := _length(cut) - (limit - 1)) > 0:
        cut = cut[: len(cut) - (excess + 1) // 2]  # each character is 1 or 2 units
    if " " in cut[len(cut) // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip() + "…"


def _length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2
