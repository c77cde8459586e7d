"""The message bodies we post, checked against Discord's own OpenAPI description.

A real delivery to the emulator (a DM, and a shared channel whose embeds ping
their users): every body it received must be a valid `MessageCreateRequest`.
"""

from __future__ import annotations

import pytest

from alerts.sender import Sender
from alerts.transports import get_transport
from scraping.ingest import ingest_listings
from tests.alerts.conftest import open_dm
from tests.builders import listing, make_filter, make_user
from tests.emulators.spec import needs_spec, spec_problems
from users.services import set_destination

pytestmark = [pytest.mark.django_db, needs_spec]


def test_the_message_bodies_we_post_are_what_discord_describes(discord):
    emulator = discord()
    emulator.add_channel("777", guild_id="9")
    by_dm, in_channel = make_user(), [make_user(), make_user()]
    open_dm(emulator, by_dm)
    for user in [by_dm, *in_channel]:
        make_filter(user, f"Sacai for {user.username}", brands=["Sacai"])
    for user in in_channel:
        set_destination(user, "channel", "777", "9")
    ingest_listings(
        [
            listing(
                f"sacai ニット {n} — ドッキング 🧶", price=12000 + n, image_url="https://x.jp/1.jpg"
            )
            for n in range(12)
        ]
    )
    Sender(get_transport()).drain()

    assert len(emulator.received_payloads) >= 3  # DM messages and pinging channel messages
    assert any(body.get("allowed_mentions", {}).get("users") for body in emulator.received_payloads)
    for body in emulator.received_payloads:
        assert spec_problems("MessageCreateRequest", body) == []
