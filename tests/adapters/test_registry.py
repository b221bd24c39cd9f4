"""adapters.PLATFORMS is the one place that names the platforms: a platform registered
there has its table read and checked, its secrets masked, its destinations synced and its
adapter built, with nothing in bot/ knowing its name."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import adapters
from adapters import Platform, build_adapters
from bot.app import HeadlinesBot
from bot.cli.main import main
from bot.config import Config, ConfigError, DestinationConfig, PlatformTable, secret_field
from testing.fake_adapter import FakeAdapter

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "carrier-pigeon-password"


@dataclass(frozen=True, slots=True)
class PigeonConfig:
    password: str = secret_field()
    loft: int = 3
    destinations: tuple[DestinationConfig, ...] = ()


def parse_pigeon(t: PlatformTable) -> PigeonConfig:
    default = PigeonConfig(password="")
    config = PigeonConfig(
        password=t.secret("password", "HEADLINES_PIGEON_PASSWORD"),
        loft=t.int("loft", default.loft, limits=(1, 9)),
        destinations=t.destinations(lambda d: d.str("coop", required=True)),
    )
    t.done()
    return config


def build_pigeon(section: PigeonConfig, config: Config, *, one_off: bool) -> FakeAdapter:
    return FakeAdapter(platform="pigeon")


@pytest.fixture
def pigeons(monkeypatch: pytest.MonkeyPatch) -> None:
    """A platform for as long as the test runs: one registry line, as a new folder adds."""
    monkeypatch.setitem(adapters.PLATFORMS, "pigeon", Platform(parse_pigeon, build_pigeon))


def write(tmp_path: Path, pigeon: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'database = "bot.db"\n[[feeds]]\nname = "World"\nurl = "http://127.0.0.1:9/"\n{pigeon}'
    )
    return path


GOOD = f"""[pigeon]
password = "{PASSWORD}"
loft = 5
[[pigeon.destinations]]
coop = "north"
regions = ["asia"]
"""


async def test_a_registered_platform_is_read_built_and_synced(
    pigeons: None, tmp_path: Path
) -> None:
    config = adapters.load(write(tmp_path, GOOD), env={})
    north = DestinationConfig("north", ("Asia",))
    assert config.platforms["pigeon"] == PigeonConfig(PASSWORD, 5, (north,))
    assert config.destinations()["pigeon"] == (north,)
    assert config.destinations()["telegram"] == ()  # listed, so that it stops receiving
    built = build_adapters(config)
    assert [(type(a), a.platform) for a in built] == [(FakeAdapter, "pigeon")]

    bot = HeadlinesBot(config, built)
    await bot.open(sender=False)
    try:
        [destination] = await bot.storage.destinations()
    finally:
        await bot.stop()
    assert (destination.chat.platform, destination.chat.chat_id) == ("pigeon", "north")
    assert destination.from_config and destination.regions == ("Asia",)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("[pigeon]\n", "pigeon.password: missing: set it here or in the environment as "),
        ("[pigeon]\npassword = 'p'\nloft = 10\n", "pigeon.loft: must be at most 9, got 10"),
        ("[pigeon]\npassword = 'p'\n[[pigeon.destinations]]\n", "pigeon.destinations[0].coop"),
        ("[pigeon]\npassword = 'p'\nlofts = 1\n", "pigeon.lofts: unknown key"),
    ],
)
def test_a_registered_platforms_errors_name_its_keys(
    pigeons: None, tmp_path: Path, table: str, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        adapters.load(write(tmp_path, table), env={})
    assert str(caught.value).startswith(message)


def test_a_platform_not_registered_is_an_unknown_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^pigeon: unknown key"):
        adapters.load(write(tmp_path, GOOD), env={})


def test_check_config_masks_the_fields_a_platform_marks_secret(
    pigeons: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check-config", "--config", str(write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "pigeon destination north: Asia\n" in out
    assert f"pigeon: password set (carr…{len(PASSWORD)} characters)\n" in out
    assert PASSWORD not in out


def test_check_config_masks_the_platform_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEADLINES_TELEGRAM_TOKEN", "123456:telegram-secret")
    tables = '[telegram]\n[discord]\ntoken = "short"\n[console]\nenabled = true\n'
    assert main(["check-config", "--config", str(write(tmp_path, tables))]) == 0
    out = capsys.readouterr().out
    assert "telegram: token set (1234…22 characters)\ndiscord: token set (***)\n" in out
    assert "console destination stdout: all regions\n" in out
    assert "telegram-secret" not in out and "short" not in out


def test_only_the_command_line_imports_adapters() -> None:
    """The core knows no platform: bot/cli is where the platforms and the core meet."""
    importers = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path.parent.name == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name.split(".")[0] == "adapters" for name in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == []
