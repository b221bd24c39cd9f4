"""Telegram through python-telegram-bot."""

from adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]
