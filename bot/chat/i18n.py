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
    "source": {"en": "Source", "es": "Fuente"},
    "internal_error": {
        "en": "Sorry, something went wrong. Please try again in a moment.",
        "es": "Lo siento, algo salió mal. Inténtalo de nuevo en un momento.",
    },
    "admin_check_failed": {
        "en": "Sorry, I could not check who administers this chat. Please try again later.",
        "es": "Lo siento, no pude comprobar quién administra este chat. Inténtalo más tarde.",
    },
    # -- the operator's alerts and commands (bot/ops) ---------------------------------
    "alert_feed_failing": {
        "en": '⚠️ Feed "{subject}" has been failing for more than {after}: {detail}',
        "es": '⚠️ La fuente "{subject}" falla desde hace más de {after}: {detail}',
    },
    "resolved_feed_failing": {
        "en": '✅ Feed "{subject}" works again.',
        "es": '✅ La fuente "{subject}" vuelve a funcionar.',
    },
    "alert_feed_disabled": {
        "en": (
            '⛔ Feed "{subject}" is disabled: {detail}. '
            "/enable {subject} here (or `enable {subject}`) polls it again."
        ),
        "es": (
            '⛔ La fuente "{subject}" está desactivada: {detail}. '
            "/enable {subject} aquí (o `enable {subject}`) vuelve a consultarla."
        ),
    },
    "resolved_feed_disabled": {
        "en": '✅ Feed "{subject}" is polled again.',
        "es": '✅ La fuente "{subject}" vuelve a consultarse.',
    },
    "alert_feed_ids_changed": {
        "en": (
            '⚠️ Feed "{subject}" suddenly lists entries it never had in place of those '
            "it had: the publisher changed its ids. {detail} new entries are held, not "
            "posted. /release {subject} here (or `enable {subject}`) posts them."
        ),
        "es": (
            '⚠️ La fuente "{subject}" muestra de repente entradas que nunca tuvo en lugar '
            "de las que tenía: el editor cambió sus identificadores. {detail} entradas nuevas "
            "quedan retenidas, sin publicar. /release {subject} aquí (o `enable {subject}`) "
            "las publica."
        ),
    },
    "resolved_feed_ids_changed": {
        "en": '✅ Feed "{subject}": the held entries were released.',
        "es": '✅ Fuente "{subject}": las entradas retenidas se liberaron.',
    },
    "alert_destination_inactive": {
        "en": (
            "⛔ {subject} receives nothing any more: {detail}. /enable {subject} here "
            "(or `enable {subject}`, or /subscribe there) resumes it."
        ),
        "es": (
            "⛔ {subject} ya no recibe nada: {detail}. /enable {subject} aquí "
            "(o `enable {subject}`, o /subscribe allí) lo reanuda."
        ),
    },
    "resolved_destination_inactive": {
        "en": "✅ {subject} receives headlines again.",
        "es": "✅ {subject} vuelve a recibir titulares.",
    },
    "alert_platform": {
        "en": "⛔ {subject} cannot post: {detail}. Deliveries wait in the outbox.",
        "es": "⛔ {subject} no puede publicar: {detail}. Los envíos esperan en la cola.",
    },
    "resolved_platform": {
        "en": "✅ {subject} posts again.",
        "es": "✅ {subject} vuelve a publicar.",
    },
    "alert_backlog": {
        "en": "⏳ Deliveries to {subject} are behind by more than {after} ({detail} pending).",
        "es": "⏳ Los envíos a {subject} llevan más de {after} de retraso ({detail} pendientes).",
    },
    "operators_only": {
        "en": "/{name} works only in the operator's alert chat.",
        "es": "/{name} solo funciona en el chat de alertas del operador.",
    },
    "status_title": {"en": "Status", "es": "Estado"},
    "enable_unknown": {
        "en": "No feed is called '{name}', nor is there a destination so (write PLATFORM:CHAT).",
        "es": "Ninguna fuente se llama '{name}', ni hay un destino así (escribe PLATAFORMA:CHAT).",
    },
    "no_such_feed": {
        "en": "No feed is called '{name}'.",
        "es": "Ninguna fuente se llama '{name}'.",
    },
    "enabled_feed": {
        "en": "Feed '{name}' is enabled: polled again at its next turn.",
        "es": "La fuente '{name}' está activada: se consulta de nuevo en su próximo turno.",
    },
    "enabled_chat": {
        "en": "{name} receives new headlines again.",
        "es": "{name} vuelve a recibir los titulares nuevos.",
    },
    "released": {
        "en": "{count} held entries released: they go out as a poll's would.",
        "es": "{count} entradas retenidas liberadas: salen como las de una consulta.",
    },
    "nothing_held": {
        "en": "Feed '{name}' holds nothing.",
        "es": "La fuente '{name}' no retiene nada.",
    },
    "status_summary": {
        "en": (
            "Database: {database}\nFeeds: {feeds} ({failing} failing, {disabled} disabled)\n"
            "Destinations: {active} active, {inactive} inactive\nPending deliveries: {pending}"
        ),
        "es": (
            "Base de datos: {database}\nFuentes: {feeds} ({failing} con fallos, "
            "{disabled} desactivadas)\nDestinos: {active} activos, {inactive} inactivos\n"
            "Envíos pendientes: {pending}"
        ),
    },
    "database_ok": {"en": "writable", "es": "se puede escribir"},
    "database_failing": {
        "en": "CANNOT BE WRITTEN ({error})",
        "es": "NO SE PUEDE ESCRIBIR ({error})",
    },
    "open_alerts": {"en": "Open alerts:", "es": "Alertas abiertas:"},
    "no_alerts": {"en": "No open alerts.", "es": "Ninguna alerta abierta."},
    "resolved_backlog": {
        "en": "✅ Deliveries to {subject} have caught up.",
        "es": "✅ Los envíos a {subject} están al día.",
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
