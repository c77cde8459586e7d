"""`manage.py sendalerts`: the long-running sender of the alert outbox.

Runs the Sender until SIGTERM or Ctrl-C, which lets the requests in flight
finish, gives back unsent leases and exits. Logs progress every few seconds
while busy; renews its leases every ALERTS_HEARTBEAT_SECONDS; waits out a
database error instead of exiting. `--drain` sends everything due, including
what a dead sender held (taken over when its leases lapse), and exits. Without
Redis only one sender per bot token sends; another waits for its turn.
"""

from __future__ import annotations

import logging
import threading

from django.core.management.base import BaseCommand

from alerts.sender import Sender
from alerts.transports import get_transport
from lib.processes import stop_on_signals

log = logging.getLogger("alerts.sendalerts")


class Command(BaseCommand):
    help = "Send pending alerts; --drain sends what is due and exits."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--drain", action="store_true", help="send everything due, then exit")
        parser.add_argument("--idle", type=float, default=None, help="seconds to sleep when idle")

    def handle(self, *args, drain: bool = False, idle: float | None = None, **options) -> None:
        stopping = threading.Event()

        stop_on_signals(stopping, log, "finishing the requests in flight")

        sender = Sender(get_transport(console=self.stdout))
        log.info("sendalerts started (%s transport)", sender.transport.name)
        stats = sender.run(stopping, drain=drain, idle=idle)
        self.stdout.write(f"sendalerts done: {stats.summary()}")
