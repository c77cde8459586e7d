"""`manage.py sendalerts`: the long-running sender of the alert outbox.

Loops over Sender.step(), sleeping briefly when nothing is due. SIGTERM or
Ctrl-C lets the batch in flight finish, gives back unsent leases and exits.
`--drain` sends everything due and exits.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand

from alerts.models import Alert
from alerts.sender import Sender
from alerts.transports import get_transport

log = logging.getLogger("alerts.sendalerts")
PROGRESS_EVERY_SECONDS = 5.0


class Command(BaseCommand):
    help = "Send pending alerts; --drain sends what is due and exits."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--drain", action="store_true", help="send everything due, then exit")
        parser.add_argument("--idle", type=float, default=None, help="seconds to sleep when idle")

    def handle(self, *args, drain: bool = False, idle: float | None = None, **options) -> None:
        from django.conf import settings

        idle = settings.ALERTS_IDLE_SECONDS if idle is None else idle
        stopping = threading.Event()

        def request_stop(signum, frame) -> None:
            log.info("received %s, finishing the batch in flight", signal.Signals(signum).name)
            stopping.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)

        sender = Sender(get_transport(console=self.stdout))
        log.info("sendalerts started (%s transport)", sender.transport.name)
        last_report = time.monotonic()
        reported = sender.stats.summary()
        try:
            while not stopping.is_set():
                more = sender.step()
                if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                    summary = sender.stats.summary()
                    if summary != reported:
                        pending = Alert.objects.filter(status=Alert.Status.PENDING).count()
                        log.info("%s, pending %d", summary, pending)
                        reported = summary
                    last_report = time.monotonic()
                if not more:
                    if drain:
                        break
                    stopping.wait(idle)
        finally:
            sender.stop()
        self.stdout.write(f"sendalerts done: {sender.stats.summary()}")
