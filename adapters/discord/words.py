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
        "en": "I can't post in {channel}: choose a text, announcement or forum channel, or a "
        "thread.",
        "es": "No puedo publicar en {channel}: elige un canal de texto, de anuncios o de foro, "
        "o un hilo.",
    },
    "missing_permissions": {
        "en": "I can't post in {channel}: I need these permissions there: {permissions}. "
        "Ask a server admin to grant them, then try /subscribe again.",
        "es": "No puedo publicar en {channel}: necesito estos permisos allí: {permissions}. "
        "Pide a un administrador del servidor que me los conceda y vuelve a probar /subscribe.",
    },
    # Forum channels (issue 12).
    "forum_tags_missing": {
        "en": "Posts in {channel} are tagged with their regions, but these tags are missing: "
        "{tags}. Grant me Manage Channels there and I create them at the next /subscribe, "
        "or create tags with those names; until then those regions' posts go without "
        "their tag.",
        "es": "Las publicaciones en {channel} llevan etiquetas de sus regiones, pero faltan "
        "estas: {tags}. Concédeme Gestionar canales allí y las crearé en el próximo "
        "/subscribe, o crea etiquetas con esos nombres; mientras tanto, las publicaciones "
        "de esas regiones irán sin su etiqueta.",
    },
    "forum_tags_full": {
        "en": "Posts in {channel} are tagged with their regions, but these tags are missing: "
        "{tags}. A forum holds at most 20 tags: remove some and run /subscribe again; until "
        "then those regions' posts go without their tag.",
        "es": "Las publicaciones en {channel} llevan etiquetas de sus regiones, pero faltan "
        "estas: {tags}. Un foro admite como mucho 20 etiquetas: quita algunas y vuelve a "
        "ejecutar /subscribe; mientras tanto, las publicaciones de esas regiones irán sin "
        "su etiqueta.",
    },
    "forum_tags_required": {
        "en": "I can't post in {channel}: it requires a tag on every post, and none of its "
        "tags names a region. Grant me Manage Channels there so that I create them, or "
        "create tags named after regions ({tags}), then try /subscribe again.",
        "es": "No puedo publicar en {channel}: exige una etiqueta en cada publicación y "
        "ninguna de sus etiquetas nombra una región. Concédeme Gestionar canales allí para "
        "que las cree, o crea etiquetas con nombres de regiones ({tags}) y vuelve a probar "
        "/subscribe.",
    },
    "permission_view_channel": {"en": "View Channel", "es": "Ver canal"},
    "permission_send_messages": {"en": "Send Messages", "es": "Enviar mensajes"},
    "permission_send_messages_in_threads": {
        "en": "Send Messages in Threads",
        "es": "Enviar mensajes en hilos",
    },
    "permission_embed_links": {"en": "Embed Links", "es": "Insertar enlaces"},
}
