"""A fake Telegram Bot API server on 127.0.0.1 for the real python-telegram-bot to talk to.

It answers what the bot uses (getMe, deleteWebhook, getUpdates long polling with offsets,
setMyCommands, sendMessage, sendPhoto, getChatMember, getChat, createForumTopic), models
forum supergroups (topics made, deleted or closed; message_thread_id on sends and on the
commands sent in a topic; one rate window per chat, whatever the topic), parses
parse_mode=HTML the way Telegram does (only its tags, `<` and `&` escaped, else 400
"can't parse entities"), can be told to fail (429 with retry_after, 403, 400,
migrate_to_chat_id, 5xx, a request held open, a picture it cannot fetch), and can enforce
Telegram's sending limits with true sliding windows, answering 429 past them.

Paid broadcasts: a send with allow_paid_broadcast=true may go past the free total, up to
`paid_total` in the window; each one that arrives while the window already holds the free
`total` costs 0.1 Star (`stars_spent`). With a balance set (`set_stars_balance`), a paid
send that would cost more than is left answers 400 "Bad Request: BALANCE_TOO_LOW" (the
name of the error in Telegram's MTProto API; the Bot API does not document its text).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import math
import re
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token-never-logged"
BOT_ID = 123456
BOT_USERNAME = "headlines_test_bot"
WAIT = 5.0  # how long a test waits for the bot before failing

# Telegram's HTML tags and the entity each one makes.
_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
}
_MARKUP = re.compile(
    r"<(?P<close>/?)(?P<tag>[a-zA-Z][\w-]*)(?P<attrs>[^<>]*)>"
    r"|&(?P<entity>lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);"
    r"|(?P<bad>[<&])"
)
_HREF = re.compile(r"""^\s*href\s*=\s*(?:"([^"]*)"|'([^']*)')\s*$""")


class EntityError(ValueError):
    """What Telegram says after "Bad Request: can't parse entities: "."""


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """The visible text and the entities of `source`, as Telegram's parse_mode=HTML makes
    them (offsets and lengths in UTF-16 code units)."""
    text: list[str] = []
    size = 0  # UTF-16 length of the text so far
    open_tags: list[tuple[str, int, dict[str, Any]]] = []
    entities: list[dict[str, Any]] = []
    position = 0
    for match in _MARKUP.finditer(source):
        plain = source[position : match.start()]
        text.append(plain)
        size += utf16_length(plain)
        position = match.end()
        at = len(source[: match.start()].encode())
        if match["bad"]:
            raise EntityError(f'unexpected "{match["bad"]}" at byte offset {at}')
        if match["entity"]:
            char = html.unescape(match.group(0))
            text.append(char)
            size += utf16_length(char)
            continue
        tag = match["tag"].lower()
        if tag not in _TAGS:
            raise EntityError(f'unsupported start tag "{tag}" at byte offset {at}')
        if match["close"]:
            if not open_tags or open_tags[-1][0] != tag:
                raise EntityError(f'unmatched end tag at byte offset {at}, expected "</{tag}>"')
            _, start, extra = open_tags.pop()
            if size > start:
                entities.append({"type": _TAGS[tag], "offset": start, "length": size - start})
                entities[-1].update(extra)
            continue
        extra: dict[str, Any] = {}
        if tag == "a":
            href = _HREF.match(match["attrs"])
            if href is None:
                raise EntityError(f"can't find href of a link at byte offset {at}")
            extra["url"] = html.unescape(href[1] if href[1] is not None else href[2])
        elif match["attrs"].strip() and tag != "pre":
            raise EntityError(f'unexpected attribute of "{tag}" at byte offset {at}')
        open_tags.append((tag, size, extra))
    text.append(source[position:])
    if open_tags:
        raise EntityError(f'can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda e: e["offset"])
    return "".join(text), entities


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(frozen=True)
class FakeLimits:
    """Telegram's sending limits, counted over true sliding windows of arrivals."""

    total: int = 30
    total_period: float = 1.0
    group: int = 20
    group_period: float = 60.0
    private: int = 1
    private_period: float = 1.0
    # With allow_paid_broadcast: the total per `total_period` that paying allows.
    paid_total: int = 1000


# Telegram's free limits, which tell a paid send that costs Stars from one that does not
# when the fake enforces no limits.
FREE = FakeLimits()
STAR_TENTHS_PER_MESSAGE = 1  # 0.1 Star per paid message over the free rate


@dataclass
class SentMessage:
    """A message the fake accepted: `text` and `entities` as a client would show them."""

    message_id: int
    chat_id: str
    text: str
    entities: list[dict[str, Any]]
    parse_mode: str
    source: str
    params: dict[str, Any]
    at: float
    thread_id: str = ""  # the forum topic it went to
    photo: str = ""  # sendPhoto's picture URL; `text` is then the caption

    def links(self) -> list[str]:
        return [e["url"] for e in self.entities if e["type"] == "text_link"]

    def styled(self, kind: str) -> list[str]:
        """The pieces of `text` an entity of `kind` covers."""
        units = self.text.encode("utf-16-le")
        return [
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in self.entities
            if e["type"] == kind
        ]


@dataclass
class Failure:
    error_code: int
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Topic:
    """A forum topic as createForumTopic made it."""

    name: str
    icon_color: int
    closed: bool = False
    deleted: bool = False


# The icon colours createForumTopic accepts.
TOPIC_COLORS = (7322096, 16766590, 13338331, 9367192, 16749490, 16478047)
MAX_CAPTION = 1024


@dataclass
class Gate:
    """Holds sendMessage requests to a chat open: `arrived` is set once one is waiting,
    and they answer once `release` is set."""

    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)


class FakeTelegram:
    """`async with FakeTelegram() as fake:` then point the bot at `fake.url`."""

    def __init__(
        self,
        *,
        token: str = TOKEN,
        username: str = BOT_USERNAME,
        limits: FakeLimits | None = None,
    ) -> None:
        self.token = token
        self.username = username
        self.limits = limits
        self.url = ""
        self.sent: list[SentMessage] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.admins: dict[str, set[int]] = {}
        self.too_many = 0  # 429s answered because a limit was exceeded
        self.too_early = 0  # sends that came back before the retry_after they were given
        self.member_checks_fail = False  # getChatMember answers 500
        self.rejected: list[tuple[str, int, str]] = []  # (chat, error code, description)
        # Paid broadcasts: Stars spent, and the balance left (None: never runs out), both
        # counted in tenths of a Star so that they add up exactly.
        self.star_tenths_spent = 0
        self._star_tenths_left: int | None = None
        self._failures: dict[str, deque[Failure]] = {}
        self._gone: dict[str, str] = {}
        self._held: dict[str, float] = {}
        self._migrated: dict[str, int] = {}
        self._gates: dict[str, Gate] = {}
        self._chats: dict[str, dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_id = 0
        self._message_id = 0
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._arrivals: dict[str, deque[float]] = {}
        self._all_arrivals: deque[float] = deque()
        self._runner: web.AppRunner | None = None
        # Forum supergroups: their topics by message_thread_id, and whether the bot may
        # manage topics there.
        self.topics: dict[str, dict[str, Topic]] = {}
        self._topic_rights: dict[str, bool] = {}
        self.unfetchable: set[str] = set()  # picture URLs sendPhoto cannot get
        # getUpdates ended with 409 because another reader asked while it waited: two bot
        # processes reading one token's updates.
        self.conflicts = 0
        self._reader: tuple[web.Request, asyncio.Event] | None = None

    async def __aenter__(self) -> FakeTelegram:
        await self._listen(0)
        port = self._runner.addresses[0][1] if self._runner else 0
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def _listen(self, port: int) -> None:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        # access_log=None: request paths carry the token, and tests check it is never logged.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port, reuse_address=True).start()

    async def go_offline(self) -> None:
        """Telegram cannot be reached: the connections in use are closed, and new ones
        refused (nothing listens on the port), until `go_online`."""
        self._closing.set()  # long polls in progress end
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def go_online(self) -> None:
        """Telegram answers again, on the same port."""
        self._closing.clear()
        await self._listen(int(self.url.rpartition(":")[2]))

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        for gate in self._gates.values():
            gate.release.set()
        async with self._changed:
            self._changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what a test sets up ------------------------------------------------------

    def fail(
        self, chat_id: str | int, error_code: int, description: str, **parameters: Any
    ) -> None:
        """The next sendMessage to `chat_id` fails so (call again to queue more)."""
        failure = Failure(error_code, description, parameters)
        self._failures.setdefault(str(chat_id), deque()).append(failure)

    def retry_after(self, chat_id: str | int, seconds: int) -> None:
        self.fail(chat_id, 429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    def reject_entities(self, chat_id: str | int) -> None:
        self.fail(
            chat_id,
            400,
            'Bad Request: can\'t parse entities: unsupported start tag "x" at byte offset 0',
        )

    def server_error(self, chat_id: str | int) -> None:
        self.fail(chat_id, 500, "Internal Server Error")

    def kick(self, chat_id: str | int, description: str = "Forbidden: bot was kicked") -> None:
        """Every sendMessage to `chat_id` answers 403 from now on."""
        self._gone[str(chat_id)] = description

    def migrate(self, chat_id: str | int, new_chat_id: int) -> None:
        """`chat_id` became a supergroup with id `new_chat_id`."""
        self._migrated[str(chat_id)] = new_chat_id

    def hold(self, chat_id: str | int) -> Gate:
        gate = self._gates[str(chat_id)] = Gate()
        return gate

    def set_stars_balance(self, stars: float | None) -> None:
        """The bot's Stars balance from now on, for paid broadcasts; None: unlimited."""
        self._star_tenths_left = None if stars is None else round(stars * 10)

    def make_admin(self, chat_id: str | int, user_id: int) -> None:
        self.admins.setdefault(str(chat_id), set()).add(user_id)

    def make_forum(self, chat_id: str | int, *, can_manage_topics: bool = True) -> None:
        """`chat_id` is a supergroup with topics on; the bot may make topics there only
        as an administrator with can_manage_topics."""
        self.topics.setdefault(str(chat_id), {})
        self._topic_rights[str(chat_id)] = can_manage_topics
        self._chats[str(chat_id)] = {
            "id": int(chat_id),
            "type": "supergroup",
            "title": "A forum",
            "is_forum": True,
        }

    def add_topic(self, chat_id: str | int, name: str) -> str:
        """A topic someone made in the forum `chat_id`; its message_thread_id."""
        self._message_id += 1
        thread_id = str(self._message_id)
        self.topics[str(chat_id)][thread_id] = Topic(name, TOPIC_COLORS[0])
        return thread_id

    def delete_topic(self, chat_id: str | int, thread_id: str | int) -> None:
        self.topics[str(chat_id)][str(thread_id)].deleted = True

    def close_topic(self, chat_id: str | int, thread_id: str | int, closed: bool = True) -> None:
        self.topics[str(chat_id)][str(thread_id)].closed = closed

    def topic_named(self, chat_id: str | int, name: str) -> str:
        """The message_thread_id of the live topic called `name` in `chat_id`."""
        [thread_id] = [
            t
            for t, topic in self.topics[str(chat_id)].items()
            if topic.name == name and not topic.deleted
        ]
        return thread_id

    async def private_command(
        self, text: str, user_id: int = 1001, language_code: str = "en"
    ) -> int:
        """A user sends `text` to the bot; its message id (which an answer replies to)."""
        chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        return await self._message_update("message", text, chat, _user(user_id, language_code))

    async def edit_private_command(self, text: str, user_id: int = 1001) -> None:
        """The user edits an earlier message of theirs into `text`."""
        chat = {"id": user_id, "type": "private", "first_name": f"User{user_id}"}
        await self._message_update("edited_message", text, chat, _user(user_id, "en"))

    async def group_command(
        self,
        text: str,
        chat_id: int,
        user_id: int,
        *,
        title: str = "A group",
        supergroup: bool = False,
        language_code: str = "en",
        thread_id: str | int | None = None,
    ) -> None:
        """A command in a group; with `thread_id`, in that topic of a forum (make_forum)."""
        chat = {"id": chat_id, "type": "supergroup" if supergroup else "group", "title": title}
        if str(chat_id) in self.topics:
            chat = {**chat, "type": "supergroup", "is_forum": True}
        extra = {"message_thread_id": int(thread_id), "is_topic_message": True} if thread_id else {}
        await self._message_update("message", text, chat, _user(user_id, language_code), extra)

    async def channel_command(self, text: str, chat_id: int, *, title: str = "A channel") -> None:
        chat = {"id": chat_id, "type": "channel", "title": title}
        await self._message_update("channel_post", text, chat, None)

    # -- what a test reads ---------------------------------------------------------

    def messages(self, chat_id: str | int | None = None) -> list[SentMessage]:
        return [m for m in self.sent if chat_id is None or m.chat_id == str(chat_id)]

    def called(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    @property
    def stars_spent(self) -> float:
        return self.star_tenths_spent / 10

    def busiest_window(self, period: float = 1.0) -> int:
        """The most messages accepted (sent) within any `period` seconds, from their
        recorded arrival times."""
        times = sorted(m.at for m in self.sent)
        most, first = 0, 0
        for last, at in enumerate(times):
            while times[first] <= at - period:
                first += 1
            most = max(most, last - first + 1)
        return most

    async def wait_messages(
        self, chat_id: str | int | None = None, count: int = 1
    ) -> list[SentMessage]:
        """The messages to `chat_id` once there are at least `count` of them."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.messages(chat_id)) >= count), WAIT
            )
        return self.messages(chat_id)

    async def wait_updates_taken(self) -> None:
        """Until the bot has confirmed every update (polled past it)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: not self._updates), WAIT)

    # -- the Bot API -----------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = _decode(dict(await request.post()))
        self.calls.append((method, params))
        if method == "getUpdates":
            return await self._get_updates(request, params)
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return await handler(params)

    async def _api_getMe(self, params: dict[str, Any]) -> web.Response:
        return _ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Headlines",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> web.Response:
        return _ok(True)

    async def _api_setMyCommands(self, params: dict[str, Any]) -> web.Response:
        self.commands[params.get("language_code", "")] = params["commands"]
        return _ok(True)

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> web.Response:
        """One reader at a time, as Telegram has it: a getUpdates arriving while another
        client's still waits ends that one with 409 Conflict. (A waiting request whose
        client is gone, killed, is simply dropped.)"""
        terminated = asyncio.Event()
        if self._reader is not None:
            waiting, ended = self._reader
            if waiting.transport is not None and not waiting.transport.is_closing():
                self.conflicts += 1
            ended.set()
        self._reader = (request, terminated)
        try:
            answer = asyncio.ensure_future(self._api_getUpdates(params))
            ended = asyncio.ensure_future(terminated.wait())
            await asyncio.wait([answer, ended], return_when=asyncio.FIRST_COMPLETED)
            if not answer.done():
                answer.cancel()
                await asyncio.gather(answer, return_exceptions=True)
                return _error(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only "
                    "one bot instance is running",
                )
            ended.cancel()
            return answer.result()
        finally:
            if self._reader is not None and self._reader[0] is request:
                self._reader = None

    async def _api_getUpdates(self, params: dict[str, Any]) -> web.Response:
        offset = int(params.get("offset", 0))
        timeout = float(params.get("timeout", 0))
        limit = int(params.get("limit", 100))
        async with self._changed:
            if offset:
                # Telegram forgets updates once a later offset confirms them.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._changed.notify_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self._updates) or self._closing.is_set()),
                    timeout,
                )
            return _ok([] if self._closing.is_set() else self._updates[:limit])

    async def _api_getChatMember(self, params: dict[str, Any]) -> web.Response:
        if self.member_checks_fail:
            return _error(500, "Internal Server Error")
        chat_id, user_id = str(params["chat_id"]), int(params["user_id"])
        user = _user(user_id, "en")
        if user_id in self.admins.get(chat_id, ()):
            rights = dict.fromkeys(_ADMIN_RIGHTS, True)
            return _ok({"status": "administrator", "user": user, **rights})
        return _ok({"status": "member", "user": user})

    async def _api_sendMessage(self, params: dict[str, Any]) -> web.Response:
        return await self._send(params, "text", 4096, "message is too long")

    async def _api_sendPhoto(self, params: dict[str, Any]) -> web.Response:
        """A picture by URL, which Telegram fetches (or cannot: `unfetchable`), with an
        optional caption of at most 1,024 characters."""
        return await self._send(params, "caption", MAX_CAPTION, "message caption is too long")

    async def _send(
        self, params: dict[str, Any], field_name: str, limit: int, too_long: str
    ) -> web.Response:
        arrived = time.monotonic()
        chat_id = str(params.get("chat_id", ""))
        gate = self._gates.get(chat_id)
        if gate is not None:
            gate.arrived.set()
            await gate.release.wait()
        paid = params.get("allow_paid_broadcast") is True
        response = (
            self._refuse(chat_id, arrived, paid)
            or self._refuse_thread(chat_id, params)
            or self._refuse_unpaid(chat_id, arrived, paid)
        )
        if response is not None:
            return response
        photo = str(params.get("photo", ""))
        if field_name == "caption" and photo in self.unfetchable:
            return self._reject(
                chat_id, 400, "Bad Request: wrong file identifier/HTTP URL specified"
            )
        parse_mode = params.get("parse_mode", "")
        source = str(params.get(field_name, ""))
        if parse_mode == "HTML":
            try:
                text, entities = parse_html(source)
            except EntityError as error:
                return self._reject(chat_id, 400, f"Bad Request: can't parse entities: {error}")
        else:
            text, entities = source, []
        if field_name == "text" and not text.strip():
            return self._reject(chat_id, 400, "Bad Request: message text is empty")
        if utf16_length(text) > limit:
            return self._reject(chat_id, 400, f"Bad Request: {too_long}")
        if paid and self._over_free_rate(arrived):
            self.star_tenths_spent += STAR_TENTHS_PER_MESSAGE
            if self._star_tenths_left is not None:
                self._star_tenths_left -= STAR_TENTHS_PER_MESSAGE
        self._count(chat_id, arrived)
        self._message_id += 1
        thread_id = str(params.get("message_thread_id", ""))
        message = SentMessage(
            self._message_id,
            chat_id,
            text,
            entities,
            parse_mode,
            source,
            params,
            arrived,
            thread_id,
            photo,
        )
        self.sent.append(message)
        async with self._changed:
            self._changed.notify_all()
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Headlines"},
        }
        if thread_id:
            result |= {"message_thread_id": int(thread_id), "is_topic_message": True}
        if photo:
            size = {"file_id": f"photo{message.message_id}", "width": 800, "height": 600}
            result["photo"] = [{**size, "file_unique_id": f"u{message.message_id}"}]
            if text:
                result["caption"] = text
            if entities:
                result["caption_entities"] = entities
        else:
            result["text"] = text
            if entities:
                result["entities"] = entities
        return _ok(result)

    async def _api_getChat(self, params: dict[str, Any]) -> web.Response:
        chat_id = str(params.get("chat_id", ""))
        if chat_id in self._gone:
            return _error(403, self._gone[chat_id])
        return _ok({**self._chat(chat_id), "accent_color_id": 0, "max_reaction_count": 11})

    async def _api_createForumTopic(self, params: dict[str, Any]) -> web.Response:
        arrived = time.monotonic()
        chat_id = str(params.get("chat_id", ""))
        response = self._refuse(chat_id, arrived)
        if response is not None:
            return response
        if chat_id not in self.topics:
            return self._reject(chat_id, 400, "Bad Request: the chat is not a forum")
        if not self._topic_rights.get(chat_id):
            return self._reject(chat_id, 400, "Bad Request: not enough rights to manage topics")
        name = str(params.get("name", ""))
        if not 1 <= len(name) <= 128:
            return self._reject(chat_id, 400, "Bad Request: TOPIC_TITLE_EMPTY")
        color = int(params.get("icon_color", TOPIC_COLORS[0]))
        if color not in TOPIC_COLORS:
            return self._reject(chat_id, 400, "Bad Request: TOPIC_ICON_COLOR_INVALID")
        self._count(chat_id, arrived)  # its "topic created" message counts as one
        self._message_id += 1
        self.topics[chat_id][str(self._message_id)] = Topic(name, color)
        return _ok({"message_thread_id": self._message_id, "name": name, "icon_color": color})

    def _refuse_thread(self, chat_id: str, params: dict[str, Any]) -> web.Response | None:
        """A send to a topic that was deleted (or never was) or is closed."""
        thread_id = str(params.get("message_thread_id", ""))
        if not thread_id:
            return None
        topic = self.topics.get(chat_id, {}).get(thread_id)
        if topic is None or topic.deleted:
            return self._reject(chat_id, 400, "Bad Request: message thread not found")
        if topic.closed:
            return self._reject(chat_id, 400, "Bad Request: TOPIC_CLOSED")
        return None

    # -- failures and limits ---------------------------------------------------------

    def _refuse(self, chat_id: str, now: float, paid: bool = False) -> web.Response | None:
        """The error this sendMessage gets before its text is even looked at, if any."""
        held = self._held.get(chat_id, 0.0) - now
        if held > 0:
            self.too_early += 1
            seconds = math.ceil(held)
            return self._reject(
                chat_id, 429, f"Too Many Requests: retry after {seconds}", retry_after=seconds
            )
        if chat_id in self._gone:
            return self._reject(chat_id, 403, self._gone[chat_id])
        if chat_id in self._migrated:
            return self._reject(
                chat_id,
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[chat_id],
            )
        queued = self._failures.get(chat_id)
        if queued:
            failure = queued.popleft()
            return self._reject(
                chat_id, failure.error_code, failure.description, **failure.parameters
            )
        if self.limits is not None:
            wait = self._over_limit(chat_id, now, paid)
            if wait:
                self.too_many += 1
                seconds = max(1, math.ceil(wait))
                return self._reject(
                    chat_id, 429, f"Too Many Requests: retry after {seconds}", retry_after=seconds
                )
        return None

    def _refuse_unpaid(self, chat_id: str, now: float, paid: bool) -> web.Response | None:
        """A paid send over the free rate that the Stars balance cannot pay for."""
        if not paid or self._star_tenths_left is None or not self._over_free_rate(now):
            return None
        if self._star_tenths_left >= STAR_TENTHS_PER_MESSAGE:
            return None
        return self._reject(chat_id, 400, "Bad Request: BALANCE_TOO_LOW")

    def _over_free_rate(self, now: float) -> bool:
        """Whether the overall window already holds the free number of messages: one more
        now is a paid one."""
        limits = self.limits or FREE
        arrivals = self._all_arrivals
        while arrivals and arrivals[0] <= now - limits.total_period:
            arrivals.popleft()
        return len(arrivals) >= limits.total

    def _over_limit(self, chat_id: str, now: float, paid: bool = False) -> float:
        """Seconds until a message to `chat_id` would fit every window; 0 if it fits now.
        The window is the chat's, whatever forum topic a message goes to; a paid one may
        go past the free total, up to the paid one."""
        assert self.limits is not None
        limits = self.limits
        total = limits.paid_total if paid else limits.total
        if chat_id.isdigit():
            limit, period = limits.private, limits.private_period
        else:
            limit, period = limits.group, limits.group_period
        waits = [0.0]
        for arrivals, window_limit, window in (
            (self._all_arrivals, total, limits.total_period),
            (self._arrivals.setdefault(chat_id, deque()), limit, period),
        ):
            while arrivals and arrivals[0] <= now - window:
                arrivals.popleft()
            if len(arrivals) >= window_limit:
                waits.append(arrivals[-window_limit] + window - now)
        return max(waits)

    def _count(self, chat_id: str, now: float) -> None:
        self._all_arrivals.append(now)
        self._arrivals.setdefault(chat_id, deque()).append(now)

    def _reject(
        self, chat_id: str, error_code: int, description: str, **parameters: Any
    ) -> web.Response:
        self.rejected.append((chat_id, error_code, description))
        if error_code == 429:  # Telegram holds the chat that long
            self._held[chat_id] = time.monotonic() + parameters["retry_after"]
        return _error(error_code, description, **parameters)

    # -- building updates -------------------------------------------------------------

    async def _message_update(
        self,
        kind: str,
        text: str,
        chat: dict[str, Any],
        user: dict[str, Any] | None,
        extra: dict[str, Any] | None = None,
    ) -> int:
        self._chats[str(chat["id"])] = chat
        self._update_id += 1
        self._message_id += 1
        command = text.split()[0] if text.startswith("/") else ""
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "date": int(time.time()),
            "chat": chat,
            "text": text,
            **(extra or {}),
        }
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        if user is not None:
            message["from"] = user
        else:
            message["sender_chat"] = chat
        async with self._changed:
            self._updates.append({"update_id": self._update_id, kind: message})
            self._changed.notify_all()
        return self._message_id

    def _chat(self, chat_id: str) -> dict[str, Any]:
        if chat_id in self._chats:
            return self._chats[chat_id]
        if chat_id.startswith("@"):
            return {"id": -1009000000000 - len(self._chats), "type": "channel", "title": chat_id}
        if chat_id.isdigit():
            return {"id": int(chat_id), "type": "private", "first_name": "User"}
        kind = "supergroup" if chat_id.startswith("-100") else "group"
        return {"id": int(chat_id), "type": kind, "title": "Chat"}


_ADMIN_RIGHTS = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


def _user(user_id: int, language_code: str) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}
    if language_code:
        user["language_code"] = language_code
    return user


def _decode(form: dict[str, Any]) -> dict[str, Any]:
    """PTB sends every non-string value JSON-encoded; ids and numbers are kept as the
    strings they arrive as, and a text that looks like JSON stays text."""
    return {k: json.loads(v) if k in _JSON_PARAMS else v for k, v in form.items()}


_JSON_PARAMS = {
    "allow_paid_broadcast",
    "allowed_updates",
    "commands",
    "entities",
    "link_preview_options",
    "reply_markup",
    "reply_parameters",
    "scope",
}


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(error_code: int, description: str, **parameters: Any) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": error_code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=error_code)
