from __future__ import annotations

import pytest

from alerts.transports import Outcome, Outgoing, Result, Transport
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user


class FlakyTransport(Transport):
    """A transport standing in for an unreachable outside service: answers the outcomes
    (or raises the exceptions) it is given, then sends; records what it sent."""

    name = "flaky"

    def __init__(self, outcomes: list[Outcome | Exception] | None = None) -> None:
        super().__init__()
        self.outcomes = list(outcomes or [])
        self.delivered: list[Outgoing] = []

    async def send(self, outgoing: Outgoing) -> Outcome:
        self.counters.requests += 1
        if self.outcomes:
            outcome = self.outcomes.pop(0)
            if isinstance(outcome, Exception):
                raise outcome
            return outcome
        self.delivered.append(outgoing)
        return Outcome(Result.SENT, message_id=f"msg-{outgoing.alerts[0].pk}")


@pytest.fixture
def queued_alerts():
    """`count` pending alerts, one per listing, for one user with a Sacai filter."""

    def make(count: int, user=None):
        user = user or make_user()
        make_filter(user, brands=["Sacai"])
        ingest_listings([listing(f"sacai item {n}") for n in range(count)])
        return user

    return make


@pytest.fixture
def discord(settings):
    """Start the Discord API emulator (EmulatorConfig fields as keywords) and point delivery at it."""
    from contextlib import ExitStack

    from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator

    with ExitStack() as stack:

        def start(**config):
            emulator = DiscordEmulator(EmulatorConfig(**config))
            running = stack.enter_context(RunningEmulator(emulator))
            emulator.base_url = running.base_url
            settings.DISCORD_BOT_TOKEN = emulator.config.token
            settings.DISCORD_API_BASE = running.base_url
            settings.DISCORD_DM_OPENS_PER_SECOND = 4.0
            return emulator

        yield start


def open_dm(emulator, user) -> None:
    """Give the user a DM channel that was opened before (the usual case)."""
    user.dm_channel_id = emulator.add_dm(user.discord_id)
    user.save(update_fields=["dm_channel_id"])


def posted_urls(emulator) -> list[str]:
    """The listing URL of every alert embed Discord accepted, in order."""
    return [embed["url"] for message in emulator.messages for embed in message["embeds"]]
