"""Discord through discord.py: new headlines as embeds in server channels, and slash commands.

The client runs as a task in the bot's event loop; a gateway loop that dies of anything
but a refusal is started again. Posts go over REST, which discord.py paces per channel
(it reads the rate-limit bucket headers and waits); it has no ceiling for the bot as a
whole, so every REST request here first passes `RequestPacer` (http.py), which keeps the
bot below Discord's 50 requests/s. Errors become the core's typed send errors: an error about the
channel (403, 404, or a code such as "not a text channel") deactivates a destination,
never retried (many 401/403/429 answers in ten minutes get the IP banned); one about the
content fails that headline; a 429 that discord.py did not wait out becomes `RetryAfter`,
and one about the bot as a whole (a Cloudflare ban, a long global limit, a 401) pauses
all sending (http.py). Each message carries a nonce that Discord uses to drop repeats.

The slash commands are those of the core's spec (commands.py); those that anyone may run
also work in DMs with the bot.

A forum channel takes one post per headline, tagged with its regions (forum.py). In an
announcement channel listed with `crosspost = true`, each message is then published to
the servers following it, by a background task with its own pacing (crosspost.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from adapters.discord.client import Client, gateway_refusal
from adapters.discord.commands import SlashCommands
from adapters.discord.config import TOKEN_ENV, DiscordConfig
from adapters.discord.crosspost import Crossposter
from adapters.discord.forum import ForumTags, thread_name
from adapters.discord.http import REDACT, REQUESTS_PER_SECOND, RequestGate, header_seconds
from adapters.discord.limits import (
    CHANNEL_ERRORS,
    CONTENT_ERRORS,
    MAX_RECONNECT_DELAY,
    UNAUTHORIZED_PAUSE,
)
from adapters.discord.render import (
    NO_MENTIONS,
    digest_nonce,
    headline_embed,
    message_nonce,
    pack_embeds,
    plain_embed,
    render_digest,
)
from bot.backoff import Backoff
from bot.models import ChatRef, Digest, Headline
from bot.ports import (
    CannotStart,
    CommandCallback,
    ContentRejected,
    DestinationGone,
    Observer,
    PlatformHealth,
    RetryAfter,
    Sent,
    TemporaryFailure,
)
from bot.regions.names import WORLD, display_name

log = logging.getLogger(__name__)

MAX_CONTENT = 2000  # characters in a message's text
T = TypeVar("T")
# Discord's code for a post without a tag in a forum that requires one.
TAG_REQUIRED = 40067

# Where discord.py goes when nothing is configured. Route.BASE and DEFAULT_GATEWAY are
# class attributes, i.e. global to the process: they are read here once, before any
# adapter changes them, so that every start can set both from its own config.
DISCORD_API = Route.BASE
DISCORD_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY

INVITE_SCOPES = ("bot", "applications.commands")
INVITE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
# The bot never joins voice: no warnings at start about voice libraries it does not need.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


class DiscordAdapter:
    """The Discord platform. `requests_per_second` is the pacer's ceiling for REST calls."""

    platform = "discord"

    def __init__(
        self,
        config: DiscordConfig,
        *,
        requests_per_second: float = REQUESTS_PER_SECOND,
        guild_ready_timeout: float = 2.0,
        reply_deadline: float = 2.0,
        ready_timeout: float = 60.0,
        reconnect_delay: float = 2.0,
    ) -> None:
        self.config = config
        self.gate = RequestGate(requests_per_second, self._running)
        self.guild_ready_timeout = guild_ready_timeout
        # Discord drops an interaction not answered within 3 s of its creation; one not
        # answered `reply_deadline` s after it is acknowledged ("thinking...") and
        # answered when done. The margin is for the acknowledgement's trip and the clocks.
        self.forums = ForumTags()
        self.commands = SlashCommands(self.platform, reply_deadline, self.forums)
        self.crossposts = Crossposter()
        self._warned_crosspost: set[str] = set()  # crosspost = true, not announcements
        self.ready_timeout = ready_timeout
        self.reconnect_delay = reconnect_delay  # the first wait before a new connection
        self.client: Client | None = None
        self._gave_up = ""  # why the gateway connection ended for good
        self.invite_url = ""
        self._gateway: asyncio.Task[None] | None = None
        self._connected, self._changed_at = False, 0.0  # as `health` last saw it

    @property
    def observer(self) -> Observer:
        return self.gate.observer

    @observer.setter
    def observer(self, observer: Observer) -> None:
        self.gate.observer = observer  # every answer passes the gate: it counts the 429s

    def health(self) -> PlatformHealth:
        client = self.client
        connected = client is not None and client.is_ready() and not client.is_closed()
        if client is not None and client.ws is not None and client.ws.socket.closed:
            connected = False  # between a dropped gateway connection and its resume
        if connected != self._connected:
            self._connected, self._changed_at = connected, time.time()
        detail = self._gave_up or ("" if connected else "gateway disconnected")
        since = 0.0 if self._gave_up else self._changed_at
        return PlatformHealth(connected, since, paused=self.gate.paused(), detail=detail)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, on_command: CommandCallback) -> None:
        """Log in, register the slash commands, connect to the gateway; return on READY."""
        self.commands.on_command = on_command
        # Global to discord.py (class attributes): set on every start from this config, so
        # an adapter never inherits where an earlier one pointed.
        Route.BASE = (
            f"{self.config.api_base_url}/api/v10" if self.config.api_base_url else DISCORD_API
        )
        DiscordWebSocket.DEFAULT_GATEWAY = (
            yarl.URL(self.config.gateway_url) if self.config.gateway_url else DISCORD_GATEWAY
        )
        REDACT.secrets.add(self.config.token)
        REDACT.install()
        client = self.client = Client(
            commands=self.commands,
            trace=self.gate.trace_config(),
            guild_ready_timeout=self.guild_ready_timeout,
            set_up=self._set_up,
        )
        self._gave_up = ""
        try:
            try:
                await client.login(self.config.token)
            except discord.LoginFailure as error:
                raise CannotStart(
                    "discord: Discord refused the bot token (401). Reset it in the Developer "
                    f"Portal (Bot, Reset Token) and set it as {TOKEN_ENV}"
                ) from error
            self._gateway = asyncio.create_task(
                self._stay_connected(client), name="discord-gateway"
            )
            ready = asyncio.create_task(client.wait_until_ready())
            done, _ = await asyncio.wait(
                {ready, self._gateway},
                timeout=self.ready_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if ready not in done:
                ready.cancel()
                if self._gateway in done:
                    self._gateway.result()  # raises why the gateway gave up
                raise TimeoutError(f"discord: no READY from the gateway in {self.ready_timeout}s")
            if self.config.crosspost:
                await self.crossposts.start(self.config.token, self.gate.trace_config())
        except BaseException:
            await self.stop()
            raise
        user = client.user
        log.info("discord: connected as %s (id %s)", user, user.id if user else "?")

    async def stop(self) -> None:
        await self.crossposts.stop()
        client, self.client = self.client, None
        if client is not None:
            await client.close()
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            await asyncio.gather(gateway, return_exceptions=True)

    async def _stay_connected(self, client: Client) -> None:
        """Run the gateway connection until `stop`. discord.py reconnects and resumes by
        itself after a dropped connection; when its loop dies of anything else, start it
        again, with backoff. A refusal that retrying cannot mend ends it: CannotStart."""
        loop = asyncio.get_running_loop()
        retry = Backoff(self.reconnect_delay, MAX_RECONNECT_DELAY)
        while self.client is client:
            began = loop.time()
            try:
                await client.connect()
            except (discord.PrivilegedIntentsRequired, discord.ConnectionClosed) as error:
                # discord.py raises these only for close codes it will not reconnect on.
                if self.client is not client:
                    return
                self._gave_up = gateway_refusal(error)
                log.error("discord: %s; Discord stays disconnected until restarted", self._gave_up)
                await client.close()
                raise CannotStart(f"discord: {self._gave_up}") from error
            except Exception:
                if self.client is not client:
                    return
                if loop.time() - began > MAX_RECONNECT_DELAY:
                    retry.reset()  # it had been up a good while
                delay = retry.next()
                log.exception("discord: the gateway connection failed; a new one in %.0fs", delay)
                if client.ws is not None:
                    await client.ws.close(code=4000)  # its heartbeats would go on otherwise
                await asyncio.sleep(delay)

    async def _set_up(self, client: Client) -> None:
        """After login, before the gateway: find the gateway, log the invite, sync commands."""
        if self.config.api_base_url and not self.config.gateway_url:
            # One setting (a REST proxy, a test server) points the whole client elsewhere:
            # a plain Client never asks for the gateway, so ask through that REST base.
            _, url, _ = await client.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        if client.application_id is not None:
            self.invite_url = discord.utils.oauth_url(
                client.application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
            )
            log.info("discord: invite the bot to a server with %s", self.invite_url)
        await self.commands.sync(client.tree, self.config.guild_id)

    def _running(self) -> bool:
        return self.client is not None and self.client.is_ready()

    # -- posting ---------------------------------------------------------------------

    async def send_text(self, chat: ChatRef, text: str) -> Sent:
        channel = self._channel(chat)
        text = text[: MAX_CONTENT - 1] + "…" if len(text) > MAX_CONTENT else text
        # The same text to the same channel within Discord's nonce window is one message.
        nonce = hashlib.sha256(f"{chat.chat_id}\n{text}".encode()).hexdigest()[:25]
        message = await _post(channel, [], nonce, content=text)
        return Sent(str(message.id))

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        client = self._client()
        if not chat.chat_id.isdigit():
            raise DestinationGone(f"discord: {chat.chat_id!r} is not a channel id")
        known = client.get_channel(int(chat.chat_id))
        if known is None and chat.kind == "forum":
            # Subscribed as a forum but not in the cache (its server not ready yet): ask,
            # rather than post a message where Discord takes only posts.
            known = await _request(client.fetch_channel(int(chat.chat_id)))
        if isinstance(known, discord.ForumChannel):
            return await self._post_in_forum(known, headlines[0], language)
        sent = await self._send_messages(client, chat, headlines, language)
        if chat.chat_id in self.config.crosspost:
            if isinstance(known, discord.TextChannel) and known.is_news():
                self.crossposts.queue(int(chat.chat_id), int(sent.message_id))
            elif chat.chat_id not in self._warned_crosspost:
                self._warned_crosspost.add(chat.chat_id)
                log.warning(
                    "discord: channel %s has crosspost = true but is not an announcement "
                    "channel; its posts are not published",
                    chat.chat_id,
                )
        return sent

    async def _post_in_forum(
        self, forum: discord.ForumChannel, headline: Headline, language: str
    ) -> Sent:
        """One headline as one forum post, titled with it and tagged with its regions."""
        tags = await self.forums.for_post(forum, headline.regions, language)
        if forum.flags.require_tag and not tags:
            wanted = ", ".join(display_name(r, "en") for r in headline.regions or (WORLD,))
            raise ContentRejected(
                f"discord: forum {forum.id} requires a tag, and has none for {wanted} nor "
                "World: grant the bot Manage Channels there, or create those tags"
            )
        name = thread_name(headline.title, headline.link)
        # As with messages: the embed, and if Discord refuses it, the headline as text
        # without the fields Discord validates, before the headline is failed.
        embeds = (headline_embed(headline, language), plain_embed(headline))
        for attempt, embed in enumerate(embeds):
            try:
                posted = await _request(
                    forum.create_thread(
                        name=name, embed=embed, applied_tags=tags, allowed_mentions=NO_MENTIONS
                    )
                )
            except ContentRejected as error:
                log.info("discord: forum %s refused a post: %s", forum.id, error)
                # Without its tag no form of the post helps (the forum's tags changed).
                if _code(error) == TAG_REQUIRED or attempt == len(embeds) - 1:
                    raise
            else:
                return Sent(str(posted.message.id), 1)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _send_messages(
        self, client: Client, chat: ChatRef, headlines: Sequence[Headline], language: str
    ) -> Sent:
        """Headlines as messages in a text or announcement channel or a thread: as many as
        share one, narrowed down when Discord refuses one."""
        channel = self._channel(chat)
        embeds = pack_embeds(headlines, language)
        try:
            message = await _post(channel, embeds, message_nonce(chat, headlines, embeds))
        except ContentRejected as error:
            log.info("discord: %s refused %d embed(s): %s", chat.chat_id, len(embeds), error)
            bad = _refused_embed(error)
        else:
            return Sent(str(message.id), len(embeds))
        # Narrow down: when Discord names the embed it refused, those before it still
        # share a message (the refused one goes first next time); otherwise the first
        # headline alone. Then the first as text without the fields Discord validates,
        # and only then is it refused for good.
        if bad is not None and 0 < bad < len(embeds):
            fewer = embeds[:bad]
        else:
            fewer = embeds[:1] if bad is None and len(embeds) > 1 else []
        if fewer:
            try:
                message = await _post(channel, fewer, message_nonce(chat, headlines, fewer))
            except ContentRejected as error:
                log.info("discord: %s refused %d embed(s): %s", chat.chat_id, len(fewer), error)
            else:
                return Sent(str(message.id), len(fewer))
        plain = [plain_embed(headlines[0])]
        message = await _post(channel, plain, message_nonce(chat, headlines, plain, plain=True))
        return Sent(str(message.id), 1)

    async def send_digest(self, chat: ChatRef, digest: Digest, language: str) -> Sent:
        """The digest as one message of embeds (one per region), or a few in a row where
        Discord's limits need; each with its own nonce, so a repeat is dropped."""
        channel = self._channel(chat)
        first = None
        for part, (content, embeds) in enumerate(render_digest(digest, language)):
            nonce = digest_nonce(chat, digest, part)
            message = await _post(channel, embeds, nonce, content)
            first = first or message
        return Sent(str(first.id), digest.total)

    def _client(self) -> Client:
        """The connected client, or TemporaryFailure: the delivery waits for a reconnect."""
        client = self.client
        if client is None or client.is_closed():
            reason = f" ({self._gave_up})" if self._gave_up else ""
            raise TemporaryFailure(f"discord: not connected{reason}")
        return client

    def _channel(self, chat: ChatRef) -> discord.PartialMessageable:
        client = self._client()
        if not chat.chat_id.isdigit():
            raise DestinationGone(f"discord: {chat.chat_id!r} is not a channel id")
        return client.get_partial_messageable(int(chat.chat_id))


async def _post(
    channel: discord.PartialMessageable,
    embeds: list[discord.Embed],
    nonce: str,
    content: str | None = None,
) -> Any:
    """Create one message; Discord's answers become the core's send errors."""
    return await _request(
        channel.send(content=content, embeds=embeds, allowed_mentions=NO_MENTIONS, nonce=nonce)
    )


async def _request(call: Awaitable[T]) -> T:
    """Await one request of discord.py; Discord's answers become the core's send errors."""
    try:
        return await call
    except discord.RateLimited as error:
        raise RetryAfter(error.retry_after) from error
    except discord.DiscordServerError as error:
        raise TemporaryFailure(_describe(error, "Discord server error")) from error
    except discord.HTTPException as error:
        if error.status == 429:
            # discord.py gave up waiting, or no Via header: not Discord's API answering
            # but Cloudflare, which bans for a while and says how long in Retry-After.
            seconds = header_seconds(error.response.headers)
            raise RetryAfter(seconds, _describe(error, "rate limited")) from error
        if error.status == 401:
            raise RetryAfter(UNAUTHORIZED_PAUSE, _describe(error, "token refused")) from error
        # The code says whose fault it is: Discord answers 400 about the channel too (a
        # category, an archived thread), and that must not fail headline after headline.
        if error.code in CONTENT_ERRORS:
            raise ContentRejected(_describe(error, "content refused")) from error
        if error.code in CHANNEL_ERRORS or error.status in (403, 404):
            raise DestinationGone(_describe(error, "the bot cannot post here")) from error
        if error.status == 400:
            raise ContentRejected(_describe(error, "bad request")) from error
        raise TemporaryFailure(_describe(error, "unexpected answer")) from error
    except (aiohttp.ClientError, OSError, TimeoutError) as error:
        raise TemporaryFailure(f"discord: network error: {error!r}") from error


def _refused_embed(error: ContentRejected) -> int | None:
    """Which embed Discord found fault with, when it says ("In embeds.3.url: ...")."""
    cause = error.__cause__
    text = cause.text if isinstance(cause, discord.HTTPException) else ""
    found = [int(n) for n in re.findall(r"^In embeds\.(\d+)\.", text, re.MULTILINE)]
    return min(found) if found else None


def _describe(error: discord.HTTPException, meaning: str) -> str:
    code = f", code {error.code}" if error.code else ""
    text = f": {error.text}" if error.text else ""
    return f"discord: {meaning} (HTTP {error.status}{code}){text}"


def _code(error: ContentRejected) -> int:
    """Discord's JSON error code behind a refusal (0 if none)."""
    cause = error.__cause__
    return cause.code if isinstance(cause, discord.HTTPException) else 0
