"""The Discord adapter's own words, in English and Spanish (read through i18n.tr_from).
Permission names as Discord's own interface writes them."""

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
