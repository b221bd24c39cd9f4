"""The bot's commands as data: names, parameters, who may run them, and their words.

Everything that lists the commands is derived from `COMMANDS`: the core's dispatch and
admin check, /help, Telegram's command menu (setMyCommands) and Discord's slash commands
with their options. Adding a command is one entry here and one `_name` handler in
`Commands`. Pure: no platform and no storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_COUNT = 5
MAX_COUNT = 20

# What a parameter holds, which says how a platform offers it: a count (1-MAX_COUNT), one
# world region, several separated by commas, or another channel to act on instead of the
# one the command was sent in (only where a command can name one: Discord; a Telegram
# command always acts on its own chat, so Telegram leaves such a parameter out); "text":
# words as typed, quotes and signs included (/filter's terms, /search's words, /digest's
# period, time and day, a feed's name, PLATFORM:CHAT); "timezone": an IANA time zone
# name, which a platform with completion completes from the zone database.
ParamKind = Literal["count", "region", "regions", "channel", "text", "timezone"]


@dataclass(frozen=True, slots=True)
class Words:
    """One text in English and in Spanish."""

    en: str
    es: str

    def get(self, language: str) -> str:
        return self.es if language == "es" else self.en


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter. `name` and `spanish_name` are its option names where a platform has
    named options (Discord); `usage` is how /help and Telegram's menu write it ("n")."""

    name: str
    kind: ParamKind
    description: Words
    usage: Words
    spanish_name: str = ""
    optional: bool = True

    @property
    def typed(self) -> bool:
        """Whether it is typed after the command as text (a channel is picked, not typed)."""
        return self.kind != "channel"


@dataclass(frozen=True, slots=True)
class HelpLine:
    """A line of /help: "/name ARGS - text"; ARGS are the command's usage unless given."""

    text: Words
    args: Words | None = None


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """A command. `admin_only`: only those who administer the chat may run it (the core
    refuses others, and platforms hide it from them where they can); `private`: answered to
    the user alone where the platform can; `greeting`: the command a platform sends by
    itself when someone opens a chat with the bot (Telegram's /start), offered only there;
    `delivers_here`: after it the chat receives posts, so an adapter first checks that it
    can post there. `operator_only`: it runs only in the operator's alert chats
    (`[alerts]`), refused everywhere else. `help` are its lines in /help, by default one
    from its parameters and description; () leaves it out."""

    name: str
    description: Words
    params: tuple[Param, ...] = ()
    admin_only: bool = False
    private: bool = False
    greeting: bool = False
    delivers_here: bool = False
    help: tuple[HelpLine, ...] | None = None
    operator_only: bool = False

    def usage(self, language: str) -> str:
        """The typed parameters as /help writes them: "[n] [region]"."""
        return " ".join(
            f"[{p.usage.get(language)}]" if p.optional else p.usage.get(language).upper()
            for p in self.params
            if p.typed
        )

    def help_lines(self, language: str) -> list[str]:
        lines = (HelpLine(self.description),) if self.help is None else self.help
        return [self._help_line(line, language) for line in lines]

    def _help_line(self, line: HelpLine, language: str) -> str:
        args = line.args.get(language) if line.args else self.usage(language)
        text = line.text.get(language).format(default=DEFAULT_COUNT, max=MAX_COUNT)
        return f"/{self.name}{' ' + args if args else ''} - {text}"

    def menu_description(self, language: str) -> str:
        """For a command menu that shows only name and description (Telegram's): the
        description, then how to call it when it takes anything."""
        usage = self.usage(language)
        text = self.description.get(language)
        return f"{text}: /{self.name} {usage}" if usage else text


REGION = Words("region", "región")
COUNT_WORDS = Words(
    f"How many (1-{MAX_COUNT}, default {DEFAULT_COUNT})",
    f"Cuántos (1-{MAX_COUNT}, {DEFAULT_COUNT} por defecto)",
)

COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "start",
        Words("What this bot does", "Qué hace este bot"),
        greeting=True,
        help=(),  # it answers with /help's text
    ),
    CommandSpec(
        "help",
        Words("The commands and regions", "Los comandos y las regiones"),
        help=(HelpLine(Words("this text", "este texto")),),
    ),
    CommandSpec(
        "latest",
        Words(
            "The newest headlines, of one region if given",
            "Los titulares más recientes, de una región si se indica",
        ),
        params=(
            Param("count", "count", COUNT_WORDS, Words("n", "n"), "cantidad"),
            Param(
                "region",
                "region",
                Words("A world region", "Una región del mundo"),
                REGION,
                "región",
            ),
        ),
        help=(
            HelpLine(
                Words(
                    "the newest n headlines (default {default}, at most {max})",
                    "los n titulares más recientes ({default} por defecto, como mucho {max})",
                )
            ),
        ),
    ),
    CommandSpec(
        "region",
        Words(
            "Headlines per region, or one region's newest",
            "Titulares por región, o los más recientes de una",
        ),
        params=(
            Param(
                "name",
                "region",
                Words(
                    "A world region (empty: how many headlines each had)",
                    "Una región del mundo (vacío: cuántos titulares tuvo cada una)",
                ),
                Words("name", "nombre"),
                "nombre",
            ),
        ),
        help=(
            HelpLine(
                Words(
                    "the regions, with how many headlines each had this week",
                    "las regiones, con cuántos titulares tuvo cada una esta semana",
                ),
                args=Words("", ""),
            ),
            HelpLine(
                Words(
                    "the newest headlines of one region (world: those of none)",
                    "los titulares más recientes de una región (mundo: los de ninguna)",
                ),
                args=Words("NAME", "NOMBRE"),
            ),
        ),
    ),
    CommandSpec(
        "subscribe",
        Words("Receive new headlines here", "Recibir aquí los titulares nuevos"),
        params=(
            Param(
                "region",
                "regions",
                Words(
                    "Only these regions, separated by commas (empty: all)",
                    "Solo estas regiones, separadas por comas (vacío: todas)",
                ),
                Words("regions", "regiones"),
                "región",
            ),
            Param(
                "channel",
                "channel",
                Words(
                    "Another channel to post in (default: this one)",
                    "Otro canal donde publicar (por defecto: este)",
                ),
                Words("channel", "canal"),
                "canal",
            ),
        ),
        admin_only=True,
        private=True,
        delivers_here=True,
        help=(
            HelpLine(
                Words(
                    "this chat receives new headlines (of those regions)",
                    "este chat recibe los titulares nuevos (de esas regiones)",
                )
            ),
            HelpLine(
                Words(
                    "a group with topics gets one topic per region (admins)",
                    "un grupo con temas recibe un tema por región (administradores)",
                ),
                args=Words("topics", "topics"),
            ),
        ),
    ),
    CommandSpec(
        "unsubscribe",
        Words("Stop receiving headlines here", "Dejar de recibir titulares aquí"),
        params=(
            Param(
                "channel",
                "channel",
                Words("Another channel (default: this one)", "Otro canal (por defecto: este)"),
                Words("channel", "canal"),
                "canal",
            ),
        ),
        admin_only=True,
        private=True,
        help=(
            HelpLine(
                Words("this chat stops receiving headlines", "este chat deja de recibir titulares")
            ),
            HelpLine(
                Words("the region topics stop receiving", "los temas por región dejan de recibir"),
                args=Words("topics", "topics"),
            ),
        ),
    ),
)


# Digests: one message per period instead of each headline as it comes.
COMMANDS += (
    CommandSpec(
        "digest",
        Words(
            "One message per period instead of each headline",
            "Un mensaje por periodo en vez de cada titular",
        ),
        params=(
            Param(
                "period",
                "text",
                Words(
                    "hourly, daily, weekly, or off (empty: the current setting)",
                    "hourly, diario, semanal u off (vacío: lo que hay ahora)",
                ),
                Words("period", "periodo"),
                "periodo",
            ),
            Param(
                "time",
                "text",
                Words(
                    "Time of day, HH:MM (daily, weekly)", "Hora del día, HH:MM (diario, semanal)"
                ),
                Words("HH:MM", "HH:MM"),
                "hora",
            ),
            Param(
                "day",
                "text",
                Words(
                    "Day of the week (weekly): mon ... sun",
                    "Día de la semana (semanal): lun ... dom",
                ),
                Words("day", "día"),
                "día",
            ),
            Param(
                "timezone",
                "timezone",
                Words(
                    "Time zone, e.g. Europe/Madrid (default: this chat's last one)",
                    "Zona horaria, p. ej. Europe/Madrid (por defecto: la última de este chat)",
                ),
                Words("zone", "zona"),
                "zona",
            ),
        ),
        admin_only=True,
        private=True,
        help=(
            HelpLine(
                Words(
                    "one message a day with the new headlines, at that time (IANA zone, "
                    "e.g. Europe/Madrid; remembered)",
                    "un mensaje al día con los titulares nuevos, a esa hora (zona IANA, "
                    "p. ej. Europe/Madrid; se recuerda)",
                ),
                args=Words("daily HH:MM [ZONE]", "diario HH:MM [ZONA]"),
            ),
            HelpLine(
                Words(
                    "the same, every hour or once a week",
                    "lo mismo, cada hora o una vez por semana",
                ),
                args=Words("hourly | weekly DAY HH:MM [ZONE]", "hourly | semanal DÍA HH:MM [ZONA]"),
            ),
            HelpLine(
                Words(
                    "each headline as it comes again (/digest alone: the current setting)",
                    "de nuevo cada titular al llegar (/digest solo: lo que hay ahora)",
                ),
                args=Words("off", "off"),
            ),
        ),
    ),
    # Keyword filters and search of the archive (bot.filters).
    CommandSpec(
        "filter",
        Words(
            "Keywords this chat's headlines must or must not have",
            "Palabras que deben tener o no los titulares de este chat",
        ),
        params=(
            Param(
                "terms",
                "text",
                Words(
                    'To add: +word, -word, +"a phrase"; or clear (empty: show the filter)',
                    'Para añadir: +palabra, -palabra, +"una frase"; o clear (vacío: ver filtro)',
                ),
                Words("+word -word", "+palabra -palabra"),
                "términos",
            ),
        ),
        admin_only=True,
        private=True,
        help=(
            HelpLine(
                Words("this chat's keyword filter", "el filtro de palabras de este chat"),
                args=Words("", ""),
            ),
            HelpLine(
                Words(
                    'only headlines with a + word (if any) and no - word; "quoted phrases" too',
                    'solo titulares con una palabra + (si hay) y ninguna -; también "frases"',
                ),
                args=Words("+word -word", "+palabra -palabra"),
            ),
            HelpLine(
                Words(
                    "remove the filter (or the terms named)", "quitar el filtro (o esos términos)"
                ),
                args=Words("clear", "clear"),
            ),
        ),
    ),
    CommandSpec(
        "search",
        Words("Search the archive of headlines", "Buscar en el archivo de titulares"),
        params=(
            Param(
                "words",
                "text",
                Words(
                    'Words to find, all of them; "quoted phrase" for words together',
                    'Palabras a buscar, todas; "entre comillas" para palabras seguidas',
                ),
                Words("words", "palabras"),
                "palabras",
                optional=False,
            ),
            Param(
                "region",
                "region",
                Words("Only this region", "Solo esta región"),
                REGION,
                "región",
            ),
        ),
        help=(
            HelpLine(
                Words(
                    'the newest headlines with all those words ("a phrase" in quotes)',
                    'los titulares más nuevos con todas esas palabras ("una frase" entre comillas)',
                )
            ),
        ),
    ),
)


# -- the operator's commands, run in the alert chats only (bot/ops, issue 11) -------------
FEED_NAME = Param(
    "feed",
    "text",
    Words("A feed's name, as in the config", "El nombre de una fuente, como en la configuración"),
    Words("feed", "fuente"),
    "fuente",
    optional=False,
)
COMMANDS += (
    CommandSpec(
        "status",
        Words(
            "The bot's health and open alerts (alert chat)",
            "La salud del bot y las alertas abiertas (chat de alertas)",
        ),
        operator_only=True,
    ),
    CommandSpec(
        "enable",
        Words(
            "Poll a disabled feed, or post to a chat, again (alert chat)",
            "Volver a consultar una fuente o a publicar en un chat (chat de alertas)",
        ),
        params=(
            Param(
                "name",
                "text",
                Words("A feed, or PLATFORM:CHAT", "Una fuente, o PLATAFORMA:CHAT"),
                Words("name", "nombre"),
                "nombre",
                optional=False,
            ),
        ),
        operator_only=True,
    ),
    CommandSpec(
        "release",
        Words(
            "Post the entries held for a feed that changed its ids (alert chat)",
            "Publicar las entradas retenidas de una fuente que cambió sus ids (chat de alertas)",
        ),
        params=(FEED_NAME,),
        operator_only=True,
    ),
)


def find(name: str) -> CommandSpec | None:
    """The command called `name` ("latest"), or None."""
    return next((spec for spec in COMMANDS if spec.name == name), None)


def names() -> tuple[str, ...]:
    return tuple(spec.name for spec in COMMANDS)


def help_lines(language: str, *, operator: bool = False) -> list[str]:
    """The commands' lines of /help, in the order of `COMMANDS`; the operator's commands
    only for an alert chat (`operator`)."""
    return [
        line
        for spec in COMMANDS
        if operator or not spec.operator_only
        for line in spec.help_lines(language)
    ]
