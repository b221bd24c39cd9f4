"""Headlines as embeds and command answers as Discord markdown, fitted to Discord's limits;
the nonce that lets Discord drop a repeated message."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from urllib.parse import urlsplit

import discord

from adapters.discord.limits import (
    CONTENT_CHARS,
    DESCRIPTION_CHARS,
    FOOTER_CHARS,
    MAX_EMBEDS,
    MESSAGE_EMBED_CHARS,
    TITLE_CHARS,
)
from bot.chat.i18n import region_labels, tr
from bot.models import ChatRef, Digest, Headline, Reply
from bot.regions.names import (
    AFRICA,
    ASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST,
    NORTH_AMERICA,
    OCEANIA,
    display_name,
)

NO_MENTIONS = discord.AllowedMentions.none()

REGION_COLOURS = {
    AFRICA: discord.Colour(0xE67E22),
    ASIA: discord.Colour(0xE74C3C),
    EUROPE: discord.Colour(0x3498DB),
    LATIN_AMERICA: discord.Colour(0x2ECC71),
    MIDDLE_EAST: discord.Colour(0xF1C40F),
    NORTH_AMERICA: discord.Colour(0x9B59B6),
    OCEANIA: discord.Colour(0x1ABC9C),
}
WORLD_COLOUR = discord.Colour(0x95A5A6)


def headline_embed(headline: Headline, language: str, picture: str = "image") -> discord.Embed:
    """One headline: its title linking to the story, the summary, the time, a footer with
    the source and regions, coloured by its first region; its picture, if it has one that
    Discord takes, as the embed's large `image` or, with `picture="thumbnail"`, small."""
    embed = discord.Embed(
        title=_fit(headline.title or headline.link, TITLE_CHARS) or None,
        url=headline.link if _is_web_url(headline.link) else None,
        description=_fit(headline.summary, DESCRIPTION_CHARS) or None,
        timestamp=headline.published,
        colour=REGION_COLOURS.get(headline.regions[0], WORLD_COLOUR)
        if headline.regions
        else WORLD_COLOUR,
    )
    regions = ", ".join(region_labels(headline.regions, language))
    footer = f"{tr(language, 'source')}: {headline.feed} · {regions}"
    embed.set_footer(text=_shorten(footer, FOOTER_CHARS))
    if _is_web_url(headline.image):
        if picture == "thumbnail":
            embed.set_thumbnail(url=headline.image)
        else:
            embed.set_image(url=headline.image)
    return embed


def pack_embeds(headlines: Sequence[Headline], language: str) -> list[discord.Embed]:
    """Embeds for the first headlines that share one message: at most 10, at most 6000
    characters in all, and always at least one. A headline alone shows its picture large;
    several show theirs as thumbnails, so that the message stays a list to scan."""
    embeds: list[discord.Embed] = []
    total = 0
    for headline in headlines[:MAX_EMBEDS]:
        embed = headline_embed(headline, language, picture="thumbnail")
        if embeds and total + len(embed) > MESSAGE_EMBED_CHARS:
            break
        embeds.append(embed)
        total += len(embed)
    if len(embeds) == 1:
        embeds[0] = headline_embed(headlines[0], language)
    return embeds


def plain_embed(headline: Headline) -> discord.Embed:
    """A headline with nothing Discord validates (no url, no timestamp)."""
    text = f"{_fit(headline.title, TITLE_CHARS)}\n{headline.link}".strip()
    return discord.Embed(description=_shorten(text, DESCRIPTION_CHARS))


def message_nonce(
    chat: ChatRef,
    headlines: Sequence[Headline],
    embeds: Sequence[discord.Embed],
    *,
    plain: bool = False,
) -> str:
    """The same for the same message to the same chat, across restarts: what it starts
    with, how many headlines, in which form. Sent with enforce_nonce (discord.py always
    adds it), Discord answers a repeat within a few minutes with the message it already
    took, so a send whose answer was lost (a timeout, a crash) does not post twice."""
    first = headlines[0]
    key = f"{chat.chat_id}|{first.id}|{first.feed}|{first.entry_id}|{len(embeds)}|{plain}"
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()  # 24 of 25 allowed


def render_digest(digest: Digest, language: str) -> list[tuple[str | None, list[discord.Embed]]]:
    """A digest as messages (content, embeds): the title as the first one's content, one
    embed per region in its colour (its headlines as a list, "and N more"), the hint to
    /latest in the last one's footer; at most 10 embeds and 6000 characters a message."""
    embeds = []
    for section in digest.sections:
        lines = [_digest_line(h) for h in section.headlines]
        if section.more:
            lines.append(f"*{tr(language, 'digest_more', count=section.more)}*")
        description = ""
        for line in lines:
            if len(description) + len(line) + 1 > DESCRIPTION_CHARS:
                break
            description += line + "\n"
        embeds.append(
            discord.Embed(
                title=display_name(section.region, language),
                description=description.rstrip() or None,
                colour=REGION_COLOURS.get(section.region, WORLD_COLOUR),
            )
        )
    if not embeds:
        embeds.append(discord.Embed(colour=WORLD_COLOUR))
    embeds[-1].set_footer(text=_shorten(tr(language, "digest_hint"), FOOTER_CHARS))
    title = tr(language, f"digest_title_{digest.period}", count=digest.total)
    messages: list[tuple[str | None, list[discord.Embed]]] = []
    batch: list[discord.Embed] = []
    total = 0
    for embed in embeds:
        if batch and (len(batch) == MAX_EMBEDS or total + len(embed) > MESSAGE_EMBED_CHARS):
            messages.append((None, batch))
            batch, total = [], 0
        batch.append(embed)
        total += len(embed)
    messages.append((None, batch))
    messages[0] = (f"**{discord.utils.escape_markdown(title)}**", messages[0][1])
    return messages


def digest_nonce(chat: ChatRef, digest: Digest, part: int) -> str:
    """As `message_nonce`, for part `part` of a digest: the same across restarts."""
    key = f"{chat.chat_id}|digest|{digest.key}|{part}"
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()


def _digest_line(headline: Headline) -> str:
    """'• [Title](link) · Source': one headline of a digest (its region is the heading)."""
    title = _fit(headline.title or headline.link, TITLE_CHARS).replace("[", "\\[")
    title = title.replace("]", "\\]")
    if _is_web_url(headline.link):
        title = f"[{title}]({headline.link.replace('(', '%28').replace(')', '%29')})"
    return f"• {title} · {discord.utils.escape_markdown(_shorten(headline.feed, 100))}"


def render_reply(reply: Reply) -> tuple[str | None, list[discord.Embed]]:
    """A reply as (content, embeds): headlines as one compact list embed, a titled text as
    an embed, anything else as plain text."""
    text = discord.utils.escape_markdown(reply.text)
    if not reply.headlines and not reply.title:
        return _shorten(text, CONTENT_CHARS), []
    lines = [headline_line(h, reply.language) for h in reply.headlines]
    if text:
        lines.append(text)
    description, used = "", 0
    for line in lines:
        if used + len(line) + 1 > DESCRIPTION_CHARS:
            break
        description += line + "\n"
        used += len(line) + 1
    embed = discord.Embed(
        title=_shorten(reply.title, TITLE_CHARS) or None,
        description=description.rstrip() or None,
        colour=WORLD_COLOUR,
    )
    return None, [embed]


def headline_line(headline: Headline, language: str) -> str:
    """'• [Title](link) · Europe · 14 Mar': one headline in a list."""
    title = _fit(headline.title or headline.link, TITLE_CHARS).replace("[", "\\[")
    title = title.replace("]", "\\]")
    if _is_web_url(headline.link):
        title = f"[{title}]({headline.link.replace('(', '%28').replace(')', '%29')})"
    parts = [f"• {title}", ", ".join(region_labels(headline.regions, language))]
    parts.append(discord.utils.format_dt(headline.published, "R"))
    return " · ".join(parts)


def _fit(text: str, limit: int) -> str:
    """`text` with markdown escaped, shortened so that the escaped text fits `limit`: the
    longest start of it that does, found by bisection (escaping may double each character)."""
    escaped = discord.utils.escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if len(discord.utils.escape_markdown(text[:middle].rstrip() + "…")) <= limit:
            fits = middle
        else:
            too_long = middle
    return discord.utils.escape_markdown(text[:fits].rstrip() + "…")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_web_url(url: str) -> bool:
    """A link Discord takes: http(s), a host, no spaces or control characters."""
    if len(url) > 2048 or any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(host)
