"""What the Discord emulator answers, checked against Discord's own OpenAPI description.

Delivery and bot tests trust the emulator's answers; were they not what Discord
answers, our client could pass here and fail against discord.com. Every route
the emulator serves, in success and in the errors we handle, must match the
response schema the spec gives for it.
"""

from __future__ import annotations

import pytest

from tests.emulators.discord import APPLICATION_ID, DiscordEmulator, EmulatorConfig, RunningEmulator
from tests.emulators.spec import needs_spec, spec_problems
from tests.emulators.test_discord_emulator import call

pytestmark = needs_spec

EMBED = {
    "title": "Sacai ニット",
    "url": "https://jp.mercari.com/item/m1",
    "description": "<@42> · ¥12,000",
    "color": 0xFF0211,
    "image": {"url": "https://x.jp/1.jpg"},
    "fields": [{"name": "Filter", "value": "Sacai", "inline": True}],
    "footer": {"text": "Mercari"},
    "timestamp": "2026-12-02T06:00:00+00:00",
}
COMMAND = {"name": "filters", "description": "Your filters", "type": 1, "options": []}


@pytest.fixture
def running():
    emulator = DiscordEmulator(EmulatorConfig(global_limit=8))
    emulator.add_channel("10", guild_id="9")
    emulator.add_channel("11", can_send=False)
    with RunningEmulator(emulator) as running:
        yield running


def assert_matches(schema: str, body: object) -> None:
    assert spec_problems(schema, body) == [], body


def test_the_emulators_answers_on_success_are_what_discord_describes(running):
    status, me, _ = call(running, "GET", "/users/@me")
    assert status == 200 and me["bot"] is True
    assert_matches("UserPIIResponse", me)

    running.emulator.sign_in_as("42", "alice")  # who "Sign in with Discord" answers for
    assert_matches("UserPIIResponse", running.emulator.oauth_user)

    status, application, _ = call(running, "GET", "/oauth2/applications/@me")
    assert status == 200 and application["id"] == APPLICATION_ID
    assert_matches("PrivateApplicationResponse", application)

    status, dm, _ = call(running, "POST", "/users/@me/channels", {"recipient_id": "42"})
    assert status == 200 and [user["id"] for user in dm["recipients"]] == ["42"]
    assert_matches("PrivateChannelResponse", dm)

    body = {
        "content": "<@42> <@43>",
        "embeds": [EMBED],
        "allowed_mentions": {"parse": [], "users": ["42"]},
        "nonce": "n-1",
        "enforce_nonce": True,
    }
    status, message, _ = call(running, "POST", "/channels/10/messages", body)
    assert status == 200
    assert [user["id"] for user in message["mentions"]] == ["42"]  # 43 was not allowed a ping
    assert message["embeds"][0]["type"] == "rich" and message["nonce"] == "n-1"
    assert_matches("MessageResponse", message)
    status, again, _ = call(running, "POST", "/channels/10/messages", body)  # the nonce repeated
    assert status == 200 and again == message

    status, latest, _ = call(running, "GET", "/channels/10/messages?limit=5")
    assert status == 200 and [m["id"] for m in latest] == [message["id"]]
    assert "nonce" not in latest[0]  # Discord does not return nonces on messages read back
    for read in latest:
        assert_matches("MessageResponse", read)

    for path in (
        f"/applications/{APPLICATION_ID}/commands",
        f"/applications/{APPLICATION_ID}/guilds/9/commands",
    ):
        status, registered, _ = call(running, "PUT", path, [COMMAND])
        assert status == 200 and [c["name"] for c in registered] == ["filters"]
        for command in registered:
            assert_matches("ApplicationCommandResponse", command)


def test_the_emulators_errors_are_what_discord_describes(running):
    errors = {
        "wrong token": call(running, "GET", "/users/@me", token="wrong"),
        "unknown channel": call(running, "POST", "/channels/404/messages", {"content": "hi"}),
        "missing permissions": call(running, "POST", "/channels/11/messages", {"content": "hi"}),
        "empty message": call(running, "POST", "/channels/10/messages", {"content": ""}),
        "invalid form": call(running, "POST", "/channels/10/messages", {"content": "x" * 2001}),
    }
    assert {name: status for name, (status, _, _) in errors.items()} == {
        "wrong token": 401,
        "unknown channel": 404,
        "missing permissions": 403,
        "empty message": 400,
        "invalid form": 400,
    }
    for _, body, _ in errors.values():
        # The spec types a field error's code as an integer, but Discord sends a string
        # (BASE_TYPE_MAX_LENGTH): the envelope is checked against it, the fields by hand.
        assert_matches("ErrorResponse", {k: v for k, v in body.items() if k != "errors"})
    form = errors["invalid form"][1]
    assert form["code"] == 50035
    assert form["errors"] == {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        }
    }

    route = [call(running, "POST", "/channels/10/messages", {"content": f"{n}"}) for n in range(5)]
    refused = [(status, body) for status, body, _ in route if status == 429]
    assert refused and refused[0][1]["global"] is False  # the channel's 5 per 5 s
    assert_matches("RatelimitedResponse", refused[0][1])

    flood = [call(running, "GET", "/users/@me") for _ in range(8)]
    globally = [body for status, body, _ in flood if status == 429]
    assert globally and globally[0]["global"] is True  # the token's 8 a second here
    assert_matches("RatelimitedResponse", globally[0])
