"""Telegram through python-telegram-bot: its `[telegram]` table and its adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING

from adapters.telegram.config import TelegramConfig, parse_section
from bot.config import Config

if TYPE_CHECKING:
    from adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramConfig", "build_adapter", "parse_section"]


def build_adapter(section: TelegramConfig, config: Config, *, one_off: bool) -> TelegramAdapter:
    # python-telegram-bot is imported only when the file asks for Telegram.
    from adapters.telegram.adapter import TelegramAdapter

    return TelegramAdapter(section)
