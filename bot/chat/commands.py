"""The bot's commands, free of any platform: a `Command` in, a `Reply` out."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from bot import filters
from bot.chat import spec
from bot.chat.i18n import DAY_NAMES, pick_language, region_list, tr
from bot.chat.spec import DEFAULT_COUNT, MAX_COUNT
from bot.config import Config
from bot.models import ChatRef, Command, Reply
from bot.outbox import digest
from bot.ports import RegionThreads, ThreadsRefused
from bot.regions.names import (
    REGIONS,
    WORLD,
    display_name,
    find_region,
    fold_case_and_accents,
    suggest_region,
)
from bot.store import Storage

log = logging.getLogger(__name__)

REGION_COUNT_DAYS = 7
# The longest argument text a command takes: every region and alias, both languages, fits
# in well under this, while a platform lets a message run to 4096 (Telegram) or options to
# 6000 characters (Discord). Longer text is refused before any of it is parsed, so no
# command spends more than a few milliseconds on what a user typed.
MAX_ARGS_CHARS = 200
# Telegram command names have at most 32 characters: a longer one is cut when echoed.
MAX_NAME_CHARS = 32
# `/subscribe topics`: split the chat into one thread (forum topic) per region.
TOPICS_WORDS = frozenset({"topics", "temas"})
SEARCH_RESULTS = 10


class UserError(Exception):
    """Something the user should read and can fix; the message is already localised."""


@dataclass(frozen=True)
class Commands:
    """Answers commands from the archive in `storage`: each command of `spec.COMMANDS` by
    the method `_name`.

    `feeds` names the feeds for /help; `language` is the bot's default language;
    `adapters`, by platform, are asked to make threads for `/subscribe topics` where they
    can (`RegionThreads`).
    `config`, where given, names the operator's alert chats, where the operator's
    commands run (bot/ops).
    """

    storage: Storage
    feeds: tuple[str, ...] = ()
    language: str = "en"
    clock: Callable[[], float] = time.time  # for when digests fall due
    adapters: Mapping[str, object] = field(default_factory=dict)
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
        if _asks_for_topics(command.args):
            return await self._subscribe_topics(command, language)
        regions = parse_regions(command.args, language)
        await self.storage.subscribe(command.chat, regions, language=command.language and language)
        if regions:
            text = tr(language, "subscribed", regions=region_list(regions, language))
        else:
            text = tr(language, "subscribed_all")
        return Reply(text=text, language=language)

    async def _unsubscribe(self, command: Command, language: str) -> Reply:
        if _asks_for_topics(command.args):
            chat = replace(command.chat, thread_id="")
            count = await self.storage.unsubscribe_region_threads(chat)
            key = "topics_unsubscribed" if count else "topics_not_subscribed"
            return Reply(text=tr(language, key, count=count), language=language)
        if command.args:
            raise UserError(tr(language, "too_many_args", name="unsubscribe"))
        done = await self.storage.unsubscribe(command.chat)
        return Reply(
            text=tr(language, "unsubscribed" if done else "not_subscribed"), language=language
        )

    async def _digest(self, command: Command, language: str) -> Reply:
        destination = await self.storage.destination(command.chat)
        if destination is None or not destination.active:
            raise UserError(tr(language, "digest_not_subscribed"))
        now = self.clock()
        if not command.args:
            setting = (
                digest.parse_setting(destination.digest.split()) if destination.digest else None
            )
            if setting is None:
                return Reply(text=tr(language, "digest_none"), language=language)
            due = await self.storage.digest_due(destination) or digest.next_due(setting, now)
            text = tr(
                language,
                "digest_current",
                when=_digest_when(setting, language),
                next=digest.describe_due(setting, due),
            )
            return Reply(text=text, language=language)
        try:
            setting = digest.parse_setting(command.args, destination.timezone)
        except digest.DigestError as error:
            raise UserError(tr(language, error.key, **error.values)) from None
        await self.storage.set_digest(destination.chat, setting, now)
        if setting is None:
            return Reply(text=tr(language, "digest_off"), language=language)
        due = digest.next_due(setting, now)
        text = tr(
            language,
            "digest_set",
            when=_digest_when(setting, language),
            next=digest.describe_due(setting, due),
        )
        return Reply(text=text, language=language)

    async def _subscribe_topics(self, command: Command, language: str) -> Reply:
        chat = replace(command.chat, thread_id="")
        count = await self.split_into_topics(chat, language, command.language and language)
        return Reply(text=tr(language, "topics_subscribed", count=count), language=language)

    async def split_into_topics(self, chat: ChatRef, language: str, chosen: str = "") -> int:
        """One thread per region and one for world news in `chat`, each receiving its
        region, named in `language` (`chosen`: the chat's language to remember); the
        threads made before are used again, only the missing ones are made. How many
        threads the chat has; a UserError, in `language`, says why none were made."""
        adapter = self.adapters.get(chat.platform)
        if not isinstance(adapter, RegionThreads):
            raise UserError(tr(language, "topics_unsupported"))
        known = await self.storage.region_threads(chat)
        threads = {region: d.chat.thread_id for region, d in known.items()}
        missing = [r for r in (*REGIONS, WORLD) if r not in threads]
        try:
            threads |= await adapter.create_region_threads(chat, missing, language)
        except ThreadsRefused as error:
            if error.created:  # keep what was made: the next try makes only the rest
                await self.storage.subscribe_region_threads(
                    chat, threads | error.created, language=chosen
                )
            log.warning(
                "commands: no topics for %s chat %s: %s", chat.platform, chat.chat_id, error
            )
            raise UserError(tr(language, f"topics_{error.reason}", detail=str(error))) from None
        await self.storage.subscribe_region_threads(chat, threads, language=chosen)
        return len(threads)

    async def _filter(self, command: Command, language: str) -> Reply:
        """Show, change or clear the chat's keyword filter (bot.filters)."""
        try:
            change = filters.parse(command.args)
            if change.empty:
                destination = await self.storage.destination(command.chat)
            else:
                destination = await self.storage.set_filter(
                    command.chat, lambda include, exclude: filters.apply(change, include, exclude)
                )
        except filters.FilterError as error:
            raise UserError(tr(language, error.key, **error.values)) from None
        if destination is None:
            raise UserError(tr(language, "filter_not_subscribed"))
        include, exclude = destination.include, destination.exclude
        if not (include or exclude):
            key = "filter_none" if change.empty else "filter_cleared"
            return Reply(text=tr(language, key), language=language)
        rule = tr(language, "filter_rule_include" if include else "filter_rule_exclude")
        terms = filters.describe(include, exclude)
        key = "filter_shown" if change.empty else "filter_saved"
        return Reply(text=tr(language, key, terms=terms, rule=rule), language=language)

    async def _search(self, command: Command, language: str) -> Reply:
        """The newest headlines of the archive with all the words typed (a "quoted
        phrase" as one), of a region if one is named last."""
        texts = [text for _, text in filters.split_terms(command.args)]
        region = None
        # A region named last, in one argument or two or three words, when words remain.
        for size in (3, 2, 1):
            tail = texts[-size:]
            if len(texts) > size and (size == 1 or not any(" " in t for t in tail)):
                region = find_region(" ".join(tail), world=True)
                if region is not None:
                    texts = texts[:-size]
                    break
        terms = list(dict.fromkeys(" ".join(w) for w in map(filters.words, texts) if w))
        if not terms:
            raise UserError(tr(language, "search_words"))
        found = await self.storage.search(terms, region, SEARCH_RESULTS)
        query = " ".join(f'"{t}"' if " " in t else t for t in terms)
        if found:
            title = tr(language, "search_title", query=query)
            if region is not None:
                title += f" ({display_name(region, language)})"
            return Reply(title=title, headlines=tuple(found), language=language)
        where = (
            tr(language, "search_in_region", region=display_name(region, language))
            if region is not None
            else ""
        )
        return Reply(text=tr(language, "search_none", query=query, region=where), language=language)

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


def _digest_when(setting: digest.DigestSetting, language: str) -> str:
    """When the digest of `setting` goes, in `language`: "every day at 08:00 (UTC)"."""
    at = f"{setting.at:%H:%M}"
    if setting.period == digest.HOURLY:
        return tr(language, "digest_every_hour", zone=setting.zone)
    if setting.period == digest.DAILY:
        return tr(language, "digest_every_day", time=at, zone=setting.zone)
    day = DAY_NAMES.get(language, DAY_NAMES["en"])[setting.weekday]
    return tr(language, "digest_every_week", day=day, time=at, zone=setting.zone)


def _asks_for_topics(args: tuple[str, ...]) -> bool:
    return len(args) == 1 and fold_case_and_accents(args[0]) in TOPICS_WORDS


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
