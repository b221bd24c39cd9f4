"""Chat platforms: each package turns one platform into the core's `Adapter` contract,
and parses its own table of the config file. PLATFORMS is the one list of them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from adapters import console, discord, telegram
from bot.config import Config, SectionParser, load_config
from bot.ports import Adapter


class AdapterFactory(Protocol):
    """A platform's section (what its parser returned), the whole config, and whether
    this is a one-off run (`poll`) -> its adapter."""

    def __call__(self, section: Any, config: Config, *, one_off: bool) -> Adapter: ...


@dataclass(frozen=True, slots=True)
class Platform:
    """A platform's two parts: the parser of its table, `[name]`, that returns its
    section (None: off), and the factory that builds its adapter from that section."""

    parse_section: SectionParser
    build_adapter: AdapterFactory


# Every platform, by the name of its table and of its chats in the database. A new
# platform is a package in adapters/ and one line here.
PLATFORMS: dict[str, Platform] = {
    "telegram": Platform(telegram.parse_section, telegram.build_adapter),
    "discord": Platform(discord.parse_section, discord.build_adapter),
    "console": Platform(console.parse_section, console.build_adapter),
}


def section_parsers() -> dict[str, SectionParser]:
    """What `bot.config` reads the platforms' tables with."""
    return {name: platform.parse_section for name, platform in PLATFORMS.items()}


def load(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """The config file at `path`, with every platform's table."""
    return load_config(path, env, section_parsers())


def build_adapters(config: Config, *, one_off: bool = False) -> list[Adapter]:
    """The adapters of the platforms `config` turns on. A `one_off` run (`poll`) reads no
    commands from the terminal."""
    return [
        PLATFORMS[name].build_adapter(section, config, one_off=one_off)
        for name, section in config.sections().items()
    ]
