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
from typing import TextIO

from bot.chat.i18n import region_hashtags, tr
from bot.models import ChatRef, Command, Headline, Reply
from bot.ports import CommandCallback, Sent

log = logging.getLogger(__name__)

CHAT = ChatRef("console", "stdout", kind="private", title="console")
# The console's own word for a headline's picture (it prints the address, fetching nothing).
_PICTURE = {"en": "Picture", "es": "Imagen"}


class ConsoleAdapter:
    platform = "console"

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


def format_reply(reply: Reply) -> str:
    lines = [f"== {reply.title} ==" if reply.title else ""]
    if reply.text:
        lines.append(reply.text)
    for headline in reply.headlines:
        lines.append(f"- {headline.title} {region_hashtags(headline.regions, reply.language)}")
        lines.append(f"  {headline.link}")
    return "\n".join(line for line in lines if line)
