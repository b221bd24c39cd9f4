"""Discord's slash commands, built from the core's command spec, and their answers.

One `SlashCommands` owns the tree, runs each interaction through the core within Discord's
3 seconds, and renders the reply. Each command of `bot.chat.spec.COMMANDS` (but the
greeting, which Discord has no use for) becomes a slash command with one option per
parameter: a count, a region or regions (with autocomplete), or a channel. Commands that
only administrators may run are offered in servers only, to members with Manage Channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import discord
from discord import app_commands

from adapters.discord.forum import TAGGED_REGIONS, ForumTags
from adapters.discord.limits import AUTOCOMPLETE_CHOICES, CHOICE_CHARS
from adapters.discord.render import NO_MENTIONS, render_reply
from adapters.discord.words import MESSAGES
from bot.chat import spec
from bot.chat.i18n import pick_language, tr, tr_from
from bot.models import ChatRef, Command, Reply
from bot.outbox.digest import zone_choices
from bot.ports import CommandCallback
from bot.regions.names import ALIASES, REGIONS, display_name, fold_case_and_accents

log = logging.getLogger(__name__)

PUBLIC_DEFER = "headlines_public_defer"  # in Interaction.extras: deferred visibly to all

# Where /subscribe may point, and what the bot needs there to post embeds (in a thread,
# Send Messages in Threads stands for Send Messages).
THREAD_CHANNELS = (
    discord.ChannelType.news_thread,
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
)
# A forum takes posts (threads) rather than messages: each headline becomes one.
POSTABLE_CHANNELS = (
    discord.ChannelType.text,
    discord.ChannelType.news,
    discord.ChannelType.forum,
    *THREAD_CHANNELS,
)
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
THREAD_POST_PERMISSIONS = ("view_channel", "send_messages_in_threads", "embed_links")
TargetChannel = app_commands.AppCommandChannel | app_commands.AppCommandThread

# The slash commands' texts in Spanish, for Discord clients set to Spanish. Command names
# stay as they are, as /help writes them; option names and descriptions are translated.
SPANISH_LOCALES = (discord.Locale.spain_spanish, discord.Locale.latin_american_spanish)


class SlashCommands:
    """The slash commands: the tree built from the spec, and the answers to interactions.
    `on_command` is the core's callback (set when the adapter starts); `reply_deadline` as
    in `DiscordAdapter`."""

    def __init__(
        self, platform: str, reply_deadline: float, forums: ForumTags | None = None
    ) -> None:
        self.platform = platform
        self.reply_deadline = reply_deadline
        self.on_command: CommandCallback | None = None
        self.forums = forums or ForumTags()

    # -- the tree ------------------------------------------------------------------------

    def build_tree(self, client: discord.Client) -> app_commands.CommandTree[Any]:
        tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
        tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        for command_spec in spec.COMMANDS:
            if not command_spec.greeting:
                tree.add_command(self._slash_command(command_spec))
        return tree

    async def sync(self, tree: app_commands.CommandTree[Any], guild_id: str) -> None:
        """Register the commands with Discord: for all servers, and at once in `guild_id`."""
        await tree.set_translator(_Spanish())
        try:
            await tree.sync()
            if guild_id:
                # Guild commands show up at once: handy for trying a change on a test server.
                guild = discord.Object(int(guild_id))
                tree.copy_global_to(guild=guild)
                await tree.sync(guild=guild)
        except discord.HTTPException as error:
            log.error(
                "discord: could not register the slash commands (%s %s); posting still "
                "works. Was the bot invited with the applications.commands scope?",
                error.status,
                error.text,
            )

    def _slash_command(
        self, command_spec: spec.CommandSpec
    ) -> app_commands.Command[Any, ..., None]:
        """The slash command for `command_spec`. discord.py reads a command's options from
        its callback's signature, so the one generic callback is given a signature with a
        typed, optional parameter per option."""

        async def callback(interaction: discord.Interaction, **values: Any) -> None:
            await self.run(interaction, command_spec, values)

        interaction_param = inspect.Parameter(
            "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
        )
        options = [
            inspect.Parameter(
                p.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=None if p.optional else inspect.Parameter.empty,
                annotation=_OPTION_TYPES[p.kind],
            )
            for p in command_spec.params
        ]
        callback.__signature__ = inspect.Signature([interaction_param, *options])  # type: ignore[attr-defined]
        command: app_commands.Command[Any, ..., None] = app_commands.Command(
            name=command_spec.name, description=_words(command_spec.description), callback=callback
        )
        if command_spec.admin_only or command_spec.operator_only:
            # Discord hides it from members without Manage Channels (a server may change
            # that: `_reply` checks again), and offers it in servers only.
            app_commands.guild_only()(command)
            app_commands.default_permissions(manage_channels=True)(command)
        else:
            app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
        app_commands.describe(**{p.name: _words(p.description) for p in command_spec.params})(
            command
        )
        app_commands.rename(
            **{
                p.name: app_commands.locale_str(p.name, es=p.spanish_name or p.name)
                for p in command_spec.params
            }
        )(command)
        complete = {
            "region": self._complete_region,
            "regions": self._complete_regions,
            "timezone": self._complete_timezone,
        }
        completions = {p.name: complete[p.kind] for p in command_spec.params if p.kind in complete}
        if completions:
            app_commands.autocomplete(**completions)(command)
        return command

    # -- answering -------------------------------------------------------------------

    async def run(
        self,
        interaction: discord.Interaction,
        command_spec: spec.CommandSpec,
        values: Mapping[str, Any],
    ) -> None:
        """Answer the command: with a refusal of our own, or the core's reply."""
        args = tuple(
            str(values[p.name])
            for p in command_spec.params
            if p.typed and values.get(p.name) is not None
        )
        channel = next((values[p.name] for p in command_spec.params if p.kind == "channel"), None)
        task = asyncio.ensure_future(self._reply(interaction, command_spec, args, channel))
        # Discord's 3 s run from when it created the interaction (its id says when), not
        # from when the gateway delivered it; a clock behind Discord's gains no time.
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        wait = max(0.0, self.reply_deadline - max(age, 0.0))
        try:
            try:
                reply = await asyncio.wait_for(asyncio.shield(task), wait)
            except TimeoutError:
                private = command_spec.private
                await interaction.response.defer(ephemeral=private)
                interaction.extras[PUBLIC_DEFER] = not private
                reply = await task
        except Exception:
            log.exception("discord: /%s failed in %s", command_spec.name, interaction.channel_id)
            reply = _trouble(pick_language(interaction.locale.value))
        await _answer(interaction, reply)

    async def _reply(
        self,
        interaction: discord.Interaction,
        command_spec: spec.CommandSpec,
        args: tuple[str, ...],
        channel: TargetChannel | None,
    ) -> Reply:
        assert self.on_command is not None
        locale = interaction.locale.value
        forum = _forum_of(interaction, channel)
        if channel is not None:
            # Acting on another channel: what counts is the user's permissions there.
            kind = "forum" if forum is not None else "channel"
            chat = ChatRef(self.platform, str(channel.id), kind, _title(interaction, channel))
            permissions = channel.permissions
        elif forum is not None:
            # In a forum's post, the forum is meant: its posts are where headlines go.
            chat = ChatRef(self.platform, str(forum.id), "forum", _title(interaction, forum))
            permissions = interaction.permissions  # a post's are its forum's
        else:
            chat = _chat(interaction)
            permissions = interaction.permissions
        # Discord hides admin-only commands from members without Manage Channels by
        # default, but a server can change that: check again here.
        can_admin = permissions.administrator or permissions.manage_channels
        if command_spec.admin_only and not can_admin:
            return _refusal(locale, "manage_channels")
        tags_note = ""
        if command_spec.delivers_here:
            target = forum if forum is not None and channel is None else channel
            refusal = await self._cannot_post(interaction, target)
            if refusal is not None:
                return refusal
            if forum is not None:
                refusal, tags_note = await self._prepare_forum(forum, locale)
                if refusal is not None:
                    return refusal
        command = Command(
            name=command_spec.name,
            args=tuple(a for a in args if a),
            chat=chat,
            can_admin=can_admin,
            language=locale,
        )
        reply = await self.on_command(command)
        if tags_note and not reply.error:
            reply = replace(reply, text=f"{reply.text}\n\n{tags_note}".strip())
        return reply

    async def _prepare_forum(
        self, forum: discord.ForumChannel, locale: str
    ) -> tuple[Reply | None, str]:
        """Before subscribing a forum: its region tags, created if the bot may. Returns a
        refusal when the forum requires a tag and has none the bot could use, else a note
        naming the tags still missing (or "")."""
        language = pick_language(locale)
        setup = await self.forums.prepare(forum, language)
        mention = f"<#{forum.id}>"
        if forum.flags.require_tag and not setup.tags:
            names = ", ".join(display_name(r, language) for r in TAGGED_REGIONS)
            return _refusal(locale, "forum_tags_required", channel=mention, tags=names), ""
        if not setup.missing:
            return None, ""
        names = ", ".join(display_name(r, language) for r in setup.missing)
        key = "forum_tags_full" if setup.could_create else "forum_tags_missing"
        note = tr_from(MESSAGES, language, key, channel=mention, tags=names)
        return None, note

    async def _cannot_post(
        self,
        interaction: discord.Interaction,
        channel: TargetChannel | discord.ForumChannel | None,
    ) -> Reply | None:
        """A refusal when the bot could not post its embeds where /subscribe points: a
        subscription there would only be deactivated at the first headline."""
        locale = interaction.locale.value
        target: Any = interaction.channel if channel is None else channel
        mention = f"<#{target.id}>" if target is not None else "#?"
        kind = getattr(target, "type", None)
        if kind not in POSTABLE_CHANNELS:
            return _refusal(locale, "not_postable", channel=mention)
        if channel is None:
            granted = interaction.app_permissions  # Discord's own count, with overwrites
        else:
            granted = await _bot_permissions(interaction, channel)
        needed = THREAD_POST_PERMISSIONS if kind in THREAD_CHANNELS else POST_PERMISSIONS
        missing = [p for p in needed if not getattr(granted, p)]
        if not missing:
            return None
        language = pick_language(locale)
        names = ", ".join(tr_from(MESSAGES, language, f"permission_{p}") for p in missing)
        return _refusal(locale, "missing_permissions", channel=mention, permissions=names)

    async def _complete_region(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """For an option that takes one region: those whose name or alias (English or
        Spanish) fits what was typed."""
        return region_choices(current, pick_language(interaction.locale.value))

    async def _complete_regions(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """For an option that takes several separated by commas: the last part is
        completed, the earlier ones kept."""
        head, _, tail = current.rpartition(",")
        prefix = f"{head.strip()}, " if head.strip() else ""
        return region_choices(tail, pick_language(interaction.locale.value), prefix)

    async def _complete_timezone(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """For a time zone: IANA names whose name or city starts with what was typed."""
        return [
            app_commands.Choice(name=zone, value=zone)
            for zone in zone_choices(current, AUTOCOMPLETE_CHOICES)
            if len(zone) <= CHOICE_CHARS
        ]

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("discord: command failed: %r", error, exc_info=error)
        language = pick_language(interaction.locale.value)
        reply = _trouble(language)
        with contextlib.suppress(discord.HTTPException):
            await _answer(interaction, reply)


def _words(words: spec.Words) -> app_commands.locale_str:
    """English for Discord, with the Spanish along for `_Spanish` to hand over."""
    return app_commands.locale_str(words.en, es=words.es)


class _Spanish(app_commands.Translator):
    """The commands' option names and descriptions in Spanish (from the spec), sent when
    they are synced."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale not in SPANISH_LOCALES:
            return None
        return string.extras.get("es")


class _PostableChannel(app_commands.Transformer):
    """A text or announcement channel or a thread, as Discord resolved it: with the
    permissions of the user who ran the command in that channel."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POSTABLE_CHANNELS)

    async def transform(self, interaction: discord.Interaction, value: Any) -> Any:
        return value


# How each kind of parameter is offered: the option's type, which discord.py reads from
# the callback's annotation.
_OPTION_TYPES: dict[spec.ParamKind, Any] = {
    "count": app_commands.Range[int, 1, spec.MAX_COUNT],
    "region": str,
    "regions": str,
    "channel": app_commands.Transform[TargetChannel, _PostableChannel],
    "text": str,  # words, handed to the core as typed (one argument)
    "timezone": str,
}


async def _bot_permissions(
    interaction: discord.Interaction, channel: TargetChannel
) -> discord.Permissions:
    """The bot's permissions in a channel of the interaction's server, from the cache the
    guilds intent keeps (or fetched, for a thread the cache has not seen)."""
    guild = interaction.guild
    if guild is None or guild.me is None:
        return discord.Permissions.none()
    resolved = guild.get_channel_or_thread(channel.id)
    if resolved is None:
        try:
            resolved = await channel.fetch()
        except discord.Forbidden:
            return discord.Permissions.none()  # it may not even see the channel
    return resolved.permissions_for(guild.me)


def region_choices(typed: str, language: str, prefix: str = "") -> list[app_commands.Choice[str]]:
    """Regions whose name or alias starts with `typed`, then those that contain it, each
    after `prefix`."""
    typed = fold_case_and_accents(typed)
    first, then = [], []
    for region in REGIONS:
        names = [
            fold_case_and_accents(region),
            fold_case_and_accents(display_name(region, language)),
        ]
        names += [alias for alias, target in ALIASES.items() if target == region]
        if not typed or any(n.startswith(typed) for n in names):
            first.append(region)
        elif any(typed in n for n in names):
            then.append(region)
    return [
        app_commands.Choice(
            name=(prefix + display_name(r, language))[:CHOICE_CHARS],
            value=(prefix + r)[:CHOICE_CHARS],
        )
        for r in (first + then)[:AUTOCOMPLETE_CHOICES]
    ]


async def _answer(interaction: discord.Interaction, reply: Reply) -> None:
    content, embeds = render_reply(reply)
    ephemeral = reply.private or reply.error
    if not interaction.response.is_done():
        await interaction.response.send_message(
            content=content, embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )
        return
    if interaction.extras.pop(PUBLIC_DEFER, False) and ephemeral:
        # The first follow-up takes the place of the defer's "thinking..." and keeps its
        # visibility, whatever it asks: delete the public one so this answer is private.
        await interaction.delete_original_response()
    await interaction.followup.send(
        content=content, embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
    )


def _forum_of(
    interaction: discord.Interaction, channel: TargetChannel | None
) -> discord.ForumChannel | None:
    """The forum a command is about: its channel option when that is a forum, else the
    forum in one of whose posts (threads) the command was sent; None if neither."""
    if channel is not None:
        guild = interaction.guild
        if channel.type != discord.ChannelType.forum or guild is None:
            return None
        found = guild.get_channel(channel.id)
        return found if isinstance(found, discord.ForumChannel) else None
    here = interaction.channel
    if isinstance(here, discord.Thread) and isinstance(here.parent, discord.ForumChannel):
        return here.parent
    return None


def _chat(interaction: discord.Interaction) -> ChatRef:
    channel_id = str(interaction.channel_id or "")
    if interaction.guild_id is None:
        return ChatRef("discord", channel_id, "dm", str(interaction.user))
    return ChatRef("discord", channel_id, "channel", _title(interaction, interaction.channel))


def _title(interaction: discord.Interaction, channel: Any) -> str:
    name = getattr(channel, "name", None)
    guild = interaction.guild.name if interaction.guild and interaction.guild.name else ""
    return " ".join(p for p in (guild, f"#{name}" if name else "") if p)


def _refusal(locale: str, key: str, **values: object) -> Reply:
    """A refusal of the adapter's own, in the user's language, for the user only."""
    language = pick_language(locale)
    text = tr_from(MESSAGES, language, key, **values)
    return Reply(text=text, language=language, error=True, private=True)


def _trouble(language: str) -> Reply:
    """What a user reads when answering their command failed on our side."""
    return Reply(text=tr(language, "internal_error"), language=language, error=True, private=True)
