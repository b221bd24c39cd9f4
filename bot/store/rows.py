"""How rows read back as models: the columns a query selects, and the model they make.
Shared by the table parts, as a delivery's row joins its headline and destination."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.models import ChatRef, Destination, Headline

HEADLINE_COLUMNS = """h.id, f.name, h.entry_id, h.title, h.link, h.summary, h.published,
    h.categories, h.language, h.regions, h.image"""
DESTINATION_COLUMNS = """d.id, d.platform, d.chat_id, d.kind, d.title, d.regions, d.feeds,
    d.language, d.active, d.inactive_reason, d.config_key != '', d.digest, d.timezone,
    d.thread_id, d.region_thread, d.filter_include, d.filter_exclude"""


def headline(r: Sequence[Any]) -> Headline:
    """The Headline of a row of HEADLINE_COLUMNS."""
    return Headline(
        id=r[0],
        feed=r[1],
        entry_id=r[2],
        title=r[3],
        link=r[4],
        summary=r[5],
        published=datetime.fromtimestamp(r[6], UTC),
        categories=tuple(json.loads(r[7])),
        language=r[8],
        regions=tuple(json.loads(r[9])),
        image=r[10],
    )


def destination(r: Sequence[Any]) -> Destination:
    """The Destination of a row of DESTINATION_COLUMNS."""
    return Destination(
        id=r[0],
        chat=ChatRef(platform=r[1], chat_id=r[2], kind=r[3], title=r[4], thread_id=r[13]),
        regions=tuple(json.loads(r[5])),
        feeds=tuple(json.loads(r[6])),
        language=r[7],
        active=bool(r[8]),
        inactive_reason=r[9],
        from_config=bool(r[10]),
        digest=r[11],
        timezone=r[12],
        region_thread=bool(r[14]),
        include=tuple(json.loads(r[15])),
        exclude=tuple(json.loads(r[16])),
    )
