"""Discord's numbers: message and embed sizes, rate-limit waits, and the error codes that
say whose fault a refusal is."""

from adapters.discord.config import TOKEN_ENV

# The longest 429 that discord.py waits out itself (30 s is the least it accepts); a
# longer global one pauses all sending instead.
LONGEST_WAIT = 30.0
# After a 401 while running: the token was reset or revoked, and asking again will not
# mend it; a while later one request tries again.
UNAUTHORIZED_PAUSE = 600.0
MAX_RECONNECT_DELAY = 300.0
# A shard whose connection dropped still counts as up for this long: discord.py resumes
# within seconds, and the platform is not unhealthy for one shard's brief reconnect.
SHARD_RECONNECT_WINDOW = 30.0
# Gateway close codes after which reconnecting cannot help (discord.py gives up on them).
GATEWAY_REFUSALS = {
    4004: f"Discord refused the bot token at the gateway; reset it and set {TOKEN_ENV}",
    4010: "the gateway refused the shard (is discord.shard_count the same in every process?)",
    4011: "Discord requires sharding for this bot: raise discord.shard_count",
    4012: "the gateway refused the API version",
    4013: "the gateway refused the intents asked for",
    4014: "the bot asks for privileged intents that are not enabled for it in the Developer Portal",
}

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object).
MAX_EMBEDS = 10
MESSAGE_EMBED_CHARS = 6000
TITLE_CHARS = 256
DESCRIPTION_CHARS = 4096
# Footers may have 2048, but title + description + footer must stay within the 6000 of a
# message, so that one headline always fits; source and regions need far less.
FOOTER_CHARS = 512
CONTENT_CHARS = 2000
AUTOCOMPLETE_CHOICES = 25
CHOICE_CHARS = 100

# JSON error codes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
# About the channel: unknown channel, missing access, cannot message this user, not a text
# channel, missing permissions, wrong channel type, archived thread, locked thread.
CHANNEL_ERRORS = frozenset({10003, 50001, 50007, 50008, 50013, 50024, 50083, 160005})
# About the message: empty, invalid form body (a field too long or malformed), blocked by
# the server's AutoMod or the harmful links filter.
CONTENT_ERRORS = frozenset({50006, 50035, 200000, 200001, 240000})
