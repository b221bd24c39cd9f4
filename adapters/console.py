"""The console as a chat platform: posts are printed, commands are read from stdin.

It is what `make demo` shows, and a way to try the bot with no tokens at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TextIO

from bot.chat.i18n import region_hashtags, tr
from bot.config import Config, DestinationConfig, PlatformTable
from bot.models import ChatRef, Command, Digest, Headline, Reply
from bot.ports import NO_OBSERVER, CommandCallback, Observer, PlatformHealth, Sent
from bot.regions.names import display_name

log = logging.getLogger(__name__)

CHAT = ChatRef("console", "stdout", kind="private", title="console")
# The console's own word for a headline's picture (it prints the address, fetching nothing).
_PICTURE = {"en": "Picture", "es": "Imagen"}


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """The `[console]` table of the config file."""

    enabled: bool = False
    regions: tuple[str, ...] = ()
    commands: bool = False

    @property
    def destinations(self) -> tuple[DestinationConfig, ...]:
        return (DestinationConfig(CHAT.chat_id, self.regions),)


def parse_section(t: PlatformTable) -> ConsoleConfig | None:
    default = ConsoleConfig()
    config = ConsoleConfig(
        enabled=t.bool("enabled", default.enabled),
        regions=t.regions("regions"),
        commands=t.bool("commands", default.commands),
    )
    t.done()
    return config if config.enabled else None


def build_adapter(section: ConsoleConfig, config: Config, *, one_off: bool) -> ConsoleAdapter:
    # A one-off run (`poll`) reads no commands: it would wait on the terminal.
    read = section.commands and not one_off
    return ConsoleAdapter(read_commands=read, language=config.language)


class ConsoleAdapter:
    platform = "console"
    observer: Observer = NO_OBSERVER

    def __init__(
        self, out: TextIO | None = None, *, read_commands: bool = False, language: str = "en"
    ) -> None:
        self.out = out or sys.stdout
        self.read_commands = read_commands
        self.language = language
        self._count = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self, on_command: CommandCallback) -> None:
        if self.read_commands:
            self._reader = asyncio.create_task(self._read(on_command), name="console-commands")

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        self._count += 1
        self.print(format_post(headlines[0], language))
        return Sent(message_id=str(self._count))

    async def send_digest(self, chat: ChatRef, digest: Digest, language: str) -> Sent:
        self._count += 1
        self.print(format_digest(digest, language))
        return Sent(message_id=str(self._count), count=digest.total)

    async def send_text(self, chat: ChatRef, text: str) -> Sent:
        self._count += 1
        self.print(f"! {text}")
        return Sent(message_id=str(self._count))

    def health(self) -> PlatformHealth:
        return PlatformHealth(True)  # stdout is always there

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def _read(self, on_command: CommandCallback) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while line := await reader.readline():
            command = parse_command(line.decode("utf-8", "replace"), self.language)
            if command is None:
                continue
            try:
                self.print(format_reply(await on_command(command)))
            except Exception:
                log.exception("console: command %r failed", command.name)


def parse_command(line: str, language: str = "en") -> Command | None:
    """'/latest 3 "Latin America"' -> Command('latest', ('3', 'Latin America')); None for a
    line that is not a command."""
    line = line.strip()
    if not line.startswith("/"):
        return None
    try:
        words = shlex.split(line)
    except ValueError:  # an unclosed quote: take the words as they are
        words = line.split()
    name = words[0][1:].split("@")[0]
    return Command(name, tuple(words[1:]), CHAT, can_admin=True, language=language)


def format_post(headline: Headline, language: str) -> str:
    tags = region_hashtags(headline.regions, language)
    lines = [f"* {headline.title}"]
    if headline.summary:
        lines.append(f"  {headline.summary}")
    when = headline.published.strftime("%Y-%m-%d %H:%M UTC")
    lines.append(f"  {headline.link}")
    if headline.image:
        lines.append(f"  {_PICTURE.get(language, _PICTURE['en'])}: {headline.image}")
    lines.append(f"  {tr(language, 'source')}: {headline.feed}, {when} {tags}")
    return "\n".join(lines)


def format_digest(digest: Digest, language: str) -> str:
    """A digest as text: the title, each region's headlines under its name, the hint."""
    lines = [f"== {tr(language, f'digest_title_{digest.period}', count=digest.total)} =="]
    for section in digest.sections:
        lines.append(f"-- {display_name(section.region, language)} --")
        for headline in section.headlines:
            lines.append(f"- {headline.title} ({headline.feed})")
            lines.append(f"  {headline.link}")
        if section.more:
            lines.append(f"  {tr(language, 'digest_more', count=section.more)}")
    lines.append(tr(language, "digest_hint"))
    return "\n".join(lines)


def format_reply(reply: Reply) -> str:
    lines = [f"== {reply.title} ==" if reply.title else ""]
    if reply.text:
        lines.append(reply.text)
    for headline in reply.headlines:
        lines.append(f"- {headline.title} {region_hashtags(headline.regions, reply.language)}")
        lines.append(f"  {headline.link}")
    return "\n".join(line for line in lines if line)
