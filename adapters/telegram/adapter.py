"""Telegram through python-telegram-bot: posts headlines, answers commands.

It shares the event loop with the core and other platforms (initialize / start /
start_polling, never `run_polling`). Sending is paced by our own sliding windows rather
than PTB's AIORateLimiter, which has no per-private-chat limit and lets a 21st message into
a group about 3 s after the first 20, where a chat counting a true minute answers 429.
"""

from __future__ import annotations

import asyncio
import html
import logging
import shlex
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram import error as tg_error
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.ext import Application, CommandHandler, ContextTypes, filters
from telegram.request import HTTPXRequest

from adapters.telegram.config import FREE_RATE, TOKEN_ENV, TelegramConfig
from adapters.telegram.pacing import ChatState, Pacer, RateLimits
from adapters.telegram.render import (
    MAX_CAPTION,
    MAX_TEXT,
    Text,
    is_web_link,
    pack,
    post,
    render_digest,
    render_reply,
)
from bot.backoff import backoff
from bot.chat import spec
from bot.chat.i18n import LANGUAGES, pick_language, tr
from bot.models import ChatRef, Command, Digest, Headline, Reply
from bot.ports import (
    NO_OBSERVER,
    CannotStart,
    CommandCallback,
    ContentRejected,
    DestinationGone,
    DestinationMoved,
    Observer,
    PlatformHealth,
    RetryAfter,
    SendError,
    Sent,
    TemporaryFailure,
    ThreadClosed,
    ThreadGone,
    ThreadsRefused,
)
from bot.regions.names import REGIONS, WORLD, display_name

log = logging.getLogger(__name__)

# A command's answer: tries, and the longest flood-control wait still worth answering.
REPLY_TRIES = 3
REPLY_MAX_WAIT = 60.0
# PTB's loggers that log URLs with the token in them.
TOKEN_LOGGERS = ("httpx", "telegram.Bot", "telegram.ext.ExtBot")
ADMIN_STATUSES = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
# Bad requests that mean the chat cannot take messages from us any more.
GONE_MARKERS = (
    "chat not found",
    "peer_id_invalid",
    "bot was kicked",
    "bot is not a member",
    "not enough rights",
    "have no rights",
    "user is deactivated",
    "chat_write_forbidden",
    "need administrator rights",  # a channel that made the bot a member, not an admin
    "chat_admin_required",
    "chat_restricted",
)
# Bad requests of a paid broadcast when the bot's Stars balance cannot pay for it. Telegram
# does not document the text; BALANCE_TOO_LOW is the name of the error in its MTProto API,
# which the Bot API passes on as it does CHAT_WRITE_FORBIDDEN.
OUT_OF_STARS_MARKERS = ("balance_too_low", "not enough stars")
# Bad requests about the forum topic a message was sent to (message_thread_id).
THREAD_GONE_MARKERS = ("message thread not found", "topic_deleted", "topic_id_invalid")
THREAD_CLOSED_MARKERS = ("topic_closed",)
# Bad requests of sendPhoto about the picture, not the chat: the post goes out as text.
PICTURE_MARKERS = (
    "wrong file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "wrong remote file",
    "webpage_curl_failed",
    "webpage_media_empty",
    "photo_invalid_dimensions",
    "image_process_failed",
    "caption is too long",
)
# Bad requests of createForumTopic that mean the bot may not make topics there.
NO_TOPIC_RIGHTS_MARKERS = ("not enough rights", "chat_admin_required", "need administrator")
NOT_FORUM_MARKERS = ("not a forum", "chat_not_forum")
# The icon colours Telegram allows for a topic (createForumTopic's icon_color): six, so
# of the eight region topics two share a colour; each region keeps its own.
TOPIC_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)


class _PictureRefused(Exception):
    """Telegram could not use a headline's picture; the post goes out as text."""


class Link:
    """Whether Telegram answers: every request reports here (`WatchedRequest`), so the
    health knows the bot lost Telegram even while it has nothing to send. A 429 is
    counted for the metrics."""

    def __init__(self, adapter: TelegramAdapter) -> None:
        self._adapter = adapter
        self.failing_since = 0.0
        self.error = ""

    def answered(self, status: int) -> None:
        self.failing_since, self.error = 0.0, ""
        if status == 429:
            self._adapter.observer.rate_limited("telegram")

    def failed(self, error: BaseException) -> None:
        self.failing_since = self.failing_since or time.time()
        self.error = str(error) or type(error).__name__


class WatchedRequest(HTTPXRequest):
    """PTB's own HTTP client, reporting every answer, or the lack of one, to a `Link`."""

    def __init__(self, link: Link, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._link = link

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            status, payload = await super().do_request(*args, **kwargs)
        except tg_error.TelegramError as error:  # network trouble, a timeout
            self._link.failed(error)
            raise
        self._link.answered(status)
        return status, payload


class TelegramAdapter:
    platform = "telegram"
    observer: Observer = NO_OBSERVER

    def __init__(self, config: TelegramConfig, *, limits: RateLimits | None = None) -> None:
        self.config = config
        # Telegram's free limits; with paid broadcasting, the total rises to the paid rate
        # (the chats' own windows stay: paying lifts only the 30 messages/s overall).
        self.free_limits = limits or RateLimits()
        self.paid_broadcast = config.allow_paid_broadcast
        paced = self.free_limits
        if self.paid_broadcast:
            paced = replace(paced, total=config.paid_broadcast_rate)
        self.pacer = Pacer(paced)
        self.link = Link(self)
        self._app: Application | None = None
        self._on_command: CommandCallback | None = None
        self._running = False
        self._stopping = False
        self._redact = RedactToken(config.token)

    async def start(self, on_command: CommandCallback) -> None:
        # Bot API URLs contain the token: httpx logs every request URL at INFO, and PTB
        # logs the base URL at DEBUG.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        for name in TOKEN_LOGGERS:
            logging.getLogger(name).addFilter(self._redact)
        self._on_command = on_command
        self._stopping = False
        # Commands are answered concurrently: one waiting out a chat's rate limit must not
        # hold up the others. No job queue: the core has its own scheduler.
        builder = (
            Application.builder()
            .token(self.config.token)
            .concurrent_updates(True)
            .job_queue(None)
            # PTB's defaults (256 connections for calls, 1 for getUpdates), watched.
            .request(WatchedRequest(self.link, connection_pool_size=256))
            .get_updates_request(WatchedRequest(self.link, connection_pool_size=1))
        )
        if self.config.api_base_url:
            # PTB's own convention ends the base URL in /bot; ours names the server.
            api = self.config.api_base_url.removesuffix("/bot")
            builder = builder.base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
        app = builder.build()
        # Edited messages are left out: editing a command must not run it again.
        app.add_handler(
            CommandHandler(
                spec.names(),
                self._handle_command,
                filters=filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST,
            )
        )
        app.add_error_handler(self._handle_error)
        self._app = app
        try:
            await app.initialize()
            await app.start()
            await self._register_commands()
            await app.updater.start_polling(
                allowed_updates=[Update.MESSAGE, Update.CHANNEL_POST],
                error_callback=self._polling_error,
            )
        except tg_error.InvalidToken:
            await self.stop()
            # PTB's own message quotes the token.
            raise CannotStart(
                "telegram: the Telegram server rejected the bot token; check "
                f"{TOKEN_ENV} (or [telegram] token)"
            ) from None
        except BaseException:
            await self.stop()
            raise
        self._running = True
        log.info("telegram: connected as @%s", app.bot.username)
        if self.paid_broadcast:
            log.warning(
                "telegram: paid broadcasts are on (allow_paid_broadcast): up to %d messages/s; "
                "each message over Telegram's free %d/s costs 0.1 Star from the bot's balance",
                self.pacer.total.limit,
                FREE_RATE,
            )

    async def stop(self) -> None:
        """Take no more updates, let the commands being handled finish (their answers go
        out, but are not retried), then disconnect: sends after that fail as temporary."""
        self._stopping = True
        app = self._app
        if app is not None:
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
        self._running = False
        self._app = None
        if app is not None:
            await app.shutdown()
        for name in TOKEN_LOGGERS:
            logging.getLogger(name).removeFilter(self._redact)

    def prime(self, sent: Sequence[tuple[ChatRef, float]]) -> None:
        """Count what another process sent from this token lately in the chats' windows:
        taking over from it, this one does not send into a chat whose minute is full
        (Telegram would answer 429 and hold the chat longer)."""
        now = time.time()
        ages: dict[tuple[str, str], list[float]] = {}
        for chat, at in sent:
            ages.setdefault((chat.chat_id, chat.kind), []).append(now - at)
        for (chat_id, kind), chat_ages in ages.items():
            self.pacer.prime(chat_id, kind, chat_ages)

    def health(self) -> PlatformHealth:
        if not self._running:
            return PlatformHealth(False, self.link.failing_since, detail="not started")
        if self.link.failing_since:
            return PlatformHealth(False, self.link.failing_since, detail=self.link.error)
        return PlatformHealth(True)

    async def send_text(self, chat: ChatRef, text: str) -> Sent:
        text = text[: MAX_TEXT - 1] + "…" if len(text) > MAX_TEXT else text
        # As plain text, so nothing in it is read as markup; errors as `_post` gives them.
        plain = Text(html.escape(text), text)
        async with self.pacer.chat(chat.chat_id, chat.kind) as state:
            message = await self._post(state, chat, plain, LinkPreviewOptions(is_disabled=True))
        return Sent(str(message.message_id))

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        if not headlines:
            raise ValueError("send needs at least one headline")
        # A forum's topics are one chat to Telegram's limits: one window per chat id.
        async with self.pacer.chat(chat.chat_id, chat.kind) as state:
            count = 1
            if not state.private and len(headlines) > state.window.room(time.monotonic()):
                # The group's minute cannot take these one by one: pack what fits into one
                # message rather than fall a minute behind.
                count = len(headlines)
            text = pack([post(h, language) for h in headlines[:count]])
            # A packed message shows no picture: one story's picture above several would
            # seem to belong to them all.
            image = headlines[0].image if text.count == 1 else ""
            image = image if is_web_link(image) and self.config.images != "off" else ""
            off = LinkPreviewOptions(is_disabled=not self.config.link_previews)
            if image and self.config.images == "photo":
                caption = post(headlines[0], language, MAX_CAPTION)
                try:
                    message = await self._post(state, chat, caption, off, photo=image)
                    return Sent(str(message.message_id), 1)
                except _PictureRefused as error:
                    log.info(
                        "telegram: no picture for chat %s (%s); sent as text", chat.chat_id, error
                    )
                    image = ""
            previews = off
            if image:  # the picture as a large preview above the text
                previews = LinkPreviewOptions(
                    url=image, prefer_large_media=True, show_above_text=True
                )
            message = await self._post(state, chat, text, previews)
        return Sent(str(message.message_id), text.count)

    async def send_digest(self, chat: ChatRef, digest: Digest, language: str) -> Sent:
        """The digest as one message, or several in a row where 4096 characters cannot
        hold it; each waits its turn in the chat's and the bot's windows like any post."""
        first: Message | None = None
        no_preview = LinkPreviewOptions(is_disabled=True)  # a digest links many stories
        async with self.pacer.chat(chat.chat_id, chat.kind) as state:
            for text in render_digest(digest, language):
                message = await self._post(state, chat, text, no_preview)
                first = first or message
        assert first is not None
        return Sent(str(first.message_id), digest.total)

    async def _post(
        self,
        state: ChatState,
        chat: ChatRef,
        text: Text,
        previews: LinkPreviewOptions,
        reply_to: int | None = None,
        photo: str = "",
    ) -> Message:
        """Send `text` as HTML, or as plain text if Telegram cannot parse the markup (with
        `photo`: a picture with `text` as its caption); the errors come out as the core's
        `SendError`s, and a picture Telegram cannot use as `_PictureRefused`."""
        chat_id = chat.chat_id
        try:
            try:
                return await self._request(
                    state, chat, text.html, ParseMode.HTML, previews, reply_to, photo
                )
            except tg_error.BadRequest as error:
                if "can't parse entities" not in str(error).lower():
                    raise
                log.warning(
                    "telegram: chat %s could not parse a post (%s); sent as plain text",
                    chat_id,
                    error,
                )
            return await self._request(state, chat, text.plain, None, previews, reply_to, photo)
        except tg_error.RetryAfter as error:
            seconds = _seconds(error)
            state.window.held_until = time.monotonic() + seconds
            raise RetryAfter(seconds, f"telegram: flood control, retry in {seconds:g}s") from None
        except tg_error.ChatMigrated as error:
            raise DestinationMoved(str(error.new_chat_id)) from None
        except tg_error.Forbidden as error:
            raise DestinationGone(f"telegram: {error}") from None
        except tg_error.BadRequest as error:
            said = str(error).lower()
            if photo and any(marker in said for marker in PICTURE_MARKERS):
                raise _PictureRefused(str(error)) from None
            if any(marker in said for marker in THREAD_GONE_MARKERS):
                raise ThreadGone(f"telegram: {error}") from None
            if any(marker in said for marker in THREAD_CLOSED_MARKERS):
                raise ThreadClosed(f"telegram: {error}") from None
            if any(marker in said for marker in GONE_MARKERS):
                raise DestinationGone(f"telegram: {error}") from None
            raise ContentRejected(f"telegram: {error}") from None
        except tg_error.TelegramError as error:  # network, timeouts, 5xx, a bad token
            raise TemporaryFailure(f"telegram: {error}") from None

    async def _request(
        self,
        state: ChatState,
        chat: ChatRef,
        text: str,
        parse_mode: str | None,
        previews: LinkPreviewOptions,
        reply_to: int | None,
        photo: str = "",
    ) -> Message:
        """One message, paid for if paid broadcasting is on; if the Stars run out, the
        same message again unpaid, and every one after it (`_end_paid_broadcast`)."""
        paid = self.paid_broadcast
        try:
            return await self._request_once(
                state, chat, text, parse_mode, previews, reply_to, photo, paid
            )
        except tg_error.BadRequest as error:
            if not paid or not any(m in str(error).lower() for m in OUT_OF_STARS_MARKERS):
                raise
            self._end_paid_broadcast(error)
        return await self._request_once(
            state, chat, text, parse_mode, previews, reply_to, photo, paid=False
        )

    async def _request_once(
        self,
        state: ChatState,
        chat: ChatRef,
        text: str,
        parse_mode: str | None,
        previews: LinkPreviewOptions,
        reply_to: int | None,
        photo: str,
        paid: bool,
    ) -> Message:
        if not self._running:
            raise tg_error.NetworkError("the adapter is stopped")
        async with self.pacer.slot(state):
            app = self._app
            if app is None or not self._running:  # stopped while this send waited its turn
                raise tg_error.NetworkError("the adapter is stopped")
            reply = (
                ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
            )
            thread = int(chat.thread_id) if chat.thread_id else None
            # None leaves the parameter out of the request altogether.
            paid_broadcast = True if paid else None
            if photo:
                return await app.bot.send_photo(
                    chat_id=_chat_id(chat.chat_id),
                    photo=photo,
                    caption=text,
                    parse_mode=parse_mode,
                    message_thread_id=thread,
                    reply_parameters=reply,
                    allow_paid_broadcast=paid_broadcast,
                )
            return await app.bot.send_message(
                chat_id=_chat_id(chat.chat_id),
                text=text,
                parse_mode=parse_mode,
                link_preview_options=previews,
                message_thread_id=thread,
                reply_parameters=reply,
                allow_paid_broadcast=paid_broadcast,
            )

    def _end_paid_broadcast(self, error: tg_error.TelegramError) -> None:
        """The Stars ran out: send on unpaid, at the free rate, rather than fail
        deliveries. Until the bot restarts: a balance is topped up by a person."""
        if not self.paid_broadcast:  # a send in flight at the same time said so first
            return
        self.paid_broadcast = False
        self.pacer.set_total(self.free_limits.total)
        log.error(
            "telegram: Telegram refused a paid broadcast (%s): the bot's Stars balance is too "
            "low. Sending on without allow_paid_broadcast at the free %d messages/s until the "
            "bot restarts; top up the bot's Stars balance, then restart it",
            error,
            self.free_limits.total,
        )

    async def create_region_threads(
        self, chat: ChatRef, regions: Sequence[str], language: str
    ) -> dict[str, str]:
        """One forum topic per region in the supergroup `chat`, named in `language`, with
        a colour of its own per region; their message_thread_ids by region."""
        app = self._app
        if app is None or not self._running:
            raise ThreadsRefused("failed", "telegram is not connected")
        made: dict[str, str] = {}
        try:
            found = await app.bot.get_chat(_chat_id(chat.chat_id))
            if not found.is_forum:
                raise ThreadsRefused("not_forum", f"telegram: chat {chat.chat_id} has no topics")
            for region in regions:
                order = (*REGIONS, WORLD).index(region) if region in (*REGIONS, WORLD) else 0
                # It posts a message in the group: it counts against the group's minute.
                async with (
                    self.pacer.chat(chat.chat_id, chat.kind) as state,
                    self.pacer.slot(state),
                ):
                    topic = await app.bot.create_forum_topic(
                        _chat_id(chat.chat_id),
                        display_name(region, language),
                        icon_color=TOPIC_COLORS[order % len(TOPIC_COLORS)],
                    )
                made[region] = str(topic.message_thread_id)
        except tg_error.TelegramError as error:
            said = str(error).lower()
            reason = "failed"
            if any(marker in said for marker in NO_TOPIC_RIGHTS_MARKERS):
                reason = "no_rights"
            elif any(marker in said for marker in NOT_FORUM_MARKERS):
                reason = "not_forum"
            raise ThreadsRefused(reason, f"telegram: {error}", made) from None
        except ThreadsRefused as refused:
            refused.created.update(made)
            raise
        return made

    async def _register_commands(self) -> None:
        assert self._app is not None
        for language in LANGUAGES:
            # The operator's commands stay out of everyone's menu: they work in the alert
            # chats alone, where the operator knows them from the alerts and /help.
            commands = [
                BotCommand(c.name, c.menu_description(language))
                for c in spec.COMMANDS
                if not c.operator_only
            ]
            try:
                await self._app.bot.set_my_commands(
                    commands, language_code=None if language == "en" else language
                )
            except tg_error.TelegramError as error:
                # Clients then list no commands; the commands still work.
                log.warning("telegram: could not register the %s command list: %s", language, error)

    async def _handle_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or message.text is None or self._on_command is None:
            return
        tg_chat = message.chat
        kind = {ChatType.PRIVATE: "private", ChatType.CHANNEL: "channel"}.get(tg_chat.type, "group")
        name, args = parse_command_text(message.text)
        # In a forum, a message in a topic carries the topic's id (in other groups a reply
        # carries one too, its thread of replies, which is no destination of its own).
        thread = message.message_thread_id if message.is_topic_message else None
        chat = ChatRef(
            self.platform,
            str(tg_chat.id),
            kind,
            tg_chat.title or "",
            tg_chat.username or "",
            thread_id=str(thread) if thread else "",
        )
        user = message.from_user
        language = (user.language_code or "") if user else ""
        quote = None if kind == "private" else message.message_id
        can_admin: bool | None = True
        command_spec = spec.find(name)
        if kind == "group" and command_spec is not None and command_spec.admin_only:
            can_admin = await self._is_admin(message)
        if can_admin is None:
            reply = Reply(text=tr(pick_language(language), "admin_check_failed"), error=True)
        else:
            try:
                reply = await self._on_command(
                    Command(name, args, chat, can_admin=can_admin, language=language)
                )
            except Exception:
                log.exception("telegram: /%s in chat %s failed", name, chat.chat_id)
                reply = Reply(text=tr(pick_language(language), "internal_error"), error=True)
        await self._answer(chat, name, render_reply(reply), quote)

    async def _answer(self, chat: ChatRef, name: str, text: Text, quote: int | None) -> None:
        """Send a command's answer: flood control is waited out (up to a minute, after
        which the answer is stale), network trouble retried, a migrated group followed;
        while the adapter stops, no retries."""
        problem = None
        no_preview = LinkPreviewOptions(is_disabled=True)
        for attempt in range(REPLY_TRIES):
            try:
                async with self.pacer.chat(chat.chat_id, chat.kind) as state:
                    await self._post(state, chat, text, no_preview, quote)
                return
            except RetryAfter as error:  # the chat's window now waits it out
                problem = error
                if error.seconds > REPLY_MAX_WAIT or self._stopping:
                    break
            except DestinationMoved as error:
                problem, chat = error, replace(chat, chat_id=error.new_chat_id)
            except TemporaryFailure as error:
                problem = error
                if self._stopping:
                    break
                await asyncio.sleep(backoff(attempt, 1.0, REPLY_MAX_WAIT, jitter=0))
            except SendError as error:  # gone, or the content refused: trying again is futile
                problem = error
                break
        log.warning("telegram: could not answer /%s in chat %s: %s", name, chat.chat_id, problem)

    async def _is_admin(self, message: Message) -> bool | None:
        """Whether the sender of `message` administers its group; None if Telegram could
        not say."""
        if message.sender_chat is not None:
            # An anonymous administrator writes as the group itself.
            return message.sender_chat.id == message.chat.id
        if message.from_user is None:
            return False
        try:
            member = await message.chat.get_member(message.from_user.id)
        except tg_error.TelegramError as error:
            log.warning(
                "telegram: could not check the admins of chat %s: %s", message.chat.id, error
            )
            return None
        return member.status in ADMIN_STATUSES

    async def _handle_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: a command failed", exc_info=context.error)

    def _polling_error(self, error: tg_error.TelegramError) -> None:
        self.link.failed(error)
        log.warning("telegram: polling failed (%s); retrying", error)


class RedactToken(logging.Filter):
    """Replaces the bot token in log records with `<token>`."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "<token>"), ()
        return True


def parse_command_text(text: str) -> tuple[str, tuple[str, ...]]:
    """'/region@bot "América Latina"' -> ('region', ('América Latina',)). Quotes group
    words; an unclosed quote leaves the words as typed."""
    head, *tail = text.split(None, 1)
    rest = tail[0] if tail else ""
    name = head.lstrip("/").split("@")[0].lower()
    rest = rest.translate(_CURLY_QUOTES)
    try:
        args = shlex.split(rest)
    except ValueError:
        args = rest.split()
    return name, tuple(a for a in args if a)


_CURLY_QUOTES = str.maketrans({"“": '"', "”": '"', "«": '"', "»": '"', "„": '"'})


def _chat_id(chat_id: str) -> int | str:
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


def _seconds(error: tg_error.RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB warns that retry_after will become a timedelta unless PTB_TIMEDELTA is set.
        warnings.simplefilter("ignore", DeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
