"""Forum channels as destinations: each headline becomes a post (a thread titled with the
headline) carrying the forum's tags for its regions, so that readers follow regions in
Discord's own interface.

A region's tag is a forum tag whose name names it in English or Spanish ("Asia",
"Latin America", "América Latina", "World", "Mundo"; aliases count too). With Manage
Channels, the bot creates the tags missing, named in the destination's language, as room
allows (a forum has at most 20); without it, it uses those that exist and says which are
missing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import discord

from bot.regions.names import REGIONS, WORLD, display_name, find_region

log = logging.getLogger(__name__)

MAX_APPLIED_TAGS = 5  # on one post
MAX_AVAILABLE_TAGS = 20  # in one forum
TAG_NAME_CHARS = 20
THREAD_NAME_CHARS = 100
# Every region and world news, in the order tags are created (and shown).
TAGGED_REGIONS: tuple[str, ...] = (*REGIONS, WORLD)


def region_tags(tags: Sequence[discord.ForumTag]) -> dict[str, discord.ForumTag]:
    """The forum's tags that name a region (or world news), by region; the first wins."""
    found: dict[str, discord.ForumTag] = {}
    for tag in tags:
        region = find_region(tag.name, world=True)
        if region is not None:
            found.setdefault(region, tag)
    return found


def tags_for(
    regions: Sequence[str], tags: Mapping[str, discord.ForumTag], *, required: bool
) -> list[discord.ForumTag]:
    """The tags of a headline of `regions` (none: world news), at most 5. A headline none
    of whose regions has a tag gets none, or the world tag if the forum requires one."""
    applied = [tags[r] for r in regions or (WORLD,) if r in tags][:MAX_APPLIED_TAGS]
    if not applied and required and WORLD in tags:
        applied = [tags[WORLD]]
    return applied


def thread_name(title: str, fallback: str) -> str:
    """A post's title: the headline's, cut at a word to Discord's 100 characters."""
    text = " ".join((title or fallback or "…").split())
    if len(text) <= THREAD_NAME_CHARS:
        return text
    cut = text[: THREAD_NAME_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > THREAD_NAME_CHARS // 2 else cut).rstrip() + "…"


@dataclass(frozen=True, slots=True)
class TagSetup:
    """What a forum has after `ForumTags.prepare`: its region tags, the regions still
    without one, and whether the bot could create tags there."""

    tags: Mapping[str, discord.ForumTag]
    missing: tuple[str, ...]
    could_create: bool


class ForumTags:
    """The region tags of the forums the bot posts in. Tags the bot created are
    remembered until Discord's CHANNEL_UPDATE has reached discord.py's cache, so that a
    post right after creating them uses them (and never creates them twice); creating is
    tried once per forum per run when posting, and again at each /subscribe."""

    def __init__(self) -> None:
        self._created: dict[int, dict[str, discord.ForumTag]] = {}
        self._tried: set[int] = set()

    def known(self, forum: discord.ForumChannel) -> dict[str, discord.ForumTag]:
        """The forum's region tags: as discord.py's cache has them, else as created."""
        cached = region_tags(forum.available_tags)
        live_ids = {tag.id for tag in forum.available_tags}
        created = self._created.get(forum.id, {})
        if created and all(tag.id in live_ids for tag in created.values()):
            self._created.pop(forum.id, None)  # the cache has caught up
            created = {}
        return created | cached

    async def prepare(
        self, forum: discord.ForumChannel, language: str, *, create: bool = True
    ) -> TagSetup:
        """Make sure each region and world news has a tag in `forum`: create the missing
        ones (named in `language`) when the bot has Manage Channels there and `create`."""
        tags = self.known(forum)
        missing = [r for r in TAGGED_REGIONS if r not in tags]
        me = forum.guild.me
        can_manage = me is not None and forum.permissions_for(me).manage_channels
        if not missing or not can_manage or not create:
            return TagSetup(tags, tuple(missing), can_manage)
        self._tried.add(forum.id)
        # The forum's tags as Discord has them: the cache's, and those created here that
        # it has not heard of yet (a PATCH without them would delete them).
        live_ids = {tag.id for tag in forum.available_tags}
        current = [*forum.available_tags]
        current += [t for t in self._created.get(forum.id, {}).values() if t.id not in live_ids]
        room = MAX_AVAILABLE_TAGS - len(current)
        new = [
            discord.ForumTag(name=display_name(r, language)[:TAG_NAME_CHARS])
            for r in missing[: max(0, room)]
        ]
        if not new:
            return TagSetup(tags, tuple(missing), can_manage)
        try:
            edited = await forum.edit(available_tags=[*current, *new])
        except discord.HTTPException as error:
            # 403: the permission went between the cache and the request. Posting goes on
            # with the tags there are.
            log.warning(
                "discord: could not create region tags in forum %s (HTTP %s): %s",
                forum.id,
                error.status,
                error.text,
            )
            return TagSetup(tags, tuple(missing), False)
        if isinstance(edited, discord.ForumChannel):
            created = region_tags(edited.available_tags)
            self._created[forum.id] = created
            tags = created | tags
        missing = [r for r in TAGGED_REGIONS if r not in tags]
        log.info(
            "discord: created %d region tag(s) in forum %s; missing: %s",
            len(new),
            forum.id,
            ", ".join(display_name(r, "en") for r in missing) or "none",
        )
        return TagSetup(tags, tuple(missing), can_manage)

    async def for_post(
        self, forum: discord.ForumChannel, regions: Sequence[str], language: str
    ) -> list[discord.ForumTag]:
        """The tags for a post of a headline of `regions`, creating missing tags the first
        time a post in this forum needs them."""
        tags = self.known(forum)
        needed = [r for r in regions or (WORLD,) if r not in tags]
        if forum.flags.require_tag and WORLD not in tags:
            needed.append(WORLD)
        if needed and forum.id not in self._tried:
            tags = dict((await self.prepare(forum, language)).tags)
        return tags_for(regions, tags, required=forum.flags.require_tag)
