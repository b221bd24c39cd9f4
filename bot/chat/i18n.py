"""The bot's own words, in English and Spanish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.models import LANGUAGES
from bot.regions.names import WORLD, display_name

MESSAGES: dict[str, dict[str, str]] = {
    # The commands' lines come from their spec (bot/chat/spec.py).
    "help": {
        "en": (
            "I post new headlines from {feeds} and tag them with world regions.\n"
            "{commands}\n"
            "Regions: {regions}"
        ),
        "es": (
            "Publico los titulares nuevos de {feeds} y los etiqueto por región del mundo.\n"
            "{commands}\n"
            "Regiones: {regions}"
        ),
    },
    "start": {
        "en": "Hello! I follow news feeds and post new headlines, tagged by world region.",
        "es": "¡Hola! Sigo fuentes de noticias y publico los titulares nuevos por región.",
    },
    "latest": {"en": "Latest headlines", "es": "Últimos titulares"},
    "latest_region": {"en": "Latest headlines: {region}", "es": "Últimos titulares: {region}"},
    "nothing_yet": {
        "en": "No headlines yet. The feeds are polled every few minutes.",
        "es": "Aún no hay titulares. Las fuentes se consultan cada pocos minutos.",
    },
    "nothing_region": {
        "en": "No headlines for {region} yet.",
        "es": "Aún no hay titulares de {region}.",
    },
    "regions_title": {
        "en": "Headlines per region, last 7 days",
        "es": "Titulares por región, últimos 7 días",
    },
    "world": {"en": "World (no region)", "es": "Mundo (sin región)"},
    "chat_filter_all": {
        "en": "This chat receives: all regions.",
        "es": "Este chat recibe: todas las regiones.",
    },
    "chat_filter": {"en": "This chat receives: {regions}.", "es": "Este chat recibe: {regions}."},
    "chat_not_subscribed": {
        "en": "This chat is not subscribed. Send /subscribe to receive new headlines.",
        "es": "Este chat no está suscrito. Envía /subscribe para recibir titulares nuevos.",
    },
    "subscribed_all": {
        "en": "Subscribed: this chat will receive new headlines from all regions.",
        "es": "Suscrito: este chat recibirá los titulares nuevos de todas las regiones.",
    },
    "subscribed": {
        "en": "Subscribed: this chat will receive new headlines from {regions}.",
        "es": "Suscrito: este chat recibirá los titulares nuevos de {regions}.",
    },
    "unsubscribed": {
        "en": "Unsubscribed: this chat will receive no more headlines.",
        "es": "Suscripción cancelada: este chat no recibirá más titulares.",
    },
    "not_subscribed": {
        "en": "This chat was not subscribed.",
        "es": "Este chat no estaba suscrito.",
    },
    "admins_only": {
        "en": "Sorry, only administrators of this chat can change what it receives.",
        "es": "Lo siento, solo los administradores de este chat pueden cambiar lo que recibe.",
    },
    "unknown_region": {
        "en": "Unknown region '{name}'.{hint} Regions: {regions}.",
        "es": "Región desconocida: '{name}'.{hint} Regiones: {regions}.",
    },
    "world_subscription": {
        "en": (
            "'{name}' (headlines with no region) cannot be subscribed to on its own. "
            "Send /subscribe with no regions to receive all headlines."
        ),
        "es": (
            "No es posible suscribirse solo a '{name}' (titulares sin región). "
            "Envía /subscribe sin regiones para recibir todos los titulares."
        ),
    },
    "did_you_mean": {"en": " Did you mean {region}?", "es": " ¿Quisiste decir {region}?"},
    "bad_count": {
        "en": "'{value}' is not a count: give a number from 1 to {max}, e.g. /latest 5.",
        "es": "'{value}' no es una cantidad: indica un número del 1 al {max}, p. ej. /latest 5.",
    },
    "unknown_command": {
        "en": "Unknown command /{name}. Send /help for the list.",
        "es": "Comando desconocido: /{name}. Envía /help para ver la lista.",
    },
    "too_many_args": {
        "en": "/{name} takes no arguments.",
        "es": "/{name} no lleva argumentos.",
    },
    "args_too_long": {
        "en": (
            "That is too long for /{name}: {length} characters, at most {max}. "
            "Send /help to see what each command takes."
        ),
        "es": (
            "Es demasiado largo para /{name}: {length} caracteres, como mucho {max}. "
            "Envía /help para ver qué admite cada comando."
        ),
    },
    # -- /subscribe topics: a forum group split into one topic per region -------------
    "topics_subscribed": {
        "en": (
            "Subscribed by topic: {count} topics, one per region and one for world news, "
            "each receives its region's new headlines. /unsubscribe topics stops them."
        ),
        "es": (
            "Suscrito por temas: {count} temas, uno por región y uno para el mundo; cada uno "
            "recibe los titulares nuevos de su región. /unsubscribe topics los detiene."
        ),
    },
    "topics_unsubscribed": {
        "en": "Unsubscribed: the {count} region topics will receive no more headlines.",
        "es": "Suscripción cancelada: los {count} temas por región no recibirán más titulares.",
    },
    "topics_not_subscribed": {
        "en": "This chat had no region topics subscribed.",
        "es": "Este chat no tenía temas por región suscritos.",
    },
    "topics_unsupported": {
        "en": "Topics per region work in Telegram groups with topics turned on.",
        "es": "Los temas por región funcionan en grupos de Telegram con los temas activados.",
    },
    "topics_not_forum": {
        "en": (
            "This group has no topics. An administrator can turn them on (group settings, "
            "Topics), then send /subscribe topics again."
        ),
        "es": (
            "Este grupo no tiene temas. Un administrador puede activarlos (ajustes del "
            "grupo, Temas) y volver a enviar /subscribe topics."
        ),
    },
    "topics_no_rights": {
        "en": (
            "I may not create topics here. Make me an administrator allowed to manage "
            "topics, then send /subscribe topics again."
        ),
        "es": (
            "No puedo crear temas aquí. Hazme administrador con permiso para gestionar "
            "temas y vuelve a enviar /subscribe topics."
        ),
    },
    "topics_failed": {
        "en": "I could not create the topics ({detail}). Please try again later.",
        "es": "No pude crear los temas ({detail}). Inténtalo más tarde.",
    },
    "source": {"en": "Source", "es": "Fuente"},
    "internal_error": {
        "en": "Sorry, something went wrong. Please try again in a moment.",
        "es": "Lo siento, algo salió mal. Inténtalo de nuevo en un momento.",
    },
    "admin_check_failed": {
        "en": "Sorry, I could not check who administers this chat. Please try again later.",
        "es": "Lo siento, no pude comprobar quién administra este chat. Inténtalo más tarde.",
    },
}


def tr(language: str, key: str, **values: object) -> str:
    """The message `key` in `language` (English when the language is not known)."""
    return tr_from(MESSAGES, language, key, **values)


def tr_from(
    messages: Mapping[str, Mapping[str, str]], language: str, key: str, **values: object
) -> str:
    """As `tr`, from a table of messages of one's own (an adapter's words)."""
    texts = messages[key]
    return texts.get(language, texts["en"]).format(**values)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among `candidates` ('es-MX' counts as 'es')."""
    for candidate in candidates:
        code = (candidate or "").lower().split("-")[0].split("_")[0]
        if code in LANGUAGES:
            return code
    return "en"


def region_list(regions: Sequence[str], language: str) -> str:
    return ", ".join(display_name(r, language) for r in regions)


def region_labels(regions: Sequence[str], language: str) -> list[str]:
    """The names of a headline's regions in `language`, for posts and lists: ["Asia",
    "Europe"], ["América Latina"]; ["World"] or ["Mundo"] when it has none (world news)."""
    return [display_name(r, language) for r in regions or (WORLD,)]


def region_hashtags(regions: Sequence[str], language: str) -> str:
    """A headline's regions as hashtags in `language`, space-separated: "#LatinAmerica
    #MiddleEast", in Spanish "#AméricaLatina #OrienteMedio"; "#World" or "#Mundo" for none.
    Hashtags keep accented letters (Telegram and Discord accept them) but no spaces."""
    return " ".join(
        "#" + "".join(label.replace("-", " ").split()) for label in region_labels(regions, language)
    )
