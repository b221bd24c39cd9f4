"""The `[telegram]` table of the config file: the bot token and the chats to post to."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import ConfigError, DestinationConfig, PlatformTable, Table, secret_field, show

TOKEN_ENV = "HEADLINES_TELEGRAM_TOKEN"
# Telegram's free rate (messages/s over all chats) and the most a paid broadcast allows.
FREE_RATE = 30
PAID_RATE_MOST = 1000


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str = secret_field()
    api_base_url: str = ""
    link_previews: bool = False
    destinations: tuple[DestinationConfig, ...] = ()
    # How a headline's picture shows: one of IMAGES.
    images: str = "preview"
    # Paid broadcasts (Bot API 7.11): every send carries allow_paid_broadcast, and the
    # bot's total rises from Telegram's free 30 messages/s to `paid_broadcast_rate`;
    # each message over the free 30/s costs 0.1 Star from the bot's balance.
    allow_paid_broadcast: bool = False
    paid_broadcast_rate: int = PAID_RATE_MOST

    # How this platform's chat ids read elsewhere in the file (the operator's alert chat).
    read_chat = staticmethod(lambda t, name: chat(t, name))


# "preview": a large link preview of the picture, above the text; "photo": sendPhoto with
# the post as its caption; "off": no picture.
IMAGES = ("preview", "photo", "off")


def parse_section(t: PlatformTable) -> TelegramConfig:
    default = TelegramConfig(token="")
    config = TelegramConfig(
        token=t.secret("token", TOKEN_ENV),
        api_base_url=t.url("api_base_url", default.api_base_url),
        link_previews=t.bool("link_previews", default.link_previews),
        destinations=t.destinations(lambda d: chat(d, "chat"), topics=True),
        images=t.choice("images", default.images, IMAGES),
        allow_paid_broadcast=t.bool("allow_paid_broadcast", default.allow_paid_broadcast),
        paid_broadcast_rate=t.int(
            "paid_broadcast_rate", default.paid_broadcast_rate, (FREE_RATE, PAID_RATE_MOST)
        ),
    )
    t.done()
    return config


def chat(t: Table, name: str) -> str:
    """A Telegram chat: its numeric id (64 bits), or a channel's @name."""
    value = t.raw(name, required=True)
    if isinstance(value, str):
        t.check_text(name, value)
    if (
        isinstance(value, bool)
        or not isinstance(value, int | str)
        or (isinstance(value, int) and not -(2**63) <= value < 2**63)
        or not str(value).strip()
    ):
        raise ConfigError(t.key(name), f"expected a chat id or @name, got {show(value)}")
    return str(value).strip()
