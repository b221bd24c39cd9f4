"""The bot's commands, free of any platform: a `Command` in, a `Reply` out."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from bot.chat import spec
from bot.chat.i18n import pick_language, region_list, tr
from bot.chat.spec import DEFAULT_COUNT, MAX_COUNT
from bot.config import Config
from bot.models import ChatRef, Command, Reply
from bot.regions.names import (
    REGIONS,
    WORLD,
    display_name,
    find_region,
    fold_case_and_accents,
    suggest_region,
)
from bot.store import Storage

REGION_COUNT_DAYS = 7
# The longest argument text a command takes: every region and alias, both languages, fits
# in well under this, while a platform lets a message run to 4096 (Telegram) or options to
# 6000 characters (Discord). Longer text is refused before any of it is parsed, so no
# command spends more than a few milliseconds on what a user typed.
MAX_ARGS_CHARS = 200
# Telegram command names have at most 32 characters: a longer one is cut when echoed.
MAX_NAME_CHARS = 32


class UserError(Exception):
    """Something the user should read and can fix; the message is already localised."""


@dataclass(frozen=True)
class Commands:
    """Answers commands from the archive in `storage`: each command of `spec.COMMANDS` by
    the method `_name`.

    `feeds` names the feeds for /help; `language` is the bot's default language;
    `config`, where given, names the operator's alert chats, where the operator's
    commands run (bot/ops).
    """

    storage: Storage
    feeds: tuple[str, ...] = ()
    language: str = "en"
    config: Config | None = None

    def is_operator(self, chat: ChatRef) -> bool:
        """Whether `chat` is one of the operator's alert chats."""
        chats = self.config.alerts.chats() if self.config else {}
        return chats.get(chat.platform) == chat.chat_id

    async def handle(self, command: Command) -> Reply:
        destination = await self.storage.destination(command.chat)
        language = pick_language(
            command.language, destination.language if destination else "", self.language
        )
        name = command.name.lower().lstrip("/").split("@")[0]
        command_spec = spec.find(name)
        handler = getattr(self, f"_{name}", None) if command_spec else None
        try:
            if command_spec is None or handler is None:
                raise UserError(tr(language, "unknown_command", name=_cut(name, MAX_NAME_CHARS)))
            length = len(" ".join(command.args))
            if length > MAX_ARGS_CHARS:
                raise UserError(
                    tr(language, "args_too_long", name=name, length=length, max=MAX_ARGS_CHARS)
                )
            if command_spec.admin_only and not command.can_admin:
                raise UserError(tr(language, "admins_only"))
            if command_spec.operator_only and not self.is_operator(command.chat):
                raise UserError(tr(language, "operators_only", name=name))
            reply = await handler(command, language)
            return replace(reply, private=True) if command_spec.private else reply
        except UserError as error:
            return Reply(text=str(error), language=language, error=True, private=True)

    async def _start(self, command: Command, language: str) -> Reply:
        help_reply = await self._help(command, language)
        return Reply(text=f"{tr(language, 'start')}\n\n{help_reply.text}", language=language)

    async def _help(self, command: Command, language: str) -> Reply:
        text = tr(
            language,
            "help",
            feeds=", ".join(self.feeds) or "-",
            commands="\n".join(spec.help_lines(language, operator=self.is_operator(command.chat))),
            regions=region_list(REGIONS, language),
        )
        return Reply(text=text, language=language)

    async def _latest(self, command: Command, language: str) -> Reply:
        count, region = DEFAULT_COUNT, None
        words = list(command.args)
        if words and _looks_numeric(words[0]):
            count = _count(words.pop(0), language)
        elif words and _looks_numeric(words[-1]):
            count = _count(words.pop(), language)
        if words:
            region = _region(" ".join(words), language, world=True)
        return await self._headlines(count, region, language)

    async def _region(self, command: Command, language: str) -> Reply:
        if command.args:
            region = _region(" ".join(command.args), language, world=True)
            return await self._headlines(DEFAULT_COUNT, region, language)
        counts = await self.storage.region_counts(time.time() - REGION_COUNT_DAYS * 86400)
        lines = [f"{display_name(r, language)}: {counts.get(r, 0)}" for r in REGIONS]
        lines.append(f"{tr(language, 'world')}: {counts.get('', 0)}")
        destination = await self.storage.destination(command.chat)
        if destination is None or not destination.active:
            lines.append("\n" + tr(language, "chat_not_subscribed"))
        elif destination.regions:
            regions = region_list(destination.regions, language)
            lines.append("\n" + tr(language, "chat_filter", regions=regions))
        else:
            lines.append("\n" + tr(language, "chat_filter_all"))
        return Reply(title=tr(language, "regions_title"), text="\n".join(lines), language=language)

    async def _subscribe(self, command: Command, language: str) -> Reply:
        regions = parse_regions(command.args, language)
        await self.storage.subscribe(command.chat, regions, language=command.language and language)
        if regions:
            text = tr(language, "subscribed", regions=region_list(regions, language))
        else:
            text = tr(language, "subscribed_all")
        return Reply(text=text, language=language)

    async def _unsubscribe(self, command: Command, language: str) -> Reply:
        if command.args:
            raise UserError(tr(language, "too_many_args", name="unsubscribe"))
        done = await self.storage.unsubscribe(command.chat)
        return Reply(
            text=tr(language, "unsubscribed" if done else "not_subscribed"), language=language
        )

    # -- the operator's commands: in the alert chats only (spec: operator_only) ---------

    async def _status(self, command: Command, language: str) -> Reply:
        from bot.ops.status import summary

        assert self.config is not None  # operator_only: an alert chat is configured
        return Reply(
            title=tr(language, "status_title"),
            text=await summary(self.storage, self.config, language),
            language=language,
        )

    async def _enable(self, command: Command, language: str) -> Reply:
        from bot.ops.operator import enable

        assert self.config is not None
        name = " ".join(command.args)
        done = await enable(self.storage, self.config, name)
        if done is None:
            raise UserError(tr(language, "enable_unknown", name=name))
        if done.feed:
            text = tr(language, "enabled_feed", name=done.feed)
            if done.released:
                text += " " + tr(language, "released", count=done.released)
        else:
            text = tr(language, "enabled_chat", name=done.chat)
        return Reply(text=text, language=language)

    async def _release(self, command: Command, language: str) -> Reply:
        from bot.ops.operator import release

        assert self.config is not None
        name = " ".join(command.args)
        count = await release(self.storage, self.config, name)
        if count is None:
            raise UserError(tr(language, "no_such_feed", name=name))
        if not count:
            return Reply(text=tr(language, "nothing_held", name=name), language=language)
        return Reply(text=tr(language, "released", count=count), language=language)

    async def _headlines(self, count: int, region: str | None, language: str) -> Reply:
        headlines = await self.storage.latest(count, region)
        if region is not None:
            shown = display_name(region, language)
            title = tr(language, "latest_region", region=shown)
            empty = tr(language, "nothing_region", region=shown)
        else:
            title, empty = tr(language, "latest"), tr(language, "nothing_yet")
        return Reply(
            title=title,
            text="" if headlines else empty,
            headlines=tuple(headlines),
            language=language,
        )


def parse_regions(args: tuple[str, ...] | list[str], language: str = "en") -> list[str]:
    """Regions named in `args`, which may be split by spaces or commas and span several
    words ('Latin America', 'América Latina'); the longest name that matches wins. World
    news is no region to subscribe to: the outbox sends a chat the headlines of its regions."""
    words = [w for part in " ".join(args).split(",") for w in part.split()]
    regions: list[str] = []
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            region = find_region(" ".join(words[i : i + size])) if i + size <= len(words) else None
            if region:
                break
        else:
            region, size = _region(words[i], language), 1  # raises, with a suggestion
        if region not in regions:
            regions.append(region)
        i += size
    return regions


def _region(name: str, language: str, *, world: bool = False) -> str:
    """The region `name` means (with `world`, `WORLD` too), or a UserError that says why not."""
    region = find_region(name, world=world)
    if region is None and find_region(name, world=True) == WORLD:
        raise UserError(tr(language, "world_subscription", name=name.strip("\"'")))
    if region is None:
        guess = suggest_region(name)
        hint = tr(language, "did_you_mean", region=display_name(guess, language)) if guess else ""
        raise UserError(
            tr(
                language,
                "unknown_region",
                name=name.strip("\"'"),
                hint=hint,
                regions=region_list(REGIONS, language),
            )
        )
    return region


def _cut(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _looks_numeric(word: str) -> bool:
    return fold_case_and_accents(word).lstrip("+-").replace(".", "").isdigit()


def _count(word: str, language: str) -> int:
    try:
        count = int(word)
    except ValueError:
        count = 0
    if not 1 <= count <= MAX_COUNT:
        raise UserError(tr(language, "bad_count", value=word, max=MAX_COUNT))
    return count
