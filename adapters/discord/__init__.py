"""Discord through discord.py: its `[discord]` table and its adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.discord.config import DiscordConfig, parse_section
from bot.config import Config

if TYPE_CHECKING:
    from adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordConfig", "build_adapter", "parse_section"]


def build_adapter(section: DiscordConfig, config: Config, *, one_off: bool) -> DiscordAdapter:
    # discord.py is imported only when the file asks for Discord.
    from adapters.discord.adapter import DiscordAdapter

    return DiscordAdapter(section)
