"""Delivery to standard output: the embedded run's transport when no Discord token is set."""

from __future__ import annotations

import sys
from io import TextIOBase
from typing import TextIO

from alerts.models import Alert
from alerts.transports.base import Outcome, Outgoing, Result, Transport
from lib.formatting import format_price, market_label


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

    def __init__(self, stream: TextIO | TextIOBase | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stdout

    async def send(self, outgoing: Outgoing) -> Outcome:
        if outgoing.message.notice:
            self.stream.write(f"── note: {outgoing.message.notice}\n")
        for alert in outgoing.alerts:
            self.stream.write(render(alert) + "\n\n")
        self.stream.flush()
        self.counters.requests += 1
        return Outcome(Result.SENT, message_id=f"console-{outgoing.alerts[0].pk}")
