"""Delivery transports; `get_transport()` picks the one the settings call for."""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from alerts.transports.base import Destination, Transport, TransportError

__all__ = ["Destination", "Transport", "TransportError", "get_transport"]


def get_transport(console: TextIO | None = None) -> Transport:
    """The Discord transport when a bot token is set, else the console (printing to `console`)."""
    if settings.DISCORD_BOT_TOKEN:
        raise ImproperlyConfigured(
            "DISCORD_BOT_TOKEN is set but this build delivers to the console only; unset it to run."
        )
    from alerts.transports.console import ConsoleTransport

    return ConsoleTransport(console)
