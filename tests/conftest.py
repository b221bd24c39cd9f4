"""Shared fixtures: a real SQLite file per test, and the shared test corpus location."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import Storage

# As bot.cli does: python-telegram-bot then gives retry_after as a timedelta, unwarned.
os.environ.setdefault("PTB_TIMEDELTA", "1")

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[Storage]:
    store = await Storage.open(tmp_path / "bot.db")
    try:
        yield store
    finally:
        await store.close()
