"""Discord through discord.py: new headlines as embeds in server channels, and slash commands.

The client runs as a task in the bot's event loop; a gateway loop that dies of anything
but a refusal is started again. Posts go over REST, which discord.py paces per channel
(it reads the rate-limit bucket headers and waits); it has no ceiling for the bot as a
whole, so every REST request here first passes `RequestPacer`, which keeps the bot below
Discord's 50 requests/s. Errors become the core's typed send errors: an error about the
channel (403, 404, or a code such as "not a text channel") deactivates a destination,
never retried (many 401/403/429 answers in ten minutes get the IP banned); one about the
content fails that headline; a 429 that discord.py did not wait out becomes `RetryAfter`,
and one about the bot as a whole (a Cloudflare ban, a long global limit, a 401) pauses
all sending. Each message carries a nonce that Discord uses to drop repeats.

Commands: /latest [count] [region], /region [name], /subscribe [region] [channel],
/unsubscribe [channel], /help. /latest, /region and /help also work in DMs with the bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.chat.commands import DEFAULT_COUNT, MAX_COUNT
from bot.chat.i18n import pick_language, region_labels, tr, tr_from
from bot.config import DiscordConfig
from bot.models import ChatRef, Command, Headline, Reply
from bot.ports import (
    CannotStart,
    CommandCallback,
    ContentRejected,
    DestinationGone,
    RetryAfter,
    Sent,
    TemporaryFailure,
)
from bot.regions.names import (
    AFRICA,
    ALIASES,
    ASIA,
    EUROPE,
    LATIN_AMERICA,
    MIDDLE_EAST,
    NORTH_AMERICA,
    OCEANIA,
    REGIONS,
    display_name,
    fold_case_and_accents,
)

log = logging.getLogger(__name__)

# Where discord.py goes when nothing is configured. Route.BASE and DEFAULT_GATEWAY are
# class attributes, i.e. global to the process: they are read here once, before any
# adapter changes them, so that every start can set both from its own config.
DISCORD_API = Route.BASE
DISCORD_GATEWAY = DiscordWebSocket.DEFAULT_GATEWAY

# Discord allows 50 requests/s. The margin is for requests that the event loop or the
# network holds up between the pacer and Discord's counter, so that they arrive closer
# together than they left (at 48/s the benchmark's fake now and then counted 51 in a second).
REQUESTS_PER_SECOND = 47.0
# The longest 429 that discord.py waits out itself (30 s is the least it accepts); a
# longer global one pauses all sending instead.
LONGEST_WAIT = 30.0
# After a 401 while running: the token was reset or revoked, and asking again will not
# mend it; a while later one request tries again.
UNAUTHORIZED_PAUSE = 600.0
MAX_RECONNECT_DELAY = 300.0
# Gateway close codes after which reconnecting cannot help (discord.py gives up on them).
GATEWAY_REFUSALS = {
    4004: "Discord refused the bot token at the gateway; reset it and set HEADLINES_DISCORD_TOKEN",
    4010: "the gateway refused the shard",
    4011: "Discord requires sharding for this bot",
    4012: "the gateway refused the API version",
    4013: "the gateway refused the intents asked for",
    4014: "the bot asks for privileged intents that are not enabled for it in the Developer Portal",
}
INVITE_SCOPES = ("bot", "applications.commands")
INVITE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
NO_MENTIONS = discord.AllowedMentions.none()
# The bot never joins voice: no warnings at start about voice libraries it does not need.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object).
MAX_EMBEDS = 10
MESSAGE_EMBED_CHARS = 6000
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
# Footers may have 2048, but title + description + footer must stay within the 6000 of a
# message, so that one headline always fits; source and regions need far less.
FOOTER_CHARS = 512
CONTENT_CHARS = 2000
PUBLIC_DEFER = "headlines_public_defer"  # in Interaction.extras: deferred visibly to all
AUTOCOMPLETE_CHOICES = 25
CHOICE_CHARS = 100

# JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
# About the channel: unknown channel, missing access, cannot message this user, not a text
# channel, missing permissions, wrong channel type, archived thread, locked thread.
CHANNEL_ERRORS = frozenset({10003, 50001, 50007, 50008, 50013, 50024, 50083, 160005})
# About the message: empty, invalid form body (a field too long or malformed), blocked by
# the server's AutoMod or the harmful links filter.
CONTENT_ERRORS = frozenset({50006, 50035, 200000, 200001, 240000})

# Where /subscribe may point, and what the bot needs there to post embeds (in a thread,
# Send Messages in Threads stands for Send Messages).
THREAD_CHANNELS = (
    discord.ChannelType.news_thread,
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
)
POSTABLE_CHANNELS = (discord.ChannelType.text, discord.ChannelType.news, *THREAD_CHANNELS)
POST_PERMISSIONS = ("view_channel", "send_messages", "embed_links")
THREAD_POST_PERMISSIONS = ("view_channel", "send_messages_in_threads", "embed_links")
TargetChannel = app_commands.AppCommandChannel | app_commands.AppCommandThread

# The slash commands' texts in Spanish, for Discord clients set to Spanish. Command names
# stay as they are, as /help writes them; option names and descriptions are translated.
SPANISH_LOCALES = (discord.Locale.spain_spanish, discord.Locale.latin_american_spanish)
SPANISH_OPTIONS = {"count": "cantidad", "region": "región", "name": "nombre", "channel": "canal"}
SPANISH_DESCRIPTIONS = {
    "The newest headlines, of one region if given": (
        "Los titulares más recientes, de una región si se indica"
    ),
    f"How many (1-{MAX_COUNT}, default {DEFAULT_COUNT})": (
        f"Cuántos (1-{MAX_COUNT}, {DEFAULT_COUNT} por defecto)"
    ),
    "A world region": "Una región del mundo",
    "Headlines per region, or one region's newest": (
        "Titulares por región, o los más recientes de una"
    ),
    "A world region (empty: how many headlines each had)": (
        "Una región del mundo (vacío: cuántos titulares tuvo cada una)"
    ),
    "Post new headlines in this channel": "Publicar los titulares nuevos en este canal",
    "Only these regions, separated by commas (empty: all)": (
        "Solo estas regiones, separadas por comas (vacío: todas)"
    ),
    "Another channel to post in (default: this one)": (
        "Otro canal donde publicar (por defecto: este)"
    ),
    "Stop posting headlines in this channel": "Dejar de publicar titulares en este canal",
    "Another channel (default: this one)": "Otro canal (por defecto: este)",
    "What this bot does and its commands": "Qué hace este bot y sus comandos",
}

# The adapter's own words. Permission names as Discord's own interface writes them.
MESSAGES: dict[str, dict[str, str]] = {
    "manage_channels": {
        "en": "Sorry, only members with the Manage Channels permission in that channel can "
        "change what it receives.",
        "es": "Lo siento, solo los miembros con el permiso Gestionar canales en ese canal "
        "pueden cambiar lo que recibe.",
    },
    "not_postable": {
        "en": "I can't post in {channel}: choose a text or announcement channel, or a thread.",
        "es": "No puedo publicar en {channel}: elige un canal de texto o de anuncios, o un hilo.",
    },
    "missing_permissions": {
        "en": "I can't post in {channel}: I need these permissions there: {permissions}. "
        "Ask a server admin to grant them, then try /subscribe again.",
        "es": "No puedo publicar en {channel}: necesito estos permisos allí: {permissions}. "
        "Pide a un administrador del servidor que me los conceda y vuelve a probar /subscribe.",
    },
    "permission_view_channel": {"en": "View Channel", "es": "Ver canal"},
    "permission_send_messages": {"en": "Send Messages", "es": "Enviar mensajes"},
    "permission_send_messages_in_threads": {
        "en": "Send Messages in Threads",
        "es": "Enviar mensajes en hilos",
    },
    "permission_embed_links": {"en": "Embed Links", "es": "Insertar enlaces"},
}

REGION_COLOURS = {
    AFRICA: discord.Colour(0xE67E22),
    ASIA: discord.Colour(0xE74C3C),
    EUROPE: discord.Colour(0x3498DB),
    LATIN_AMERICA: discord.Colour(0x2ECC71),
    MIDDLE_EAST: discord.Colour(0xF1C40F),
    NORTH_AMERICA: discord.Colour(0x9B59B6),
    OCEANIA: discord.Colour(0x1ABC9C),
}
WORLD_COLOUR = discord.Colour(0x95A5A6)


class RedactTokens(logging.Filter):
    """Takes secrets out of log records. discord.py logs request URLs and gateway events
    at DEBUG, and an interaction's callback and follow-up URLs and its INTERACTION_CREATE
    carry its token (good for 15 minutes, for answering as the bot)."""

    PATTERNS = (
        (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"]+"), r"\1[token]"),
        (re.compile(r"""(['"]token['"]:\s*['"])[^'"]+"""), r"\1[token]"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()  # the bot tokens in use

    def redact(self, text: str) -> str:
        for pattern, replacement in self.PATTERNS:
            text = pattern.sub(replacement, text)
        for secret in self.secrets:
            text = text.replace(secret, "[bot token]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatted here, so that what handlers print is the redacted text.
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True

    def install(self) -> None:
        """On discord.py's loggers and ours (a filter on a logger sees only its own
        records, not those of the loggers below it)."""
        names = [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "discord"]
        for name in [*names, "discord", __name__]:
            logging.getLogger(name).addFilter(self)


REDACT = RedactTokens()


class RequestPacer:
    """Lets REST requests leave at most `rate` per second, evenly spaced.

    Each request takes the slot one interval after the previous one's, or now if that has
    passed, and only once the previous request has left: a late wake-up does not push the
    schedule back (no drift), and after the event loop stalled, one request leaves at once
    and the rest keep their spacing (no catch-up burst). So any 51 consecutive requests
    span at least 49 intervals (above a second at 47/s: 1.04 s). It runs as an
    aiohttp trace hook, after discord.py's own per-channel wait, right before a request
    is sent. Interaction responses are exempt, as on Discord: an answer to a user must
    not queue behind a large fan-out, and it has its own 3-second deadline.
    """

    def __init__(self, rate: float) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._lock = asyncio.Lock()
        self._next = float("-inf")

    def reserve(self, now: float) -> float:
        """Take the next slot, asked at `now`: the time the request may leave."""
        slot = max(now, self._next)
        self._next = slot + self.interval
        return slot

    async def wait(self) -> None:
        async with self._lock:
            loop = asyncio.get_running_loop()
            delay = self.reserve(loop.time()) - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)


def counts_against_global_limit(url: str) -> bool:
    """REST calls count; interaction callbacks and follow-ups (webhooks) and the gateway
    connection do not."""
    if not url.startswith(Route.BASE):
        return False
    path = url[len(Route.BASE) :]
    return not path.startswith(("/interactions/", "/webhooks/"))


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
        self.pacer = RequestPacer(requests_per_second)
        self.guild_ready_timeout = guild_ready_timeout
        # Discord drops an interaction not answered within 3 s of its creation; one not
        # answered `reply_deadline` s after it is acknowledged ("thinking...") and
        # answered when done. The margin is for the acknowledgement's trip and the clocks.
        self.reply_deadline = reply_deadline
        self.ready_timeout = ready_timeout
        self.reconnect_delay = reconnect_delay  # the first wait before a new connection
        self.client: _Client | None = None
        self._gave_up = ""  # why the gateway connection ended for good
        self.invite_url = ""
        # Until when (event loop time) no REST request may leave at all, and why.
        self._paused_until = float("-inf")
        self._pause_reason = ""
        self._on_command: CommandCallback | None = None
        self._gateway: asyncio.Task[None] | None = None

    # -- lifecycle -------------------------------------------------------------------

    async def start(self, on_command: CommandCallback) -> None:
        """Log in, register the slash commands, connect to the gateway; return on READY."""
        self._on_command = on_command
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
        client = self.client = _Client(self)
        self._gave_up = ""
        try:
            try:
                await client.login(self.config.token)
            except discord.LoginFailure as error:
                raise CannotStart(
                    "discord: Discord refused the bot token (401). Reset it in the Developer "
                    "Portal (Bot, Reset Token) and set it as HEADLINES_DISCORD_TOKEN"
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
        except BaseException:
            await self.stop()
            raise
        user = client.user
        log.info("discord: connected as %s (id %s)", user, user.id if user else "?")

    async def stop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            await client.close()
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            await asyncio.gather(gateway, return_exceptions=True)

    async def _stay_connected(self, client: _Client) -> None:
        """Run the gateway connection until `stop`. discord.py reconnects and resumes by
        itself after a dropped connection; when its loop dies of anything else, start it
        again, with backoff. A refusal that retrying cannot mend ends it: CannotStart."""
        loop = asyncio.get_running_loop()
        delay = self.reconnect_delay
        while self.client is client:
            began = loop.time()
            try:
                await client.connect()
            except (discord.PrivilegedIntentsRequired, discord.ConnectionClosed) as error:
                # discord.py raises these only for close codes it will not reconnect on.
                if self.client is not client:
                    return
                self._gave_up = _gateway_refusal(error)
                log.error("discord: %s; Discord stays disconnected until restarted", self._gave_up)
                await client.close()
                raise CannotStart(f"discord: {self._gave_up}") from error
            except Exception:
                if self.client is not client:
                    return
                if loop.time() - began > MAX_RECONNECT_DELAY:
                    delay = self.reconnect_delay  # it had been up a good while
                log.exception("discord: the gateway connection failed; a new one in %.0fs", delay)
                if client.ws is not None:
                    await client.ws.close(code=4000)  # its heartbeats would go on otherwise
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, MAX_RECONNECT_DELAY)

    async def _set_up(self, client: _Client) -> None:
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
        await client.tree.set_translator(_Spanish())
        try:
            await client.tree.sync()
            if self.config.guild_id:
                # Guild commands show up at once: handy for trying a change on a test server.
                guild = discord.Object(int(self.config.guild_id))
                client.tree.copy_global_to(guild=guild)
                await client.tree.sync(guild=guild)
        except discord.HTTPException as error:
            log.error(
                "discord: could not register the slash commands (%s %s); posting still "
                "works. Was the bot invited with the applications.commands scope?",
                error.status,
                error.text,
            )

    # -- posting ---------------------------------------------------------------------

    async def send(self, chat: ChatRef, headlines: Sequence[Headline], language: str) -> Sent:
        client = self.client
        if client is None or client.is_closed():
            reason = f" ({self._gave_up})" if self._gave_up else ""
            raise TemporaryFailure(f"discord: not connected{reason}")
        if not chat.chat_id.isdigit():
            raise DestinationGone(f"discord: {chat.chat_id!r} is not a channel id")
        channel = client.get_partial_messageable(int(chat.chat_id))
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

    # -- pacing and pausing ----------------------------------------------------------

    def trace_config(self) -> aiohttp.TraceConfig:
        """Hooks on every request discord.py makes: REST calls wait for the pacer and are
        refused while sending is paused; every answer is looked at for a reason to pause."""
        trace = aiohttp.TraceConfig()

        async def on_request_start(
            session: aiohttp.ClientSession,
            context: Any,
            params: aiohttp.TraceRequestStartParams,
        ) -> None:
            if counts_against_global_limit(str(params.url)):
                self._refuse_while_paused()
                await self.pacer.wait()
                self._refuse_while_paused()  # a pause may have begun while it waited

        async def on_request_end(
            session: aiohttp.ClientSession,
            context: Any,
            params: aiohttp.TraceRequestEndParams,
        ) -> None:
            self._watch(str(params.url), params.response)

        trace.on_request_start.append(on_request_start)
        trace.on_request_end.append(on_request_end)
        return trace

    def _watch(self, url: str, response: aiohttp.ClientResponse) -> None:
        """Pause all sending for answers about the bot as a whole, which a per-channel
        retry would only repeat (and 10,000 of 401/403/429 in 10 minutes get the IP
        banned): a Cloudflare ban, a long global rate limit, a token no longer valid."""
        headers = response.headers
        if response.status == 429 and not headers.get("Via"):
            self._pause(_header_seconds(headers), "Cloudflare refuses our requests (429 ban)")
        elif response.status == 429 and _is_global(headers):
            seconds = _header_seconds(headers)
            if seconds > LONGEST_WAIT:  # shorter ones discord.py waits out for every route
                self._pause(seconds, "Discord's global rate limit")
        elif response.status == 401 and counts_against_global_limit(url) and self._running():
            # (At login, a 401 is a wrong token: start says so, and nothing is paused.)
            self._pause(
                UNAUTHORIZED_PAUSE,
                "Discord no longer accepts the bot token (401); if it was reset, set the new "
                "one as HEADLINES_DISCORD_TOKEN and restart",
            )

    def _running(self) -> bool:
        return self.client is not None and self.client.is_ready()

    def _pause(self, seconds: float, reason: str) -> None:
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until:
            self._paused_until, self._pause_reason = until, reason
            log.error("discord: %s; all sending paused for %.0fs", reason, seconds)

    def _refuse_while_paused(self) -> None:
        left = self._paused_until - asyncio.get_running_loop().time()
        if left > 0:
            raise RetryAfter(left, f"discord: {self._pause_reason}; paused for {left:.0f}s more")

    # -- commands --------------------------------------------------------------------

    def _build_tree(self, client: discord.Client) -> app_commands.CommandTree[Any]:
        tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
        tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        in_dms_too = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
        complete = app_commands.autocomplete

        @tree.command(name="latest", description="The newest headlines, of one region if given")
        @app_commands.describe(
            count=f"How many (1-{MAX_COUNT}, default {DEFAULT_COUNT})", region="A world region"
        )
        @complete(region=self._complete_region)
        @in_dms_too
        async def latest(
            interaction: discord.Interaction,
            count: app_commands.Range[int, 1, MAX_COUNT] | None = None,
            region: str | None = None,
        ) -> None:
            args = (str(count) if count else "", region or "")
            await self._run(interaction, "latest", args)

        @tree.command(name="region", description="Headlines per region, or one region's newest")
        @app_commands.describe(name="A world region (empty: how many headlines each had)")
        @complete(name=self._complete_region)
        @in_dms_too
        async def region(interaction: discord.Interaction, name: str | None = None) -> None:
            await self._run(interaction, "region", (name or "",))

        @tree.command(name="subscribe", description="Post new headlines in this channel")
        @app_commands.describe(
            region="Only these regions, separated by commas (empty: all)",
            channel="Another channel to post in (default: this one)",
        )
        @complete(region=self._complete_regions)
        @app_commands.guild_only()
        @app_commands.default_permissions(manage_channels=True)
        async def subscribe(
            interaction: discord.Interaction,
            region: str | None = None,
            channel: app_commands.Transform[TargetChannel, _PostableChannel] | None = None,
        ) -> None:
            await self._run(interaction, "subscribe", (region or "",), channel)

        @tree.command(name="unsubscribe", description="Stop posting headlines in this channel")
        @app_commands.describe(channel="Another channel (default: this one)")
        @app_commands.guild_only()
        @app_commands.default_permissions(manage_channels=True)
        async def unsubscribe(
            interaction: discord.Interaction,
            channel: app_commands.Transform[TargetChannel, _PostableChannel] | None = None,
        ) -> None:
            await self._run(interaction, "unsubscribe", (), channel)

        @tree.command(name="help", description="What this bot does and its commands")
        @in_dms_too
        async def help_(interaction: discord.Interaction) -> None:
            await self._run(interaction, "help", ())

        return tree

    async def _run(
        self,
        interaction: discord.Interaction,
        name: str,
        args: tuple[str, ...],
        channel: TargetChannel | None = None,
    ) -> None:
        """Answer the command: with a refusal of our own, or the core's reply."""
        task = asyncio.ensure_future(self._reply(interaction, name, args, channel))
        # Discord's 3 s run from when it created the interaction (its id says when), not
        # from when the gateway delivered it; a clock behind Discord's gains no time.
        age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
        wait = max(0.0, self.reply_deadline - max(age, 0.0))
        try:
            try:
                reply = await asyncio.wait_for(asyncio.shield(task), wait)
            except TimeoutError:
                private = name in ("subscribe", "unsubscribe")
                await interaction.response.defer(ephemeral=private)
                interaction.extras[PUBLIC_DEFER] = not private
                reply = await task
        except Exception:
            log.exception("discord: /%s failed in %s", name, interaction.channel_id)
            reply = _trouble(pick_language(interaction.locale.value))
        await _answer(interaction, reply)

    async def _reply(
        self,
        interaction: discord.Interaction,
        name: str,
        args: tuple[str, ...],
        channel: TargetChannel | None,
    ) -> Reply:
        assert self._on_command is not None
        locale = interaction.locale.value
        if channel is not None:
            # Acting on another channel: what counts is the user's permissions there.
            chat = ChatRef(self.platform, str(channel.id), "channel", _title(interaction, channel))
            permissions = channel.permissions
        else:
            chat = _chat(interaction)
            permissions = interaction.permissions
        # Discord hides /subscribe from members without Manage Channels by default, but a
        # server can change that: check again here.
        can_admin = permissions.administrator or permissions.manage_channels
        if name in ("subscribe", "unsubscribe") and not can_admin:
            return _refusal(locale, "manage_channels")
        if name == "subscribe":
            refusal = await self._cannot_post(interaction, channel)
            if refusal is not None:
                return refusal
        command = Command(
            name=name,
            args=tuple(a for a in args if a),
            chat=chat,
            can_admin=can_admin,
            language=locale,
        )
        return await self._on_command(command)

    async def _cannot_post(
        self, interaction: discord.Interaction, channel: TargetChannel | None
    ) -> Reply | None:
        """A refusal when the bot could not post its embeds where /subscribe points: a
        subscription there would only be deactivated at the first headline."""
        locale = interaction.locale.value
        target: Any = interaction.channel if channel is None else channel
        mention = f"<#{target.id}>" if target is not None else "#?"
        kind = getattr(target, "type", None)
        if kind not in POSTABLE_CHANNELS:
            return _refusal(locale, "not_postable", channel=mention)
        if channel is None:
            granted = interaction.app_permissions  # Discord's own count, with overwrites
        else:
            granted = await _bot_permissions(interaction, channel)
        needed = THREAD_POST_PERMISSIONS if kind in THREAD_CHANNELS else POST_PERMISSIONS
        missing = [p for p in needed if not getattr(granted, p)]
        if not missing:
            return None
        language = pick_language(locale)
        names = ", ".join(tr_from(MESSAGES, language, f"permission_{p}") for p in missing)
        return _refusal(locale, "missing_permissions", channel=mention, permissions=names)

    async def _complete_region(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """For /latest and /region, which take one region: those whose name or alias
        (English or Spanish) fits what was typed."""
        return region_choices(current, pick_language(interaction.locale.value))

    async def _complete_regions(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        """For /subscribe, which takes several separated by commas: the last part is
        completed, the earlier ones kept."""
        head, _, tail = current.rpartition(",")
        prefix = f"{head.strip()}, " if head.strip() else ""
        return region_choices(tail, pick_language(interaction.locale.value), prefix)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        log.error("discord: command failed: %r", error, exc_info=error)
        language = pick_language(interaction.locale.value)
        reply = _trouble(language)
        with contextlib.suppress(discord.HTTPException):
            await _answer(interaction, reply)


class _Client(discord.Client):
    def __init__(self, adapter: DiscordAdapter) -> None:
        # Only the guilds intent: channels and permissions for the slash commands. Slash
        # commands need no privileged intent (no message content, no members).
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            http_trace=adapter.trace_config(),
            # Longer waits than this surface as RetryAfter, for the outbox to wait out.
            max_ratelimit_timeout=LONGEST_WAIT,
            guild_ready_timeout=adapter.guild_ready_timeout,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
        )
        self.adapter = adapter
        self.tree = adapter._build_tree(self)

    async def setup_hook(self) -> None:
        await self.adapter._set_up(self)


class _Spanish(app_commands.Translator):
    """The commands' option names and descriptions in Spanish, sent when they are synced."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale not in SPANISH_LOCALES:
            return None
        if context.location is app_commands.TranslationContextLocation.parameter_name:
            return SPANISH_OPTIONS.get(string.message)
        return SPANISH_DESCRIPTIONS.get(string.message)


class _PostableChannel(app_commands.Transformer):
    """A text or announcement channel or a thread, as Discord resolved it: with the
    permissions of the user who ran the command in that channel."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POSTABLE_CHANNELS)

    async def transform(self, interaction: discord.Interaction, value: Any) -> Any:
        return value


async def _bot_permissions(
    interaction: discord.Interaction, channel: TargetChannel
) -> discord.Permissions:
    """The bot's permissions in a channel of the interaction's server, from the cache the
    guilds intent keeps (or fetched, for a thread the cache has not seen)."""
    guild = interaction.guild
    if guild is None or guild.me is None:
        return discord.Permissions.none()
    resolved = guild.get_channel_or_thread(channel.id)
    if resolved is None:
        try:
            resolved = await channel.fetch()
        except discord.Forbidden:
            return discord.Permissions.none()  # it may not even see the channel
    return resolved.permissions_for(guild.me)


def _gateway_refusal(error: Exception) -> str:
    """What a gateway close that discord.py will not reconnect on means, for the log."""
    code = error.code if isinstance(error, discord.ConnectionClosed) else 4014
    meaning = GATEWAY_REFUSALS.get(code, "the gateway closed the connection for good")
    return f"{meaning} (gateway close code {code})"


def region_choices(typed: str, language: str, prefix: str = "") -> list[app_commands.Choice[str]]:
    """Regions whose name or alias starts with `typed`, then those that contain it, each
    after `prefix`."""
    typed = fold_case_and_accents(typed)
    first, then = [], []
    for region in REGIONS:
        names = [
            fold_case_and_accents(region),
            fold_case_and_accents(display_name(region, language)),
        ]
        names += [alias for alias, target in ALIASES.items() if target == region]
        if not typed or any(n.startswith(typed) for n in names):
            first.append(region)
        elif any(typed in n for n in names):
            then.append(region)
    return [
        app_commands.Choice(
            name=(prefix + display_name(r, language))[:CHOICE_CHARS],
            value=(prefix + r)[:CHOICE_CHARS],
        )
        for r in (first + then)[:AUTOCOMPLETE_CHOICES]
    ]


# -- posts -----------------------------------------------------------------------------


def headline_embed(headline: Headline, language: str) -> discord.Embed:
    """One headline: its title linking to the story, the summary, the time, a footer with
    the source and regions, coloured by its first region."""
    embed = discord.Embed(
        title=_fit(headline.title or headline.link, TITLE_CHARS) or None,
        url=headline.link if _is_web_url(headline.link) else None,
        description=_fit(headline.summary, DESCRIPTION_CHARS) or None,
        timestamp=headline.published,
        colour=REGION_COLOURS.get(headline.regions[0], WORLD_COLOUR)
        if headline.regions
        else WORLD_COLOUR,
    )
    regions = ", ".join(region_labels(headline.regions, language))
    footer = f"{tr(language, 'source')}: {headline.feed} · {regions}"
    embed.set_footer(text=_shorten(footer, FOOTER_CHARS))
    return embed


def pack_embeds(headlines: Sequence[Headline], language: str) -> list[discord.Embed]:
    """Embeds for the first headlines that share one message: at most 10, at most 6000
    characters in all, and always at least one."""
    embeds: list[discord.Embed] = []
    total = 0
    for headline in headlines[:MAX_EMBEDS]:
        embed = headline_embed(headline, language)
        if embeds and total + len(embed) > MESSAGE_EMBED_CHARS:
            break
        embeds.append(embed)
        total += len(embed)
    return embeds


def plain_embed(headline: Headline) -> discord.Embed:
    """A headline with nothing Discord validates (no url, no timestamp)."""
    text = f"{_fit(headline.title, TITLE_CHARS)}\n{headline.link}".strip()
    return discord.Embed(description=_shorten(text, DESCRIPTION_CHARS))


def message_nonce(
    chat: ChatRef,
    headlines: Sequence[Headline],
    embeds: Sequence[discord.Embed],
    *,
    plain: bool = False,
) -> str:
    """The same for the same message to the same chat, across restarts: what it starts
    with, how many headlines, in which form. Sent with enforce_nonce (discord.py always
    adds it), Discord answers a repeat within a few minutes with the message it already
    took, so a send whose answer was lost (a timeout, a crash) does not post twice."""
    first = headlines[0]
    key = f"{chat.chat_id}|{first.id}|{first.feed}|{first.entry_id}|{len(embeds)}|{plain}"
    return hashlib.blake2b(key.encode(), digest_size=12).hexdigest()  # 24 of 25 allowed


async def _post(
    channel: discord.PartialMessageable, embeds: list[discord.Embed], nonce: str
) -> Any:
    """Create one message; Discord's answers become the core's send errors."""
    try:
        return await channel.send(embeds=embeds, allowed_mentions=NO_MENTIONS, nonce=nonce)
    except discord.RateLimited as error:
        raise RetryAfter(error.retry_after) from error
    except discord.DiscordServerError as error:
        raise TemporaryFailure(_describe(error, "Discord server error")) from error
    except discord.HTTPException as error:
        if error.status == 429:
            # discord.py gave up waiting, or no Via header: not Discord's API answering
            # but Cloudflare, which bans for a while and says how long in Retry-After.
            seconds = _header_seconds(error.response.headers)
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


def _header_seconds(headers: Any) -> float:
    """Retry-After in seconds (a Cloudflare ban says how long there; 60 s if not)."""
    try:
        return max(1.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return 60.0


def _is_global(headers: Any) -> bool:
    return (
        headers.get("X-RateLimit-Global", "").lower() == "true"
        or headers.get("X-RateLimit-Scope") == "global"
    )


# -- replies ---------------------------------------------------------------------------


async def _answer(interaction: discord.Interaction, reply: Reply) -> None:
    content, embeds = render_reply(reply)
    ephemeral = reply.private or reply.error
    if not interaction.response.is_done():
        await interaction.response.send_message(
            content=content, embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
        )
        return
    if interaction.extras.pop(PUBLIC_DEFER, False) and ephemeral:
        # The first follow-up takes the place of the defer's "thinking..." and keeps its
        # visibility, whatever it asks: delete the public one so this answer is private.
        await interaction.delete_original_response()
    await interaction.followup.send(
        content=content, embeds=embeds, ephemeral=ephemeral, allowed_mentions=NO_MENTIONS
    )


def render_reply(reply: Reply) -> tuple[str | None, list[discord.Embed]]:
    """A reply as (content, embeds): headlines as one compact list embed, a titled text as
    an embed, anything else as plain text."""
    text = discord.utils.escape_markdown(reply.text)
    if not reply.headlines and not reply.title:
        return _shorten(text, CONTENT_CHARS), []
    lines = [headline_line(h, reply.language) for h in reply.headlines]
    if text:
        lines.append(text)
    description, used = "", 0
    for line in lines:
        if used + len(line) + 1 > DESCRIPTION_CHARS:
            break
        description += line + "\n"
        used += len(line) + 1
    embed = discord.Embed(
        title=_shorten(reply.title, TITLE_CHARS) or None,
        description=description.rstrip() or None,
        colour=WORLD_COLOUR,
    )
    return None, [embed]


def headline_line(headline: Headline, language: str) -> str:
    """'• [Title](link) · Europe · 14 Mar': one headline in a list."""
    title = _fit(headline.title or headline.link, TITLE_CHARS).replace("[", "\\[")
    title = title.replace("]", "\\]")
    if _is_web_url(headline.link):
        title = f"[{title}]({headline.link.replace('(', '%28').replace(')', '%29')})"
    parts = [f"• {title}", ", ".join(region_labels(headline.regions, language))]
    parts.append(discord.utils.format_dt(headline.published, "R"))
    return " · ".join(parts)


# -- helpers ---------------------------------------------------------------------------


def _chat(interaction: discord.Interaction) -> ChatRef:
    channel_id = str(interaction.channel_id or "")
    if interaction.guild_id is None:
        return ChatRef("discord", channel_id, "dm", str(interaction.user))
    return ChatRef("discord", channel_id, "channel", _title(interaction, interaction.channel))


def _title(interaction: discord.Interaction, channel: Any) -> str:
    name = getattr(channel, "name", None)
    guild = interaction.guild.name if interaction.guild and interaction.guild.name else ""
    return " ".join(p for p in (guild, f"#{name}" if name else "") if p)


def _fit(text: str, limit: int) -> str:
    """`text` with markdown escaped, shortened so that the escaped text fits `limit`: the
    longest start of it that does, found by bisection (escaping may double each character)."""
    escaped = discord.utils.escape_markdown(text)
    if len(escaped) <= limit:
        return escaped
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if len(discord.utils.escape_markdown(text[:middle].rstrip() + "…")) <= limit:
            fits = middle
        else:
            too_long = middle
    return discord.utils.escape_markdown(text[:fits].rstrip() + "…")


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _is_web_url(url: str) -> bool:
    """A link Discord takes: http(s), a host, no spaces or control characters."""
    if len(url) > 2048 or any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False
    return parts.scheme in ("http", "https") and bool(host)


def _refusal(locale: str, key: str, **values: object) -> Reply:
    """A refusal of the adapter's own, in the user's language, for the user only."""
    language = pick_language(locale)
    text = tr_from(MESSAGES, language, key, **values)
    return Reply(text=text, language=language, error=True, private=True)


def _trouble(language: str) -> Reply:
    """What a user reads when answering their command failed on our side."""
    return Reply(text=tr(language, "internal_error"), language=language, error=True, private=True)
