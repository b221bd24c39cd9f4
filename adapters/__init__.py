"""Chat platforms: each module turns one platform into the core's `Adapter` contract."""

from __future__ import annotations

from bot.config import Config
from bot.ports import Adapter


def build_adapters(config: Config, *, console_commands: bool | None = None) -> list[Adapter]:
    """The adapters `config` asks for. Platform libraries are imported only when used."""
    adapters: list[Adapter] = []
    if config.telegram is not None:
        from adapters.telegram.adapter import TelegramAdapter

        adapters.append(TelegramAdapter(config.telegram))
    if config.discord is not None:
        from adapters.discord.adapter import DiscordAdapter

        adapters.append(DiscordAdapter(config.discord))
    if config.console.enabled:
        from adapters.console import ConsoleAdapter

        read = config.console.commands if console_commands is None else console_commands
        adapters.append(ConsoleAdapter(read_commands=read, language=config.language))
    return adapters
