"""Discord through discord.py."""

from adapters.discord.adapter import DiscordAdapter

__all__ = ["DiscordAdapter"]
