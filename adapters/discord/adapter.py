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

With `shard_count` above 1 the gateway is split into shards, which several processes
can share: `start` then only logs in and sends over REST (and syncs the slash commands),
and `run_shards` runs one discord.py client per shard held here (each with its own
gateway connection and reconnect loop), so that taking a shard on or handing one over
leaves the others connected. Every client's requests pass the one `RequestGate`.

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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
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
    SHARD_RECONNECT_WINDOW,
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
# How long a channel fetched for a send (its kind, a forum's tags) is trusted, where no
# gateway connection here keeps it up to date.
FETCHED_CHANNEL_TTL = 60.0


@dataclass(eq=False)
class _Shard:
    """One gateway shard run here: its client and the task that keeps it connected."""

    client: Client
    task: asyncio.Task[None] | None = None
    logged_in: asyncio.Event = field(default_factory=asyncio.Event)
    down_since: float = field(default_factory=time.time)  # 0.0 while connected
    gave_up: str = ""  # why its connection ended for good


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
        self.shard_count = config.shard_count
        self._shards: dict[int, _Shard] = {}  # those run here, by shard id
        self._refused_shards: dict[int, str] = {}  # shards that ended for good, and why
        self._shards_changing = asyncio.Lock()
        self._logged_in = False  # the REST-only client of a sharded bot
        self._fetched: dict[int, tuple[float, Any]] = {}  # channel id: (when, channel)

    @property
    def observer(self) -> Observer:
        return self.gate.observer

    @observer.setter
    def observer(self, observer: Observer) -> None:
        self.gate.observer = observer  # every answer passes the gate: it counts the 429s

    def health(self) -> PlatformHealth:
        if self.shard_count > 1:
            connected, detail = self._sharded_health()
        else:
            client = self.client
            connected = client is not None and client.is_ready() and not client.is_closed()
            if client is not None and client.ws is not None and client.ws.socket.closed:
                connected = False  # between a dropped gateway connection and its resume
            detail = self._gave_up or ("" if connected else "gateway disconnected")
        if connected != self._connected:
            self._connected, self._changed_at = connected, time.time()
        since = 0.0 if self._gave_up else self._changed_at
        return PlatformHealth(connected, since, paused=self.gate.paused(), detail=detail)

    def _sharded_health(self) -> tuple[bool, str]:
        """Connected when the sender (if started here) is logged in and every shard run
        here is connected or dropped less than SHARD_RECONNECT_WINDOW ago."""
        problems = []
        if self.client is not None and not (self._logged_in and not self.client.is_closed()):
            problems.append("not logged in")
        now = time.time()
        for shard_id, shard in sorted(self._shards.items()):
            if _gateway_up(shard.client):
                shard.down_since = 0.0
                continue
            shard.down_since = shard.down_since or now
            if shard.gave_up or now - shard.down_since > SHARD_RECONNECT_WINDOW:
                why = shard.gave_up or "disconnected"
                problems.append(f"shard {shard_id} of {self.shard_count}: {why}")
        for shard_id, why in sorted(self._refused_shards.items()):
            problems.append(f"shard {shard_id} of {self.shard_count}: {why}")
        if self.client is None and not self._shards:
            problems.append("not started")
        return not problems, "; ".join(problems)

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, on_command: CommandCallback) -> None:
        """Log in, register the slash commands, connect to the gateway; return on READY.
        With shards (`shard_count` > 1) there is no gateway connection here: this client
        sends over REST, and `run_shards` runs the gateway's shards."""
        self.commands.on_command = on_command
        self._point_discord_py()
        sharded = self.shard_count > 1
        client = self.client = self._new_client(self._set_up)
        self._gave_up = ""
        try:
            await self._log_in(client)
            if sharded:
                self._logged_in = True
            else:
                self._gateway = asyncio.create_task(
                    self._stay_connected(client, lambda: self.client is client, self._give_up),
                    name="discord-gateway",
                )
                await self._until_ready(client, self._gateway)
            if self.config.crosspost:
                await self.crossposts.start(self.config.token, self.gate.trace_config())
        except BaseException:
            await self._stop_sender()
            raise
        user = client.user
        how = "sending over REST; the gateway runs in shards" if sharded else "connected"
        log.info("discord: %s as %s (id %s)", how, user, user.id if user else "?")

    async def run_shards(self, handle: CommandCallback, shards: frozenset[int]) -> None:
        """Run exactly these gateway shards here from now on: connect the missing ones
        (returning once they are READY) and close the others; those that stay are left
        alone. Raises CannotStart for a shard Discord refuses for good (it is not run;
        the others are); such a shard is tried again only once a call has left it out
        (or after `stop`), so that calling again with the same shards never hammers the
        gateway. Raises TimeoutError for a shard not READY in `ready_timeout` (it keeps
        trying). With one shard, that shard is `start`'s gateway: {0} starts, {} stops."""
        wrong = sorted(k for k in shards if not 0 <= k < self.shard_count)
        if wrong:
            raise ValueError(f"discord: no shard {wrong} among {self.shard_count}")
        self.commands.on_command = handle
        if self.shard_count == 1:
            if shards and self.client is None:
                await self.start(handle)
            elif not shards and self.client is not None:
                await self.stop()
            return
        async with self._shards_changing:
            self._point_discord_py()
            for shard_id, shard in list(self._shards.items()):
                if shard.gave_up:  # refused since it was opened: keep why, for health
                    await self._close_shard(shard_id)
                    self._refused_shards[shard_id] = shard.gave_up
            for shard_id in sorted(set(self._shards) - shards):
                await self._close_shard(shard_id)
            for shard_id in set(self._refused_shards) - shards:
                del self._refused_shards[shard_id]
            missing = shards - set(self._shards) - set(self._refused_shards)
            opened = [self._open_shard(k) for k in sorted(missing)]
            if not opened:
                return
            waits = [asyncio.create_task(self._until_shard_ready(s)) for s in opened]
            _, late = await asyncio.wait(waits, timeout=self.ready_timeout)
            for wait in late:
                wait.cancel()
            refused = {k: s.gave_up for k, s in list(self._shards.items()) if s.gave_up}
            for shard_id, why in refused.items():
                await self._close_shard(shard_id)
                self._refused_shards[shard_id] = why
            if refused:
                said = "; ".join(f"shard {k}: {why}" for k, why in sorted(refused.items()))
                raise CannotStart(f"discord: {said}")
            if late:
                waiting = sorted(k for k, s in self._shards.items() if not _gateway_up(s.client))
                raise TimeoutError(
                    f"discord: no READY on shard(s) {waiting} in {self.ready_timeout}s; "
                    "they keep trying"
                )

    async def stop(self) -> None:
        # Not behind `_shards_changing`: a run_shards waiting for READY ends as soon as
        # its shards are closed here, rather than holding up the stop.
        await self._stop_sender()
        for shard_id in sorted(self._shards):
            await self._close_shard(shard_id)
        self._refused_shards.clear()

    async def _stop_sender(self) -> None:
        await self.crossposts.stop()
        client, self.client = self.client, None
        self._logged_in = False
        if client is not None:
            await client.close()
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            await asyncio.gather(gateway, return_exceptions=True)

    def _point_discord_py(self) -> None:
        """Point discord.py at this config's Discord. Route.BASE and DEFAULT_GATEWAY are
        global to discord.py (class attributes): set from this config when this adapter
        has no client yet, so an adapter never inherits where an earlier one pointed, and
        a shard's reconnect is never pointed elsewhere while another starts."""
        REDACT.secrets.add(self.config.token)
        REDACT.install()
        if self.client is not None or self._shards:
            return
        Route.BASE = (
            f"{self.config.api_base_url}/api/v10" if self.config.api_base_url else DISCORD_API
        )
        DiscordWebSocket.DEFAULT_GATEWAY = (
            yarl.URL(self.config.gateway_url) if self.config.gateway_url else DISCORD_GATEWAY
        )

    def _new_client(
        self, set_up: Callable[[Client], Awaitable[None]], shard_id: int | None = None
    ) -> Client:
        return Client(
            commands=self.commands,
            trace=self.gate.trace_config(),
            guild_ready_timeout=self.guild_ready_timeout,
            set_up=set_up,
            shard_id=shard_id,
            shard_count=self.shard_count if shard_id is not None else None,
        )

    async def _log_in(self, client: Client) -> None:
        try:
            await client.login(self.config.token)
        except discord.LoginFailure as error:
            raise CannotStart(
                "discord: Discord refused the bot token (401). Reset it in the Developer "
                f"Portal (Bot, Reset Token) and set it as {TOKEN_ENV}"
            ) from error

    async def _until_ready(self, client: Client, gateway: asyncio.Task[None]) -> None:
        """Wait for READY; raise why the gateway loop ended, or TimeoutError."""
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, gateway}, timeout=self.ready_timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if gateway in done:
                gateway.result()  # raises why the gateway gave up
            raise TimeoutError(f"discord: no READY from the gateway in {self.ready_timeout}s")

    def _give_up(self, why: str) -> None:
        self._gave_up = why

    # -- shards --------------------------------------------------------------------------

    def _open_shard(self, shard_id: int) -> _Shard:
        shard = _Shard(self._new_client(self._find_gateway, shard_id))
        self._shards[shard_id] = shard
        shard.task = asyncio.create_task(
            self._run_shard(shard_id, shard), name=f"discord-shard-{shard_id}"
        )
        return shard

    async def _close_shard(self, shard_id: int) -> None:
        shard = self._shards.pop(shard_id, None)
        if shard is None:
            return  # closed meanwhile (stop)
        await shard.client.close()
        if shard.task is not None:
            await asyncio.gather(shard.task, return_exceptions=True)
        log.info("discord: shard %d of %d closed here", shard_id, self.shard_count)

    async def _run_shard(self, shard_id: int, shard: _Shard) -> None:
        """Log the shard's client in and keep its gateway connection up, as the gateway
        loop does, until it is closed or refused for good."""

        def alive() -> bool:
            return self._shards.get(shard_id) is shard

        def give_up(why: str) -> None:
            shard.gave_up = why

        name = f"shard {shard_id} of {self.shard_count}"
        retry = Backoff(self.reconnect_delay, MAX_RECONNECT_DELAY)
        try:
            while not shard.logged_in.is_set():
                try:
                    await self._log_in(shard.client)
                    shard.logged_in.set()
                except CannotStart:
                    raise
                except Exception:
                    if not alive():
                        return
                    delay = retry.next()
                    log.exception("discord: %s could not log in; again in %.0fs", name, delay)
                    await asyncio.sleep(delay)
            await self._stay_connected(shard.client, alive, give_up, name)
        except CannotStart as error:
            if not shard.gave_up:  # (a refusal at the gateway is logged already)
                shard.gave_up = str(error).removeprefix("discord: ")
                log.error("discord: %s: %s", name, shard.gave_up)

    async def _until_shard_ready(self, shard: _Shard) -> None:
        """Until the shard's client is READY or its task has ended (refused)."""
        assert shard.task is not None
        logged_in = asyncio.create_task(shard.logged_in.wait())
        await asyncio.wait({logged_in, shard.task}, return_when=asyncio.FIRST_COMPLETED)
        logged_in.cancel()
        if shard.logged_in.is_set() and not shard.task.done():
            ready = asyncio.create_task(shard.client.wait_until_ready())
            await asyncio.wait({ready, shard.task}, return_when=asyncio.FIRST_COMPLETED)
            ready.cancel()

    # -- the gateway loop ----------------------------------------------------------------

    async def _stay_connected(
        self,
        client: Client,
        alive: Callable[[], bool],
        give_up: Callable[[str], None],
        name: str = "",
    ) -> None:
        """Run the gateway connection while `alive()`. discord.py reconnects and resumes by
        itself after a dropped connection; when its loop dies of anything else, start it
        again, with backoff. A refusal that retrying cannot mend ends it: CannotStart,
        after `give_up(why)`."""
        loop = asyncio.get_running_loop()
        retry = Backoff(self.reconnect_delay, MAX_RECONNECT_DELAY)
        which = f"{name}: " if name else ""
        while alive():
            began = loop.time()
            try:
                await client.connect()
            except (discord.PrivilegedIntentsRequired, discord.ConnectionClosed) as error:
                # discord.py raises these only for close codes it will not reconnect on.
                if not alive():
                    return
                refusal = gateway_refusal(error)
                give_up(refusal)
                log.error("discord: %s%s; it stays disconnected until restarted", which, refusal)
                await client.close()
                raise CannotStart(f"discord: {refusal}") from error
            except Exception:
                if not alive():
                    return
                if loop.time() - began > MAX_RECONNECT_DELAY:
                    retry.reset()  # it had been up a good while
                delay = retry.next()
                log.exception(
                    "discord: %sthe gateway connection failed; a new one in %.0fs", which, delay
                )
                if client.ws is not None:
                    await client.ws.close(code=4000)  # its heartbeats would go on otherwise
                await asyncio.sleep(delay)

    async def _set_up(self, client: Client) -> None:
        """After login, before the gateway: find the gateway, log the invite, sync commands."""
        await self._find_gateway(client)
        if client.application_id is not None:
            self.invite_url = discord.utils.oauth_url(
                client.application_id, permissions=INVITE_PERMISSIONS, scopes=INVITE_SCOPES
            )
            log.info("discord: invite the bot to a server with %s", self.invite_url)
        await self.commands.sync(client.tree, self.config.guild_id)

    async def _find_gateway(self, client: Client) -> None:
        """Where the gateway is, when it must be asked for; and, with shards, whether
        Discord recommends more of them than configured."""
        if not (self.config.api_base_url and not self.config.gateway_url) and (
            self.shard_count == 1 or client.shard_id is not None
        ):
            return
        recommended, url, _ = await client.http.get_bot_gateway()
        if self.config.api_base_url and not self.config.gateway_url:
            # One setting (a REST proxy, a test server) points the whole client elsewhere:
            # a plain Client never asks for the gateway, so ask through that REST base.
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        if client.shard_id is None and recommended > self.shard_count:
            log.warning(
                "discord: Discord recommends %d gateway shards and discord.shard_count is "
                "%d; raise it (Discord refuses a bot with too few, close code 4011)",
                recommended,
                self.shard_count,
            )

    def _running(self) -> bool:
        clients = [self.client, *(s.client for s in self._shards.values())]
        return self._logged_in or any(c is not None and c.is_ready() for c in clients)

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
        known = self._cached_channel(int(chat.chat_id))
        if known is None and (chat.kind == "forum" or chat.chat_id in self.config.crosspost):
            # Not in a cache here (its server not ready yet, or its shard runs in another
            # process): ask, rather than post a message where Discord takes only posts or
            # not publish one that should be.
            known = await self._fetch_channel(client, int(chat.chat_id))
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

    def _cached_channel(self, channel_id: int) -> Any:
        """The channel as a gateway connection here keeps it (any shard's), or None."""
        for client in [self.client, *(s.client for s in self._shards.values())]:
            found = client.get_channel(channel_id) if client is not None else None
            if found is not None:
                return found
        return None

    async def _fetch_channel(self, client: Client, channel_id: int) -> Any:
        """The channel as Discord answers for it, asked at most once a minute."""
        now = time.monotonic()
        fetched_at, channel = self._fetched.get(channel_id, (0.0, None))
        if channel is None or now - fetched_at > FETCHED_CHANNEL_TTL:
            channel = await _request(client.fetch_channel(channel_id))
            self._fetched[channel_id] = (now, channel)
        return channel

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


def _gateway_up(client: Client) -> bool:
    """Whether the client's gateway connection is READY and open now."""
    if not client.is_ready() or client.is_closed():
        return False
    return client.ws is None or not client.ws.socket.closed


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
