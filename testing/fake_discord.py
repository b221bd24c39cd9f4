"""A fake Discord for the real discord.py: REST under /api/v10 and a gateway websocket, on
127.0.0.1, in the test's own event loop.

It records what the bot posted and answered, and dispatches slash-command interactions
the way Discord does: ids are snowflakes carrying their creation time, a first answer
later than 3 s after it is refused, and a follow-up to a defer takes the defer's
visibility. Its guild has text channels, a voice channel, a category, a forum and
threads; the bot's permissions there come from overwrites (`deny`), and a post where it
may not post is answered as Discord does (403 50001/50013, 400 50008/50083, 404 10003).
Messages, interaction answers and follow-ups are checked against Discord's limits
(empty, field lengths, 6000 in all, 10 embeds, URLs, timestamps): 400 50035 naming the
field. It honours `enforce_nonce`: a repeated nonce gets the message first posted with it.

It can be told to fail: a 429 (with or without the `Via` header discord.py looks for),
any error body, an answer lost after the message was taken; on the gateway a RECONNECT,
a dropped connection, a refused resume, a close code, a frame that is not JSON.
Per-channel buckets (5 messages per 5 s) are always reported in the rate-limit headers;
with `enforce_limits` it also answers 429 past them and past 50 requests/s overall, as
Discord does, so a benchmark can count the 429s a client provokes.

Forum channels (type 15) carry `available_tags` and `flags` (REQUIRE_TAG): a post is
`POST /channels/{forum}/threads` with `applied_tags` (400 50035 past 5 or for a tag the
forum does not have, 400 40067 without one where a tag is required), paced like
messages; `PATCH /channels/{id}` edits `available_tags` with Manage Channels only (403
50013 without, 400 50035 past 20) and tells the client with CHANNEL_UPDATE. An
announcement channel (type 5) takes `POST .../messages/{id}/crosspost`, with its own
bucket (10 an hour per channel, always enforced: 429 past it).

Its gateway is sharded as Discord's is: a session identifies with `"shard": [k, n]` (none
means [0, 1]), is refused with close code 4010 for a shard that cannot be (k >= n, n < 1)
and, with `require_shards`, with 4011 for fewer shards than that; each guild's events go
only to the sessions of the shard that owns it, `(guild_id >> 22) % n` (DMs: shard 0).
GET /gateway/bot recommends `shards`. `add_guild` makes another guild with text channels.

Pitfalls it avoids (see ../shared/reference/testing-with-real-clients.md): JSON responses
carry exactly `Content-Type: application/json`, gateway frames are plain text.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

TOKEN = "fake-discord-token"
BOT_ID = "1000"
APP_ID = "1001"
OWNER_ID = "1002"
MEMBER_ID = "1003"
GUILD_ID = "2000"
CHANNEL_IDS = ("3001", "3002", "3003")
# Channels of other kinds, in every fake guild; the thread lives in the first text channel.
VOICE_ID, CATEGORY_ID, FORUM_ID, THREAD_ID, ARCHIVED_THREAD_ID = (
    "3101",
    "3102",
    "3103",
    "3104",
    "3105",
)
ANNOUNCEMENT_ID = "3106"
DM_CHANNEL_ID = "3900"

# Permission bits (https://discord.com/developers/docs/topics/permissions).
MANAGE_CHANNELS = 1 << 4
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
SEND_MESSAGES_IN_THREADS = 1 << 38
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | EMBED_LINKS | SEND_MESSAGES_IN_THREADS
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_CHANNELS

# Channel types.
TEXT, DM, VOICE, CATEGORY, ANNOUNCEMENT = 0, 1, 2, 4, 5
NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, STAGE, FORUM = 10, 11, 12, 13, 15
THREADS = (NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)
NO_MESSAGES = (CATEGORY, FORUM)  # Discord answers 400 50008 to a post there
REQUIRE_TAG = 1 << 4  # a forum's flag: every post needs a tag
MAX_APPLIED_TAGS, MAX_AVAILABLE_TAGS, TAG_NAME_CHARS, THREAD_NAME_CHARS = 5, 20, 20, 100
CROSSPOSTS_PER_HOUR = 10  # per announcement channel

APPLICATION_COMMAND = 2
DISCORD_EPOCH_MS = 1_420_070_400_000
INTERACTION_DEADLINE = 3.0  # seconds from its creation for the first answer to an interaction
NONCE_MEMORY = 300.0  # seconds: Discord drops a repeated enforced nonce for "a few minutes"
AUTOCOMPLETE = 4


@dataclass
class _Session:
    """One gateway session: its shard, and every dispatch it was sent, for replay on
    RESUME (held while it has no connection, as Discord holds them)."""

    id: str
    shard: tuple[int, int]
    ws: web.WebSocketResponse | None = None
    transport: asyncio.BaseTransport | None = None  # ws's connection
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    valid: bool = True  # False once invalidated: no RESUME, no more dispatches

    def owns(self, guild_id: str | None) -> bool:
        """Whether this session's shard receives `guild_id`'s events (None: a DM)."""
        shard_id, shard_count = self.shard
        return shard_of(guild_id, shard_count) == shard_id


def shard_of(guild_id: str | None, shard_count: int) -> int:
    """The shard that receives a guild's events; DMs go to shard 0."""
    return 0 if guild_id is None else (int(guild_id) >> 22) % shard_count


@dataclass
class Channel:
    """A guild channel or thread. `overwrites` are Discord's permission overwrites
    ({"id", "type" 0 role / 1 member, "allow", "deny"}); a thread uses its parent's."""

    name: str
    type: int = TEXT
    parent_id: str | None = None
    overwrites: list[dict[str, Any]] = field(default_factory=list)
    archived: bool = False
    # A forum's tags ({"id", "name", "moderated", "emoji_id", "emoji_name"}) and flags.
    available_tags: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    applied_tags: list[str] = field(default_factory=list)  # a forum post's
    guild_id: str = GUILD_ID


@dataclass
class Posted:
    """A message the bot created in a channel (or a reply to an interaction)."""

    channel_id: str
    payload: dict[str, Any]
    id: str
    at: float = 0.0  # the event loop's time when it was accepted

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def ephemeral(self) -> bool:
        return bool(self.payload.get("flags", 0) & 64)


@dataclass
class ForumPost:
    """A post the bot created in a forum: a thread, its tags and its first message."""

    forum_id: str
    thread_id: str
    name: str
    applied_tags: list[str]
    message: Posted

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds


@dataclass
class Interaction:
    id: str
    token: str
    payload: dict[str, Any]
    # What the bot sent: the callback (type 4 message, 5 defer, 8 autocomplete), then
    # follow-ups, edits and deletions ({"delete": "@original"}), as received.
    answers: list[dict[str, Any]] = field(default_factory=list)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    # The messages users see. After a defer, `original` is its "thinking..." placeholder
    # until the first follow-up takes its place, with the defer's visibility whatever the
    # follow-up's flags: Discord's rule.
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reply(self) -> dict[str, Any]:
        """The message the user sees as the answer, with the flags Discord shows it with."""
        if self.original is not None and not self.original.get("loading"):
            return self.original
        if self.followups:
            return self.followups[0]
        raise AssertionError(f"no message answered interaction {self.id}: {self.answers}")

    @property
    def choices(self) -> list[dict[str, Any]]:
        assert self.answers and self.answers[0]["type"] == 8, self.answers
        return self.answers[0]["data"]["choices"]

    def follow_up(self, body: dict[str, Any]) -> None:
        if self.original is not None and self.original.get("loading"):
            self.original = body | {"flags": self.original.get("flags", 0)}
        else:
            self.followups.append(body)
        self.answered.set()


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    times: int | None  # None: every time


class FakeDiscord:
    def __init__(
        self,
        *,
        enforce_limits: bool = False,
        channel_limit: int = 5,
        channel_window: float = 5.0,
        global_limit: int = 50,
        global_window: float = 1.0,
        channels: Iterable[str] = CHANNEL_IDS,
        response_delay: float = 0.0,
        crosspost_limit: int = CROSSPOSTS_PER_HOUR,
        crosspost_window: float = 3600.0,
        shards: int = 1,
        require_shards: int = 0,
    ) -> None:
        self.enforce_limits = enforce_limits
        self.channel_limit = channel_limit
        self.channel_window = channel_window
        self.global_limit = global_limit
        self.global_window = global_window
        self.channels = {cid: Channel(f"news-{i}") for i, cid in enumerate(channels, 1)}
        first = next(iter(self.channels))
        self.channels |= {
            VOICE_ID: Channel("lounge", VOICE),
            CATEGORY_ID: Channel("News", CATEGORY),
            FORUM_ID: Channel("ideas", FORUM),
            THREAD_ID: Channel("live-blog", PUBLIC_THREAD, parent_id=first),
            ARCHIVED_THREAD_ID: Channel("old-blog", PUBLIC_THREAD, parent_id=first, archived=True),
            ANNOUNCEMENT_ID: Channel("announcements", ANNOUNCEMENT),
        }
        self.crosspost_limit = crosspost_limit
        self.crosspost_window = crosspost_window
        self.response_delay = response_delay
        self.refuse_identify = 0  # a close code to answer IDENTIFY with (4014: intents)
        self.shards = shards  # what GET /gateway/bot recommends
        self.require_shards = require_shards  # fewer shards get 4011 (sharding required)
        self.guilds = {GUILD_ID: "Newsroom"}

        self.messages: list[Posted] = []
        self.forum_posts: list[ForumPost] = []
        self.crossposted: list[tuple[str, str]] = []  # (channel id, message id) published
        self.interactions: dict[str, Interaction] = {}
        self.synced: dict[str, list[dict[str, Any]]] = {}  # "global" or a guild id
        self.requests: list[tuple[str, str]] = []
        self.rate_limited = 0  # 429s answered
        self.refused_bodies = 0  # 400s answered for a message past Discord's limits
        # Embed URLs refused as not well formed: Discord's check is stricter than any
        # client's can be sure to match.
        self.bad_urls: set[str] = set()
        self.identifies = 0
        self.identified_shards: list[tuple[int, int]] = []  # in the order they came
        self.resumes: list[dict[str, Any]] = []
        self.resumed_shards: list[tuple[int, int]] = []  # of the RESUMEs taken
        self.gateway_asked = 0

        self._ids = itertools.count()
        self._failures: dict[str, list[_Failure]] = {}
        self._nonces: dict[tuple[str, str], Posted] = {}
        self._lose_answers: list[str] = []
        self._windows: dict[str, tuple[float, int]] = {}  # channel: (window start, count)
        self._global: deque[float] = deque()
        self._message_added = asyncio.Condition()
        self._identified = asyncio.Condition()

        self.session_id = "fake-session"  # the latest session's
        self._sessions: dict[str, _Session] = {}  # those that may RESUME, by id
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        # No access log: it is Discord's side, and its lines would carry tokens.
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        for session in self._live():
            assert session.ws is not None
            await session.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/gateway"

    # -- what tests inject -----------------------------------------------------------

    def fail(
        self,
        channel_id: str,
        status: int,
        code: int,
        message: str,
        *,
        times: int | None = 1,
    ) -> None:
        """Answer the next `times` message posts to `channel_id` with an error."""
        body = {"message": message, "code": code}
        self._failures.setdefault(channel_id, []).append(_Failure(status, body, {}, times))

    def fail_request(self, method: str, path: str, status: int, code: int, message: str) -> None:
        """Answer the next `method path` request (e.g. GET /users/@me) with an error."""
        body = {"message": message, "code": code}
        self._failures.setdefault(f"{method} {path}", []).append(_Failure(status, body, {}, 1))

    def rate_limit(
        self,
        channel_id: str,
        retry_after: float,
        *,
        times: int | None = 1,
        is_global: bool = False,
        via: bool = True,
    ) -> None:
        """Answer the next `times` posts to `channel_id` with 429; without `via` it looks
        like a Cloudflare ban (discord.py then raises rather than waits)."""
        body = {"message": "You are being rate limited.", "retry_after": retry_after}
        body["global"] = is_global
        headers = _limit_headers(retry_after, is_global, via)
        self._failures.setdefault(channel_id, []).append(_Failure(429, body, headers, times))

    def lose_answer(self, channel_id: str) -> None:
        """Take the next message posted to `channel_id`, then drop the connection before
        answering: to the client, a request whose fate it cannot know."""
        self._lose_answers.append(channel_id)

    # -- the gateway -----------------------------------------------------------------

    async def connected(self) -> None:
        await self._connected.wait()

    async def reconnect(self) -> None:
        """Ask the client to reconnect (op 7). Dispatches until it has resumed are held
        and replayed after its RESUME, as Discord does."""
        self._connected.clear()
        for session in self._live():
            ws, session.ws = session.ws, None
            assert ws is not None
            await ws.send_str(json.dumps({"op": 7, "d": None}))

    async def send_garbage(self) -> None:
        """A frame that is not JSON: discord.py's gateway loop dies of it."""
        live = self._live()
        assert live
        for session in live:
            assert session.ws is not None
            await session.ws.send_str("this is not JSON")

    async def close_gateway(self, code: int) -> None:
        """Close the connection with a close code (4004: authentication failed, ...)."""
        self._connected.clear()
        for session in self._live():
            ws, session.ws = session.ws, None
            assert ws is not None
            await ws.close(code=code)

    async def drop(self, shard: int | None = None) -> None:
        """The connection breaks without a close frame, as a network failure would (only
        that shard's, if given)."""
        self._connected.clear()
        for session in self._live():
            if shard is None or session.shard[0] == shard:
                transport, session.ws = session.transport, None
                if transport is not None:
                    transport.abort()

    def invalidate_session(self) -> None:
        """Forget the sessions: the next RESUME gets op 9 (invalid session) and the client
        must IDENTIFY again, and what was dispatched meanwhile is not replayed."""
        for session in self._sessions.values():
            session.valid = False

    def add_guild(self, guild_id: str, name: str, channels: Iterable[str]) -> None:
        """Another guild the bot is in, with text channels of these ids."""
        self.guilds[guild_id] = name
        for i, channel_id in enumerate(channels, 1):
            self.channels[channel_id] = Channel(f"{name.lower()}-{i}", guild_id=guild_id)

    async def interact(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        channel_id: str = CHANNEL_IDS[0],
        permissions: int = ADMIN_PERMISSIONS,
        locale: str = "en-US",
        dm: bool = False,
        focused: str = "",
        channel_permissions: int | None = None,
        age: float = 0.0,
    ) -> Interaction:
        """Dispatch a slash command (or, with `focused`, an autocomplete request for that
        option) as a user would send it; channel-typed option values are channel ids.
        `age`: how long ago Discord created it (the gateway was slow to deliver it)."""
        iid = self._snowflake(age)
        token = f"interaction-token-{iid}"
        guild_id = self.channels[channel_id].guild_id if channel_id in self.channels else GUILD_ID
        opts, resolved = [], {}
        for key, value in (options or {}).items():
            if key.endswith("channel") and not focused:
                opts.append({"name": key, "type": 7, "value": value})
                perms = permissions if channel_permissions is None else channel_permissions
                resolved[value] = self._channel(value) | {"permissions": str(perms)}
            else:
                option: dict[str, Any] = {
                    "name": key,
                    "type": 4 if isinstance(value, int) else 3,
                    "value": value,
                }
                if key == focused:
                    option["focused"] = True
                opts.append(option)
        data: dict[str, Any] = {"id": "4000", "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = {"channels": resolved}
        user = _user(MEMBER_ID, "reader")
        payload: dict[str, Any] = {
            "id": iid,
            "application_id": APP_ID,
            "type": AUTOCOMPLETE if focused else APPLICATION_COMMAND,
            "token": token,
            "version": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
            "locale": locale,
            "data": data,
            "entitlements": [],
            "app_permissions": str(self.bot_permissions(channel_id) if not dm else 0),
        }
        if dm:
            payload |= {
                "channel_id": DM_CHANNEL_ID,
                "channel": {"id": DM_CHANNEL_ID, "type": DM, "recipients": [user]},
                "user": user,
                "context": 1,
                "authorizing_integration_owners": {"0": guild_id},
            }
        else:
            payload |= {
                "channel_id": channel_id,
                "channel": self._channel(channel_id),
                "guild_id": guild_id,
                "guild_locale": "en-US",
                "member": {
                    "user": user,
                    "roles": [],
                    "joined_at": _now(),
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                    "permissions": str(permissions),
                },
                "context": 0,
                "authorizing_integration_owners": {"0": guild_id},
            }
        interaction = Interaction(iid, token, payload)
        self.interactions[iid] = interaction
        await self._dispatch("INTERACTION_CREATE", payload)
        return interaction

    async def command(self, name: str, options: dict[str, Any] | None = None, **kw: Any):
        """Dispatch a slash command and wait until the bot has answered it."""
        interaction = await self.interact(name, options, **kw)
        await asyncio.wait_for(interaction.answered.wait(), 10)
        return interaction

    def add_thread(self, channel_id: str, parent_id: str) -> None:
        """A thread that the client has not been told about (no THREAD_CREATE): it can
        only learn of it by asking, GET /channels/{id}."""
        parent = self.channels[parent_id]
        self.channels[channel_id] = Channel(
            f"thread-{channel_id}", PUBLIC_THREAD, parent_id, guild_id=parent.guild_id
        )

    async def deny(self, channel_id: str, permissions: int) -> None:
        """Deny the bot `permissions` in a channel (a thread's are its parent's), and tell
        the connected client, as Discord does with CHANNEL_UPDATE."""
        channel = self.channels[channel_id]
        target = channel.parent_id if channel.type in THREADS and channel.parent_id else channel_id
        overwrites = self.channels[target].overwrites
        overwrites.append({"id": BOT_ID, "type": 1, "allow": "0", "deny": str(permissions)})
        await self._dispatch("CHANNEL_UPDATE", self._channel(target))

    def forum(
        self, channel_id: str, tags: Iterable[str] = (), *, require_tag: bool = False
    ) -> None:
        """Make `channel_id` a forum with tags of these names (and REQUIRE_TAG)."""
        channel = self.channels.setdefault(channel_id, Channel(f"forum-{channel_id}", FORUM))
        channel.type = FORUM
        channel.flags = REQUIRE_TAG if require_tag else 0
        channel.available_tags = [
            {"id": self._snowflake(), "name": name, "moderated": False}
            | {"emoji_id": None, "emoji_name": None}
            for name in tags
        ]

    def tag_names(self, forum_id: str, tag_ids: Iterable[str]) -> list[str]:
        """The names of a forum's tags, by id."""
        names = {t["id"]: t["name"] for t in self.channels[forum_id].available_tags}
        return [names[t] for t in tag_ids]

    def bot_permissions(self, channel_id: str) -> int:
        """The bot's permissions in a channel: @everyone's, then the overwrites for
        @everyone and for the bot, as Discord computes them."""
        permissions = MEMBER_PERMISSIONS
        channel = self.channels.get(channel_id)
        if channel is not None and channel.type in THREADS and channel.parent_id:
            channel = self.channels.get(channel.parent_id)
        everyone = channel.guild_id if channel is not None else GUILD_ID  # @everyone's id
        for target in (everyone, BOT_ID):
            for overwrite in channel.overwrites if channel else []:
                if overwrite["id"] == target:
                    permissions &= ~int(overwrite["deny"])
                    permissions |= int(overwrite["allow"])
        return permissions

    def _snowflake(self, age: float = 0.0) -> str:
        """A new id, made as Discord makes them: the creation time (`age` seconds ago)
        in milliseconds since 2015 in the upper bits, which clients read back."""
        ms = int((time.time() - age) * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._ids) & 0xFFF))

    # -- what tests read -------------------------------------------------------------

    def posted_to(self, channel_id: str) -> list[Posted]:
        return [m for m in self.messages if m.channel_id == channel_id]

    async def wait_for_identifies(self, count: int) -> None:
        async with self._identified:
            await asyncio.wait_for(self._identified.wait_for(lambda: self.identifies >= count), 10)

    async def wait_for_crossposts(self, count: int) -> None:
        async with self._message_added:
            await asyncio.wait_for(
                self._message_added.wait_for(lambda: len(self.crossposted) >= count), 10
            )

    async def wait_for_messages(self, count: int) -> None:
        async with self._message_added:
            await asyncio.wait_for(
                self._message_added.wait_for(lambda: len(self.messages) >= count), 10
            )

    # -- REST ------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        self.requests.append((request.method, path))
        if request.headers.get("Authorization") != f"Bot {TOKEN}" and not path.startswith(
            ("/interactions/", "/webhooks/")
        ):
            return _json({"message": "401: Unauthorized", "code": 0}, 401)
        if self.enforce_limits and not path.startswith(("/interactions/", "/webhooks/")):
            # Interaction responses are exempt from the global limit on Discord too.
            limited = self._over_global_limit()
            if limited:
                return limited
        failures = self._failures.get(f"{request.method} {path}")
        if failures:
            failure = failures.pop(0)
            return _json(failure.body, failure.status, failure.headers)
        body: Any = None
        if request.can_read_body:
            body = await _read_body(request)
        parts = path.strip("/").split("/")
        method = request.method

        if (method, path) == ("GET", "/users/@me"):
            return _json(_user(BOT_ID, "headlines", bot=True))
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return _json(self._application())
        if (method, path) == ("GET", "/gateway/bot"):
            self.gateway_asked += 1
            limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
            body = {"url": self.ws_url, "shards": self.shards, "session_start_limit": limit}
            return _json(body)
        if method == "PUT" and parts[:1] == ["applications"] and parts[-1] == "commands":
            scope = parts[3] if len(parts) == 5 else "global"
            commands = [
                {**c, "id": self._snowflake(), "application_id": APP_ID, "version": "1"}
                for c in body
            ]
            if scope != "global":
                commands = [{**c, "guild_id": scope} for c in commands]
            self.synced[scope] = commands
            return _json(commands)
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            return await self._post_message(request, parts[1], body)
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["threads"]:
            return await self._post_in_forum(parts[1], body)
        if method == "PATCH" and parts[0] == "channels" and len(parts) == 2:
            return await self._edit_channel(parts[1], body)
        if method == "POST" and parts[0] == "channels" and parts[-1] == "crosspost":
            return await self._crosspost(parts[1], parts[3])
        if method == "GET" and parts[0] == "channels" and len(parts) == 2:
            return self._refuse_unseen(parts[1]) or _json(self._channel(parts[1]))
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return self._interaction_callback(parts[1], body)
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self._webhook(method, parts, body)
        return _json({"message": f"fake discord: no route {method} {path}", "code": 0}, 404)

    async def _post_message(
        self, request: web.Request, channel_id: str, body: dict[str, Any]
    ) -> web.Response:
        failures = self._failures.get(channel_id)
        if failures:
            failure = failures[0]
            if failure.times is not None:
                failure.times -= 1
                if failure.times <= 0:
                    failures.pop(0)
            if failure.status == 429:
                self.rate_limited += 1
            return _json(failure.body, failure.status, failure.headers)
        refused = self._refuse_post(channel_id) or self._refuse_body(body)
        if refused:
            return refused

        now = asyncio.get_running_loop().time()
        start, count = self._windows.get(channel_id, (now, 0))
        if now >= start + self.channel_window:
            start, count = now, 0
        reset_after = start + self.channel_window - now
        if count >= self.channel_limit and self.enforce_limits:
            self.rate_limited += 1
            body = {"message": "You are being rate limited.", "retry_after": reset_after}
            return _json(body | {"global": False}, 429, _limit_headers(reset_after, False, True))
        self._windows[channel_id] = (start, count + 1)
        headers = {
            "X-RateLimit-Limit": str(self.channel_limit),
            "X-RateLimit-Remaining": str(max(0, self.channel_limit - count - 1)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "fake-channel-messages",
        }
        if self.response_delay:
            await asyncio.sleep(self.response_delay)
        nonce = (channel_id, str(body.get("nonce"))) if body.get("enforce_nonce") else None
        seen = self._nonces.get(nonce) if nonce else None
        if seen is not None and now - seen.at < NONCE_MEMORY:
            # A repeat of a message Discord already took: it answers with that message.
            return _json(self._message(seen), headers=headers)
        posted = Posted(channel_id, body, self._snowflake(), now)
        if nonce:
            self._nonces[nonce] = posted
        async with self._message_added:
            self.messages.append(posted)
            self._message_added.notify_all()
        if channel_id in self._lose_answers:
            # Taken, but the client never hears so: the connection drops before the answer.
            self._lose_answers.remove(channel_id)
            assert request.transport is not None
            request.transport.close()
        return _json(self._message(posted), headers=headers)

    async def _post_in_forum(self, forum_id: str, body: dict[str, Any]) -> web.Response:
        """A forum post: a public thread named `name`, with `applied_tags` and a first
        `message`, refused as Discord refuses it."""
        if refused := self._refuse_unseen(forum_id):
            return refused
        forum = self.channels[forum_id]
        permissions = self.bot_permissions(forum_id)
        if forum.type != FORUM:
            # (Discord starts a thread without a message elsewhere; the bot never asks that.)
            body = {"message": "Cannot execute action on this channel type", "code": 50024}
            return _json(body, 400)
        if not permissions & SEND_MESSAGES:
            return _json({"message": "Missing Permissions", "code": 50013}, 403)
        body = body or {}
        name = str(body.get("name") or "")
        tags = [str(t) for t in body.get("applied_tags") or []]
        known = {t["id"] for t in forum.available_tags}
        errors: dict[str, Any] = {}
        if not 1 <= len(name) <= THREAD_NAME_CHARS:
            errors["name"] = _error("BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if len(tags) > MAX_APPLIED_TAGS:
            errors["applied_tags"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        elif any(t not in known for t in tags):
            errors["applied_tags"] = _error("TAG_INVALID", "Tag is not available in this forum.")
        if errors:
            self.refused_bodies += 1
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        if forum.flags & REQUIRE_TAG and not tags:
            body = {"message": "A tag is required to create a forum post in this channel"}
            return _json(body | {"code": 40067}, 400)
        message = body.get("message") or {}
        refused = self._refuse_body(message)
        if refused:
            return refused
        limited, headers = self._take_from_bucket(f"threads:{forum_id}")
        if limited:
            return limited
        thread_id = self._snowflake()
        self.channels[thread_id] = Channel(
            name, PUBLIC_THREAD, forum_id, applied_tags=tags, guild_id=forum.guild_id
        )
        # A forum post's first message has the thread's id.
        now = asyncio.get_running_loop().time()
        posted = Posted(thread_id, message, thread_id, now)
        self.forum_posts.append(ForumPost(forum_id, thread_id, name, tags, posted))
        async with self._message_added:
            self.messages.append(posted)
            self._message_added.notify_all()
        return _json(self._channel(thread_id) | {"message": self._message(posted)}, headers=headers)

    async def _edit_channel(self, channel_id: str, body: dict[str, Any]) -> web.Response:
        """PATCH /channels/{id}: this fake edits a forum's `available_tags` only."""
        if refused := self._refuse_unseen(channel_id):
            return refused
        channel = self.channels[channel_id]
        permissions = self.bot_permissions(channel_id)
        if not permissions & MANAGE_CHANNELS:
            return _json({"message": "Missing Permissions", "code": 50013}, 403)
        tags = (body or {}).get("available_tags")
        if tags is None or channel.type != FORUM:
            return _json({"message": f"fake discord: cannot edit {sorted(body or {})}"}, 400)
        errors: dict[str, Any] = {}
        if len(tags) > MAX_AVAILABLE_TAGS:
            errors["available_tags"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 20 or fewer.")
        for i, tag in enumerate(tags):
            if not 1 <= len(str(tag.get("name") or "")) <= TAG_NAME_CHARS:
                message = "Must be between 1 and 20 in length."
                bad = {"name": _error("BASE_TYPE_BAD_LENGTH", message)}
                errors.setdefault("available_tags", {})[str(i)] = bad
        if errors:
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": errors}, 400)
        # Tags sent with an id are kept, without one created; those left out are deleted.
        channel.available_tags = [
            {
                "id": str(tag.get("id") or self._snowflake()),
                "name": tag["name"],
                "moderated": bool(tag.get("moderated")),
                "emoji_id": tag.get("emoji_id"),
                "emoji_name": tag.get("emoji_name"),
            }
            for tag in tags
        ]
        await self._dispatch("CHANNEL_UPDATE", self._channel(channel_id))
        return _json(self._channel(channel_id))

    async def _crosspost(self, channel_id: str, message_id: str) -> web.Response:
        """Publish a message of an announcement channel to the servers following it."""
        if refused := self._refuse_unseen(channel_id):
            return refused
        channel = self.channels[channel_id]
        if channel.type != ANNOUNCEMENT:
            body = {"message": "Cannot execute action on this channel type", "code": 50024}
            return _json(body, 400)
        if not any(m.id == message_id and m.channel_id == channel_id for m in self.messages):
            return _json({"message": "Unknown Message", "code": 10008}, 404)
        if (channel_id, message_id) in self.crossposted:
            body = {"message": "This message has already been crossposted.", "code": 40033}
            return _json(body, 400)
        limited, headers = self._take_from_bucket(
            f"crosspost:{channel_id}",
            limit=self.crosspost_limit,
            window=self.crosspost_window,
            enforce=True,
        )
        if limited:
            return limited
        async with self._message_added:
            self.crossposted.append((channel_id, message_id))
            self._message_added.notify_all()
        posted = next(m for m in self.messages if m.id == message_id)
        return _json(self._message(posted) | {"flags": 1}, headers=headers)  # CROSSPOSTED

    def _take_from_bucket(
        self,
        bucket: str,
        *,
        limit: int | None = None,
        window: float | None = None,
        enforce: bool | None = None,
    ) -> tuple[web.Response | None, dict[str, str]]:
        """Count a request against a fixed-window bucket: (a 429 if it is spent and
        limits are enforced, else None; the rate-limit headers Discord sends)."""
        limit = self.channel_limit if limit is None else limit
        window = self.channel_window if window is None else window
        enforce = self.enforce_limits if enforce is None else enforce
        now = asyncio.get_running_loop().time()
        start, count = self._windows.get(bucket, (now, 0))
        if now >= start + window:
            start, count = now, 0
        reset_after = start + window - now
        if count >= limit and enforce:
            self.rate_limited += 1
            body = {"message": "You are being rate limited.", "retry_after": reset_after}
            headers = _limit_headers(reset_after, False, True) | {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": f"{reset_after:.3f}",
                "X-RateLimit-Bucket": f"fake-{bucket.split(':')[0]}",
            }
            return _json(body | {"global": False}, 429, headers), {}
        self._windows[bucket] = (start, count + 1)
        return None, {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - count - 1)),
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": f"fake-{bucket.split(':')[0]}",
        }

    def _refuse_unseen(self, channel_id: str) -> web.Response | None:
        """Discord's answer for a channel that does not exist, or that the bot cannot see."""
        if channel_id not in self.channels:
            return _json({"message": "Unknown Channel", "code": 10003}, 404)
        if not self.bot_permissions(channel_id) & VIEW_CHANNEL:
            return _json({"message": "Missing Access", "code": 50001}, 403)
        return None

    def _refuse_post(self, channel_id: str) -> web.Response | None:
        """Discord's answer when the bot may not post in the channel at all."""
        if refused := self._refuse_unseen(channel_id):
            return refused
        channel = self.channels[channel_id]
        permissions = self.bot_permissions(channel_id)
        if channel.type in NO_MESSAGES:
            body = {"message": "Cannot send messages in a non-text channel", "code": 50008}
            return _json(body, 400)
        if channel.archived:
            return _json({"message": "Thread is archived", "code": 50083}, 400)
        send = SEND_MESSAGES_IN_THREADS if channel.type in THREADS else SEND_MESSAGES
        if not permissions & send:
            return _json({"message": "Missing Permissions", "code": 50013}, 403)
        return None

    def _refuse_body(self, body: dict[str, Any] | None) -> web.Response | None:
        """Discord's 400 for a message it will not take: empty, or past a limit, or with
        a URL it does not accept (https://discord.com/developers/docs/resources/message)."""
        body = body or {}
        content, embeds = body.get("content") or "", body.get("embeds") or []
        if not content and not embeds:
            return _json({"message": "Cannot send an empty message", "code": 50006}, 400)
        errors: dict[str, Any] = {}
        if len(content) > 2000:
            errors["content"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        if len(embeds) > 10:
            errors["embeds"] = _error("BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        total = 0
        for i, embed in enumerate(embeds):
            fields: dict[str, Any] = {}
            texts = {
                "title": (embed.get("title") or "", 256),
                "description": (embed.get("description") or "", 4096),
                "footer": ((embed.get("footer") or {}).get("text") or "", 2048),
                "author": ((embed.get("author") or {}).get("name") or "", 256),
            }
            for name, (text, limit) in texts.items():
                total += len(text)
                if len(text) > limit:
                    message = f"Must be {limit} or fewer in length."
                    fields[name] = _error("BASE_TYPE_MAX_LENGTH", message)
            url = embed.get("url")
            if url is not None and (url in self.bad_urls or not _well_formed(url)):
                fields["url"] = _error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
            for picture in ("image", "thumbnail"):
                url = (embed.get(picture) or {}).get("url")
                if picture in embed and (url in self.bad_urls or not _well_formed(url)):
                    invalid = _error("URL_TYPE_INVALID_URL", "Not a well formed URL.")
                    fields[picture] = {"url": invalid}
            if "timestamp" in embed:
                try:
                    datetime.fromisoformat(embed["timestamp"])
                except (TypeError, ValueError):
                    fields["timestamp"] = _error("DATE_TIME_TYPE_PARSE", "Invalid timestamp.")
            if fields:
                errors.setdefault("embeds", {})[str(i)] = fields
        if total > 6000 and "embeds" not in errors:
            errors["embeds"] = _error(
                "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        if not errors:
            return None
        self.refused_bodies += 1
        body = {"message": "Invalid Form Body", "code": 50035, "errors": errors}
        return _json(body, 400)

    def _over_global_limit(self) -> web.Response | None:
        now = asyncio.get_running_loop().time()
        while self._global and self._global[0] <= now - self.global_window:
            self._global.popleft()
        if len(self._global) >= self.global_limit:
            self.rate_limited += 1
            retry = self._global[0] + self.global_window - now
            body = {"message": "You are being rate limited.", "retry_after": retry, "global": True}
            return _json(body, 429, _limit_headers(retry, True, True))
        self._global.append(now)
        return None

    def _interaction_callback(self, iid: str, body: dict[str, Any]) -> web.Response:
        interaction = self.interactions.get(iid)
        created = ((int(iid) >> 22) + DISCORD_EPOCH_MS) / 1000
        late = time.time() > created + INTERACTION_DEADLINE
        if interaction is None or interaction.answers or late:
            return _json({"message": "Unknown interaction", "code": 10062}, 404)
        data = body.get("data") or {}
        refused = self._refuse_body(data) if body.get("type") == 4 else None
        if refused:
            return refused
        interaction.answers.append(body)
        if body.get("type") == 5:  # a defer is not an answer yet
            interaction.original = {"loading": True, "flags": data.get("flags", 0)}
        elif body.get("type") == 4:
            interaction.original = data
            interaction.answered.set()
        else:
            interaction.answered.set()
        result: dict[str, Any] = {
            "interaction": {
                "id": iid,
                "type": interaction.payload["type"],
                "response_message_loading": body.get("type") == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
        }
        if body.get("type") == 4:
            posted = Posted(interaction.payload["channel_id"], data, self._snowflake())
            result["interaction"]["response_message_id"] = posted.id
            result["resource"] = {"type": 4, "message": self._message(posted)}
        return _json(result)

    def _webhook(self, method: str, parts: list[str], body: Any) -> web.Response:
        """Follow-ups (POST /webhooks/{app}/{token}) and the original response
        (/webhooks/{app}/{token}/messages/@original: PATCH edits, DELETE removes it)."""
        token = parts[2]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if interaction is None:
            return _json({"message": "Unknown Webhook", "code": 10015}, 404)
        original = parts[3:] == ["messages", "@original"]
        if method == "DELETE" and original:
            interaction.answers.append({"delete": "@original"})
            interaction.original = None
            return web.Response(status=204)
        refused = self._refuse_body(body)
        if refused:
            return refused
        interaction.answers.append(body)
        if method == "PATCH" and original and interaction.original is not None:
            interaction.original = body | {"flags": interaction.original.get("flags", 0)}
            interaction.answered.set()
        elif method == "POST" and not parts[3:]:
            interaction.follow_up(body)
        else:
            return _json({"message": f"fake discord: no webhook route {method} {parts}"}, 404)
        posted = Posted(interaction.payload["channel_id"], body, self._snowflake())
        return _json(self._message(posted))

    # -- the gateway -----------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}}))
        session: _Session | None = None
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:
                await ws.send_str(json.dumps({"op": 11}))
            elif op == 2:
                shard = (frame["d"] or {}).get("shard") or [0, 1]
                refusal = self.refuse_identify or self._refuse_shard(shard)
                async with self._identified:
                    self.identifies += 1
                    if self._refuse_shard(shard) != 4010:  # (a malformed one is not noted)
                        self.identified_shards.append((shard[0], shard[1]))
                    self._identified.notify_all()
                if refusal:
                    await ws.close(code=refusal)
                    break
                self.session_id = f"fake-session-{self._snowflake()}"
                session = _Session(self.session_id, (shard[0], shard[1]), ws, request.transport)
                self._sessions[session.id] = session
                guilds = [g for g in self.guilds if session.owns(g)]
                await self._send(session, "READY", self._ready(guilds))
                for guild_id in guilds:
                    await self._send(session, "GUILD_CREATE", self._guild(guild_id))
                self._connected.set()
            elif op == 6:
                self.resumes.append(frame["d"])
                session = self._sessions.get(frame["d"].get("session_id"))
                if session is None or not session.valid:
                    await ws.send_str(json.dumps({"op": 9, "d": False}))
                    continue
                session.ws, session.transport = ws, request.transport
                self.resumed_shards.append(session.shard)
                for event in session.events:
                    if event["s"] > (frame["d"].get("seq") or 0):
                        await ws.send_str(json.dumps(event))
                await self._send(session, "RESUMED", {})
                self._connected.set()
        if session is not None and session.ws is ws:
            session.ws = None
            if not self._live():
                self._connected.clear()
        return ws

    def _refuse_shard(self, shard: Any) -> int:
        """Discord's close code for an IDENTIFY's shard: 4010 for one that cannot be,
        4011 for fewer shards than the bot needs; 0 if it is fine."""
        valid = (
            isinstance(shard, list)
            and len(shard) == 2
            and all(isinstance(n, int) and not isinstance(n, bool) for n in shard)
            and shard[1] >= 1
            and 0 <= shard[0] < shard[1]
        )
        if not valid:
            return 4010
        return 4011 if shard[1] < self.require_shards else 0

    def _live(self) -> list[_Session]:
        return [s for s in self._sessions.values() if s.ws is not None and not s.ws.closed]

    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        """An event about a guild (or a DM) to the sessions of the shard that owns it;
        those without a connection keep it for their RESUME."""
        for session in list(self._sessions.values()):
            if session.valid and session.owns(data.get("guild_id")):
                session.seq += 1
                frame = {"op": 0, "t": event, "s": session.seq, "d": data}
                session.events.append(frame)
                if session.ws is not None and not session.ws.closed:
                    await session.ws.send_str(json.dumps(frame))

    async def _send(self, session: _Session, event: str, data: dict[str, Any]) -> None:
        """A dispatch that belongs to one connection (READY, RESUMED): never replayed."""
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        assert session.ws is not None
        await session.ws.send_str(json.dumps(frame))

    # -- payloads --------------------------------------------------------------------

    def _ready(self, guilds: list[str]) -> dict[str, Any]:
        return {
            "v": 10,
            "user": _user(BOT_ID, "headlines", bot=True),
            "session_id": self.session_id,
            "resume_gateway_url": self.ws_url,
            "guilds": [{"id": g, "unavailable": True} for g in guilds],
            "application": {"id": APP_ID, "flags": 0},
        }

    def _guild(self, guild_id: str) -> dict[str, Any]:
        ours = [cid for cid, c in self.channels.items() if c.guild_id == guild_id]
        threads = [cid for cid in ours if self.channels[cid].type in THREADS]
        everyone = {
            "id": guild_id,
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }
        return {
            "id": guild_id,
            "name": self.guilds[guild_id],
            "owner_id": OWNER_ID,
            "roles": [everyone],
            "channels": [self._channel(c) for c in ours if c not in threads],
            "threads": [self._channel(c) for c in threads],
            "members": [
                {
                    "user": _user(BOT_ID, "headlines", bot=True),
                    "roles": [],
                    "joined_at": _now(),
                    "deaf": False,
                    "mute": False,
                    "flags": 0,
                }
            ],
            "member_count": 2,
            "features": [],
            "emojis": [],
            "stickers": [],
            "unavailable": False,
        }

    def _channel(self, channel_id: str) -> dict[str, Any]:
        channel = self.channels.get(channel_id, Channel("gone"))
        data: dict[str, Any] = {
            "id": channel_id,
            "type": channel.type,
            "guild_id": channel.guild_id,
            "name": channel.name,
            "parent_id": channel.parent_id,
            "nsfw": False,
        }
        if channel.type in (VOICE, STAGE):
            data |= {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
        if channel.type == FORUM:
            data |= {
                "available_tags": channel.available_tags,
                "flags": channel.flags,
                "topic": None,
                "rate_limit_per_user": 0,
                "default_reaction_emoji": None,
                "default_sort_order": None,
                "default_forum_layout": 0,
            }
        if channel.type not in THREADS:
            return data | {"position": 0, "permission_overwrites": channel.overwrites}
        return data | {
            "owner_id": OWNER_ID,
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": channel.applied_tags,
            "thread_metadata": {
                "archived": channel.archived,
                "auto_archive_duration": 1440,
                "archive_timestamp": _now(),
                "locked": False,
            },
        }

    def _application(self) -> dict[str, Any]:
        return {
            "id": APP_ID,
            "name": "Headlines",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": _user(OWNER_ID, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
        }

    def _message(self, posted: Posted) -> dict[str, Any]:
        return {
            "id": posted.id,
            "channel_id": posted.channel_id,
            "type": 0,
            "content": posted.payload.get("content") or "",
            "author": _user(BOT_ID, "headlines", bot=True),
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": posted.payload.get("embeds") or [],
            "pinned": False,
            "flags": posted.payload.get("flags", 0),
        }


def _user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": user_id,
        "username": name,
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
        "bot": bot,
    }


def _error(code: str, message: str) -> dict[str, Any]:
    return {"_errors": [{"code": code, "message": message}]}


def _well_formed(url: Any) -> bool:
    """Discord's check of an embed URL, roughly: http(s), a host, nothing blank."""
    if not isinstance(url, str) or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _limit_headers(retry_after: float, is_global: bool, via: bool) -> dict[str, str]:
    headers = {"Retry-After": str(max(1, round(retry_after)))}
    if via:
        headers["Via"] = "1.1 google"
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    headers["X-RateLimit-Scope"] = "global" if is_global else "user"
    return headers


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py compares the header verbatim, and aiohttp's
    # json_response would add "; charset=utf-8".
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


async def _read_body(request: web.Request) -> Any:
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        return json.loads(str(form["payload_json"]))
    text = await request.text()
    with contextlib.suppress(ValueError):
        return json.loads(text) if text else None
    return text


def _now() -> str:
    return datetime.now(UTC).isoformat()
