"""Delivery to standard output: the embedded run's transport when no Discord token is set."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from alerts.formatting import format_price, market_label
from alerts.models import Alert
from alerts.transports.base import Destination, Transport


def render(alert: Alert) -> str:
    listing = alert.listing
    lines = [
        f"── alert for {alert.user.username} ({alert.user.destination_label}) ──",
        f"  filters: {', '.join(alert.filter_names)}",
        f"  {listing.title}",
        f"  {format_price(listing.price)} · {market_label(listing.market)}",
        f"  {listing.url}",
    ]
    return "\n".join(lines)


class ConsoleTransport(Transport):
    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def deliver(self, destination: Destination, alerts: Sequence[Alert]) -> dict[int, str]:
        for alert in alerts:
            self.stream.write(render(alert) + "\n\n")
        self.stream.flush()
        return {alert.pk: f"console-{alert.pk}" for alert in alerts}
