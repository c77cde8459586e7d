"""Delivery transports; `get_transport()` picks the one the settings call for."""

from __future__ import annotations

from io import TextIOBase
from typing import TextIO

from django.conf import settings

from alerts.transports.base import Outcome, Outgoing, Result, Transport

__all__ = ["Outcome", "Outgoing", "Result", "Transport", "get_transport"]


def get_transport(console: TextIO | TextIOBase | None = None) -> Transport:
    """The Discord transport when a bot token is set, else the console (printing to `console`)."""
    if settings.DISCORD_BOT_TOKEN:
        from alerts.transports.discord import DiscordTransport

        return DiscordTransport()
    from alerts.transports.console import ConsoleTransport

    return ConsoleTransport(console)
