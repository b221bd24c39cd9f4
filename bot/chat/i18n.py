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
    # /filter and /search (bot.filters).
    "filter_none": {
        "en": (
            "This chat has no keyword filter: it receives every headline of its regions. "
            'Add one with /filter +word -word +"a phrase".'
        ),
        "es": (
            "Este chat no tiene filtro de palabras: recibe todos los titulares de sus "
            'regiones. Añade uno con /filter +palabra -palabra +"una frase".'
        ),
    },
    "filter_shown": {
        "en": (
            "This chat's keyword filter: {terms}\n"
            "{rule} Change it with /filter +word -word; remove it with /filter clear."
        ),
        "es": (
            "El filtro de palabras de este chat: {terms}\n"
            "{rule} Cámbialo con /filter +palabra -palabra; quítalo con /filter clear."
        ),
    },
    "filter_rule_include": {
        "en": "It receives only headlines with one of the + words, and none of the - words.",
        "es": "Recibe solo titulares con alguna de las palabras +, y ninguna de las -.",
    },
    "filter_rule_exclude": {
        "en": "It receives every headline of its regions but those with a - word.",
        "es": "Recibe todos los titulares de sus regiones salvo los que tienen una palabra -.",
    },
    "filter_saved": {
        "en": "Filter saved: {terms}\n{rule}",
        "es": "Filtro guardado: {terms}\n{rule}",
    },
    "filter_cleared": {
        "en": "Filter removed: this chat receives every headline of its regions.",
        "es": "Filtro quitado: este chat recibe todos los titulares de sus regiones.",
    },
    "filter_not_subscribed": {
        "en": "This chat is not subscribed. Send /subscribe first, then /filter.",
        "es": "Este chat no está suscrito. Envía primero /subscribe y luego /filter.",
    },
    "filter_term_empty": {
        "en": "'{term}' has no word to match: use letters or digits, e.g. /filter +huelga.",
        "es": "'{term}' no tiene palabras: usa letras o cifras, p. ej. /filter +huelga.",
    },
    "filter_term_too_long": {
        "en": "'{term}' is too long: a word or phrase may have at most {max} characters.",
        "es": (
            "'{term}' es demasiado largo: una palabra o frase admite como mucho {max} caracteres."
        ),
    },
    "filter_term_too_many_words": {
        "en": "'{term}' is too long: a phrase may have at most {max} words.",
        "es": "'{term}' es demasiado larga: una frase admite como mucho {max} palabras.",
    },
    "filter_too_many": {
        "en": (
            "That would be too many: a chat's filter may have at most {max} words and "
            "phrases. Remove some with /filter clear WORD."
        ),
        "es": (
            "Serían demasiados: el filtro de un chat admite como mucho {max} palabras y "
            "frases. Quita alguna con /filter clear PALABRA."
        ),
    },
    "search_title": {"en": "Search: {query}", "es": "Búsqueda: {query}"},
    "search_words": {
        "en": (
            "Send /search with the words to find, e.g. /search huelga or "
            '/search "climate talks" europe.'
        ),
        "es": (
            "Envía /search con las palabras a buscar, p. ej. /search huelga o "
            '/search "cumbre del clima" europa.'
        ),
    },
    "search_none": {
        "en": (
            "No headlines match {query}{region}. Try fewer or other words, or /latest "
            "for the newest."
        ),
        "es": (
            "Ningún titular coincide con {query}{region}. Prueba con menos palabras u "
            "otras, o /latest para los más recientes."
        ),
    },
    "search_in_region": {"en": " in {region}", "es": " en {region}"},
}

# Digests (/digest, and the digest messages the adapters render).
MESSAGES.update(
    {
        "digest_title_hourly": {
            "en": "Your hourly digest: {count} headlines",
            "es": "Tu resumen de la hora: {count} titulares",
        },
        "digest_title_daily": {
            "en": "Your daily digest: {count} headlines",
            "es": "Tu resumen del día: {count} titulares",
        },
        "digest_title_weekly": {
            "en": "Your weekly digest: {count} headlines",
            "es": "Tu resumen de la semana: {count} titulares",
        },
        "digest_title_": {
            "en": "Your digest: {count} headlines",
            "es": "Tu resumen: {count} titulares",
        },
        "digest_more": {"en": "… and {count} more", "es": "… y {count} más"},
        "digest_hint": {
            "en": "Send /latest for the newest headlines, /region NAME for one region's.",
            "es": (
                "Envía /latest para ver los titulares más recientes, /region NOMBRE para "
                "los de una región."
            ),
        },
        "digest_every_hour": {
            "en": "every hour, on the hour ({zone})",
            "es": "cada hora, en punto ({zone})",
        },
        "digest_every_day": {
            "en": "every day at {time} ({zone})",
            "es": "cada día a las {time} ({zone})",
        },
        "digest_every_week": {
            "en": "every {day} at {time} ({zone})",
            "es": "cada {day} a las {time} ({zone})",
        },
        "digest_set": {
            "en": (
                "Digest on: instead of each headline as it comes, this chat receives one "
                "message {when} with the new headlines of its regions. Next: {next}."
            ),
            "es": (
                "Resumen activado: en lugar de cada titular al llegar, este chat recibe un "
                "mensaje {when} con los titulares nuevos de sus regiones. Próximo: {next}."
            ),
        },
        "digest_current": {
            "en": (
                "This chat receives a digest {when}. Next: {next}. "
                "/digest off: each headline as it comes."
            ),
            "es": (
                "Este chat recibe un resumen {when}. Próximo: {next}. "
                "/digest off: cada titular al llegar."
            ),
        },
        "digest_none": {
            "en": (
                "This chat receives each headline as it comes. For one message a day "
                "instead: /digest daily 08:00 Europe/Madrid (or /digest hourly, "
                "/digest weekly mon 08:00 Europe/Madrid)."
            ),
            "es": (
                "Este chat recibe cada titular al llegar. Para recibir un mensaje al día: "
                "/digest diario 08:00 Europe/Madrid (o /digest hourly, "
                "/digest weekly lun 08:00 Europe/Madrid)."
            ),
        },
        "digest_off": {
            "en": "Digest off: this chat receives each headline as it comes again.",
            "es": "Resumen desactivado: este chat vuelve a recibir cada titular al llegar.",
        },
        "digest_not_subscribed": {
            "en": "This chat is not subscribed. Send /subscribe first, then /digest.",
            "es": "Este chat no está suscrito. Envía primero /subscribe y después /digest.",
        },
        "digest_bad_word": {
            "en": "I do not understand '{word}'. Try /digest daily 08:00 Europe/Madrid.",
            "es": "No entiendo '{word}'. Prueba /digest diario 08:00 Europe/Madrid.",
        },
        "digest_no_period": {
            "en": "Say how often: /digest hourly, /digest daily 08:00 or /digest weekly mon 08:00.",
            "es": (
                "Indica cada cuánto: /digest hourly, /digest diario 08:00 "
                "o /digest semanal lun 08:00."
            ),
        },
        "digest_hourly_alone": {
            "en": "An hourly digest takes no time or day: /digest hourly.",
            "es": "Un resumen cada hora no lleva hora ni día: /digest hourly.",
        },
        "digest_needs_time": {
            "en": "Give a time of day (HH:MM): /digest daily 08:00 Europe/Madrid.",
            "es": "Indica una hora (HH:MM): /digest diario 08:00 Europe/Madrid.",
        },
        "digest_needs_day": {
            "en": "Give a day for a weekly digest: /digest weekly mon 08:00.",
            "es": "Indica un día para el resumen semanal: /digest semanal lun 08:00.",
        },
        "digest_daily_day": {
            "en": "A daily digest takes no day; for one a week: /digest weekly mon 08:00.",
            "es": (
                "Un resumen diario no lleva día; para uno a la semana: /digest semanal lun 08:00."
            ),
        },
        "digest_needs_zone": {
            "en": (
                "This chat has no time zone yet: add one (an IANA name), e.g. "
                "/digest {setting} Europe/Madrid or /digest {setting} America/Mexico_City. "
                "It is remembered for next time."
            ),
            "es": (
                "Este chat aún no tiene zona horaria: añade una (un nombre IANA), p. ej. "
                "/digest {setting} Europe/Madrid o /digest {setting} America/Mexico_City. "
                "Se recuerda para la próxima vez."
            ),
        },
        "digest_bad_time": {
            "en": "'{word}' is not a time of day: use HH:MM, from 00:00 to 23:59.",
            "es": "'{word}' no es una hora: usa HH:MM, de 00:00 a 23:59.",
        },
        "digest_bad_zone": {
            "en": "Unknown time zone '{zone}'. Did you mean {hint}?",
            "es": "Zona horaria desconocida: '{zone}'. ¿Quisiste decir {hint}?",
        },
    }
)
DAY_NAMES = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}

# The operator's alerts and commands (bot/ops).
MESSAGES.update(
    {
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
            "en": (
                "⏳ Deliveries to {subject} are behind by more than {after} ({detail} pending)."
            ),
            "es": (
                "⏳ Los envíos a {subject} llevan más de {after} de retraso ({detail} pendientes)."
            ),
        },
        "operators_only": {
            "en": "/{name} works only in the operator's alert chat.",
            "es": "/{name} solo funciona en el chat de alertas del operador.",
        },
        "status_title": {"en": "Status", "es": "Estado"},
        "enable_unknown": {
            "en": (
                "No feed is called '{name}', nor is there a destination so (write PLATFORM:CHAT)."
            ),
            "es": (
                "Ninguna fuente se llama '{name}', ni hay un destino así (escribe PLATAFORMA:CHAT)."
            ),
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
)


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
