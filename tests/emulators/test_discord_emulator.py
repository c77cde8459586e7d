"""The Discord emulator enforces the limits delivery tests rely on."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from alerts.transports.discord import describe_form_errors
from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator


@pytest.fixture
def discord():
    emulator = DiscordEmulator(
        EmulatorConfig(closed_dm_users={"666"}, no_mutual_guild_users={"777"})
    )
    emulator.add_channel("10")
    emulator.add_channel("11", can_send=False)
    with RunningEmulator(emulator) as running:
        yield running


def call(running, method: str, path: str, body: dict | None = None, token: str = "test-token"):
    request = urllib.request.Request(
        running.base_url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bot {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read()), response.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def test_it_answers_the_bot_user_and_refuses_a_wrong_token(discord):
    assert call(discord, "GET", "/users/@me")[1]["bot"] is True
    status, _, headers = call(discord, "GET", "/users/@me", token="wrong")
    assert status == 401 and headers["Via"]
    assert discord.emulator.invalid_requests == 1


def test_channel_messages_are_limited_to_five_per_five_seconds_with_headers(discord):
    statuses = [
        call(discord, "POST", "/channels/10/messages", {"content": f"hi {n}"}) for n in range(6)
    ]
    assert [s for s, _, _ in statuses] == [200] * 5 + [429]
    assert statuses[0][2]["X-RateLimit-Limit"] == "5"
    assert statuses[4][2]["X-RateLimit-Remaining"] == "0"
    assert 4 < float(statuses[4][2]["X-RateLimit-Reset-After"]) <= 5
    _, body, headers = statuses[5]
    assert body["global"] is False and 4 < body["retry_after"] <= 5
    assert headers["X-RateLimit-Scope"] == "user" and headers["Retry-After"] == "5"
    assert len(discord.emulator.messages_in("10")) == 5


def test_more_than_fifty_requests_in_a_second_get_a_global_429(discord):
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(lambda _: call(discord, "GET", "/users/@me"), range(70)))
    limited = [(body, headers) for status, body, headers in results if status == 429]
    assert len(limited) >= 20
    body, headers = limited[0]
    assert body["global"] is True and 0 < body["retry_after"] <= 1
    assert headers["X-RateLimit-Global"] == "true"
    assert discord.emulator.rate_limited["global"] == len(limited)
    assert discord.emulator.max_requests_in_a_second == 50


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"content": "x" * 2001}, "content: Must be 2000 or fewer"),
        ({"embeds": [{"title": "t"}] * 11}, "embeds: Must be 10 or fewer"),
        ({"embeds": [{"title": "x" * 257}]}, "embeds.0.title: Must be 256 or fewer"),
        (
            {"embeds": [{"description": "x" * 4000}, {"description": "x" * 2001}]},
            "embeds: Embed size exceeds maximum size of 6000",
        ),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
            "embeds.0.fields.0.value: Must be 1024 or fewer",
        ),
        (
            {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
            "embeds.0.fields: Must be 25",
        ),
        ({"embeds": [{"footer": {"text": "f" * 2049}}]}, "embeds.0.footer.text: Must be 2048"),
        ({"content": "ok", "nonce": "n" * 26}, "nonce: Must be 25 or fewer"),
    ],
)
def test_messages_over_discords_limits_are_a_50035_saying_where(discord, payload, problem):
    status, body, _ = call(discord, "POST", "/channels/10/messages", payload)
    assert (status, body["code"]) == (400, 50035)
    assert problem in describe_form_errors(body["errors"])
    assert discord.emulator.messages == []


def test_an_empty_message_is_a_50006(discord):
    status, body, _ = call(discord, "POST", "/channels/10/messages", {"content": ""})
    assert (status, body["code"]) == (400, 50006)


def test_an_enforced_nonce_returns_the_first_message_instead_of_posting_again(discord):
    payload = {"content": "alert", "nonce": "a-123", "enforce_nonce": True}
    first = call(discord, "POST", "/channels/10/messages", payload)[1]
    again = call(discord, "POST", "/channels/10/messages", payload)[1]
    assert again["id"] == first["id"]
    assert len(discord.emulator.messages) == 1


def test_unknown_channels_missing_permissions_and_closed_dms_have_their_codes(discord):
    assert call(discord, "POST", "/channels/99/messages", {"content": "x"})[1]["code"] == 10003
    assert call(discord, "POST", "/channels/11/messages", {"content": "x"})[1]["code"] == 50013
    for user, code in (("666", 50007), ("777", 50278)):
        dm = call(discord, "POST", "/users/@me/channels", {"recipient_id": user})[1]
        assert (
            call(discord, "POST", f"/channels/{dm['id']}/messages", {"content": "x"})[1]["code"]
            == code
        )


def test_a_dm_channel_is_opened_once_per_user_and_opening_fast_is_refused(discord):
    first = call(discord, "POST", "/users/@me/channels", {"recipient_id": "1"})[1]
    assert (
        call(discord, "POST", "/users/@me/channels", {"recipient_id": "1"})[1]["id"] == first["id"]
    )
    codes = [
        call(discord, "POST", "/users/@me/channels", {"recipient_id": str(n)})[1].get("code")
        for n in range(2, 8)
    ]
    assert 40003 in codes


def test_latency_is_added_to_every_request():
    emulator = DiscordEmulator(EmulatorConfig(latency=(0.05, 0.06)))
    with RunningEmulator(emulator) as running:
        started = time.monotonic()
        for _ in range(5):
            call(running, "GET", "/users/@me")
        assert time.monotonic() - started >= 0.25


def test_run_by_hand_on_a_port_in_use_it_says_so_in_one_line():
    import socket
    import subprocess
    import sys

    from tests.conftest import ROOT

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "tests.emulators.discord", "--port", str(port)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert done.stdout == ""  # it did not announce itself first
    assert done.stderr.strip() == (
        f"port {port} is in use: stop what runs there, or choose another --port"
    )
