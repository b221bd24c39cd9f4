"""The command spec and what is derived from it: /help's lines, the menu descriptions, the
core's admin check and private answers, and a new command added by a spec entry and a
handler alone."""

from __future__ import annotations

import re

from bot.chat import spec
from bot.chat.commands import Commands
from bot.chat.spec import COMMANDS, CommandSpec, HelpLine, Param, Words
from bot.store import Storage
from testing.fake_adapter import FakeAdapter

REGIONS_PARAM = Param(
    "region", "regions", Words("Regions", "Regiones"), Words("regions", "regiones"), "región"
)
CHANNEL_PARAM = Param(
    "channel", "channel", Words("A channel", "Un canal"), Words("channel", "canal")
)
COUNT_PARAM = Param("count", "count", Words("How many", "Cuántos"), Words("n", "n"), optional=False)


def test_usage_writes_the_typed_parameters_and_leaves_out_a_channel() -> None:
    command = CommandSpec(
        "pick", Words("Pick", "Elegir"), (COUNT_PARAM, REGIONS_PARAM, CHANNEL_PARAM)
    )
    assert command.usage("en") == "N [regions]"
    assert command.usage("es") == "N [regiones]"
    assert CommandSpec("quiet", Words("Quiet", "Silencio")).usage("en") == ""


def test_the_menu_description_says_how_to_call_a_command_that_takes_something() -> None:
    pick = CommandSpec("pick", Words("Pick some", "Elegir"), (REGIONS_PARAM, CHANNEL_PARAM))
    assert pick.menu_description("en") == "Pick some: /pick [regions]"
    assert pick.menu_description("es") == "Elegir: /pick [regiones]"
    only_channel = CommandSpec("stop", Words("Stop", "Parar"), (CHANNEL_PARAM,))
    assert only_channel.menu_description("es") == "Parar"


def test_help_lines_come_from_the_usage_and_description_unless_given() -> None:
    pick = CommandSpec("pick", Words("Pick some", "Elegir"), (REGIONS_PARAM,))
    assert pick.help_lines("en") == ["/pick [regions] - Pick some"]
    given = CommandSpec(
        "pick",
        Words("Pick some", "Elegir"),
        (REGIONS_PARAM,),
        help=(
            HelpLine(Words("at most {max}", "como mucho {max}")),
            HelpLine(Words("all", "todas"), args=Words("", "")),
        ),
    )
    assert given.help_lines("es") == [
        f"/pick [regiones] - como mucho {spec.MAX_COUNT}",
        "/pick - todas",
    ]
    assert CommandSpec("hidden", Words("Hidden", "Oculto"), help=()).help_lines("en") == []


def test_the_help_lines_of_the_bots_commands() -> None:
    assert spec.help_lines("en") == [
        "/help - this text",
        "/latest [n] [region] - the newest n headlines (default 5, at most 20)",
        "/region - the regions, with how many headlines each had this week",
        "/region NAME - the newest headlines of one region (world: those of none)",
        "/subscribe [regions] - this chat receives new headlines (of those regions)",
        "/subscribe topics - a group with topics gets one topic per region (admins)",
        "/unsubscribe - this chat stops receiving headlines",
        "/unsubscribe topics - the region topics stop receiving",
        "/digest daily HH:MM [ZONE] - one message a day with the new headlines, at that time "
        "(IANA zone, e.g. Europe/Madrid; remembered)",
        "/digest hourly | weekly DAY HH:MM [ZONE] - the same, every hour or once a week",
        "/digest off - each headline as it comes again (/digest alone: the current setting)",
        "/filter - this chat's keyword filter",
        "/filter +word -word - only headlines with a + word (if any) and no - word; "
        '"quoted phrases" too',
        "/filter clear - remove the filter (or the terms named)",
        '/search WORDS [region] - the newest headlines with all those words ("a phrase" in quotes)',
    ]
    assert spec.help_lines("es")[-7:-4] == [
        "/digest diario HH:MM [ZONA] - un mensaje al día con los titulares nuevos, a esa hora "
        "(zona IANA, p. ej. Europe/Madrid; se recuerda)",
        "/digest hourly | semanal DÍA HH:MM [ZONA] - lo mismo, cada hora o una vez por semana",
        "/digest off - de nuevo cada titular al llegar (/digest solo: lo que hay ahora)",
    ]
    assert spec.help_lines("es")[1] == (
        "/latest [n] [región] - los n titulares más recientes (5 por defecto, como mucho 20)"
    )


def test_names_and_texts_fit_both_platforms() -> None:
    # Telegram: names of 1-32 of a-z, 0-9 and _, descriptions of 3-256 characters.
    # Discord: names (commands and options) of 1-32 lowercase, descriptions of 1-100.
    name = re.compile(r"^[a-z0-9_]{1,32}$")
    assert len({c.name for c in COMMANDS}) == len(COMMANDS)
    for command in COMMANDS:
        assert name.match(command.name), command.name
        for language in ("en", "es"):
            assert 3 <= len(command.menu_description(language)) <= 256
            assert 1 <= len(command.description.get(language)) <= 100
            for param in command.params:
                assert 1 <= len(param.description.get(language)) <= 100
        for param in command.params:
            for option in (param.name, param.spanish_name):
                assert option == option.lower() and 1 <= len(option) <= 32 and " " not in option
    assert spec.find("latest") is COMMANDS[2] and spec.find("nope") is None


async def test_a_command_added_to_the_spec_is_in_help_and_answered(
    storage: Storage, extra_commands: type[Commands]
) -> None:
    chat = FakeAdapter()
    await chat.start(extra_commands(storage, ("World",)).handle)
    help_en = (await chat.command("/help")).text
    assert "/echo [region] - Says a region back" in help_en.splitlines()
    assert "/wipe - Forget this chat" in help_en.splitlines()
    assert "/echo [región] - Repite una región" in (await chat.command("/help", lang="es")).text
    echo = await chat.command("/echo asia")
    assert echo.text == "echo: Asia" and not echo.private and not echo.error


async def test_admin_only_and_private_come_from_the_spec(
    storage: Storage, extra_commands: type[Commands]
) -> None:
    chat = FakeAdapter()
    await chat.start(extra_commands(storage).handle)
    refused = await chat.command("/wipe", admin=False)
    assert refused.error and refused.private and refused.text.startswith("Sorry, only admin")
    done = await chat.command("/wipe")
    assert done.text == "wiped" and done.private and not done.error
    # The bot's own: /unsubscribe is refused to others and answered privately.
    assert (await chat.command("/unsubscribe", admin=False)).text.startswith("Sorry, only")
    assert (await chat.command("/unsubscribe")).private


def test_every_command_in_the_spec_has_a_handler() -> None:
    assert [c.name for c in COMMANDS if not hasattr(Commands, f"_{c.name}")] == []
