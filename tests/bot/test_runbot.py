"""`manage.py runbot`: its command payload, and the process against the Discord API emulator."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from tests.emulators.discord import DiscordEmulator, RunningEmulator, command_problems
from tests.emulators.spec import needs_spec, spec_problems


def test_printed_commands_meet_discords_command_schema(run_command):
    status, out, _ = run_command("runbot", "--print-commands")
    assert status == 0
    commands = json.loads(out)
    assert [c["name"] for c in commands] == ["filter", "alerts", "help"]
    assert command_problems(commands) == {}
    filters = {o["name"]: o for o in commands[0]["options"]}
    assert set(filters) == {
        "create", "list", "show", "edit", "delete", "pause", "resume", "preview"
    }  # fmt: skip
    alerts = {o["name"] for o in commands[1]["options"]}
    assert alerts == {"dm", "channel", "status", "mute", "unmute", "digest", "test"}
    show_name = filters["show"]["options"][0]
    assert show_name["autocomplete"] is True
    market = next(o for o in filters["create"]["options"] if o["name"] == "market")
    assert [c["value"] for c in market["choices"]] == [
        "all", "mercari", "yahoo_auctions", "rakuma", "paypay_fleamarket"
    ]  # fmt: skip


def test_the_emulators_schema_check_catches_what_discord_refuses():
    bad = [
        {
            "name": "Filter",
            "description": "x" * 101,
            "options": [{"name": "a", "description": "ok"}] * 26,
        }
    ]
    assert set(command_problems(bad)) == {"0.name", "0.description", "0.options.options"}


def test_without_a_token_runbot_explains_how_to_get_one(manage_py):
    bot = manage_py("runbot", env={"DISCORD_BOT_TOKEN": ""})
    _, err = bot.communicate(timeout=60)
    assert bot.returncode != 0
    assert "DISCORD_BOT_TOKEN is not set" in err
    assert "https://discord.com/developers/applications" in err


@pytest.fixture
def emulator():
    emulator = DiscordEmulator()
    with RunningEmulator(emulator) as running:
        emulator.base_url = running.base_url
        yield emulator


def bot_env(emulator) -> dict[str, str]:
    return {"DISCORD_BOT_TOKEN": emulator.config.token, "DISCORD_API_BASE": emulator.base_url}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_runbot_logs_in_survives_an_unreachable_gateway_and_stops_on_sigterm(emulator, manage_py):
    bot = manage_py("runbot", env=bot_env(emulator))
    deadline = time.monotonic() + 60
    log = ""
    while "gateway unreachable" not in log and time.monotonic() < deadline:
        time.sleep(0.2)
        log += bot.stderr.readline() if bot.poll() is None else ""
    assert "logged in as alerts-bot" in log
    assert "gateway unreachable" in log
    assert bot.poll() is None  # still running
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    try:
        _, rest = bot.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        bot.kill()
        raise
    assert time.monotonic() - started < 10
    assert bot.returncode == 0, rest
    assert "runbot stopped" in rest


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sync_registers_the_commands_in_one_server(emulator, manage_py):
    bot = manage_py("runbot", "--sync", "--guild", "4242", env=bot_env(emulator))
    out, err = bot.communicate(timeout=60)
    assert bot.returncode == 0, err
    assert "registered 3 commands for server 4242" in out
    assert [c["name"] for c in emulator.commands["4242"]] == ["filter", "alerts", "help"]


def test_the_invite_url_asks_for_the_bot_and_command_scopes_and_three_permissions(
    run_command, settings
):
    settings.DISCORD_APPLICATION_ID = "1234"
    status, out, _ = run_command("runbot", "--invite-url")
    assert status == 0
    assert out.strip() == (
        "https://discord.com/oauth2/authorize?client_id=1234&scope=bot+applications.commands"
        "&permissions=19456"
    )


@needs_spec
def test_the_commands_are_valid_against_discords_own_openapi_description(run_command):
    status, out, _ = run_command("runbot", "--print-commands")
    assert status == 0
    for command in json.loads(out):
        assert spec_problems("ApplicationCommandCreateRequest", command) == [], command["name"]
