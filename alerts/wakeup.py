"""Waking delivery when a scan stores alerts: the alerts side's part of a scan cycle.

The scanners know nothing of senders: a cycle is handed a waker (`AlertWaker`)
and tells it how many alerts each page stored.
"""

from __future__ import annotations

import time

from alerts.models import SenderStatus
from alerts.tasks import send_alerts_soon

# A cycle queues at most one send task this often; a live `sendalerts` needs none.
WAKE_GAP_SECONDS = 5.0


class AlertWaker:
    """Wakes delivery as soon as a page stores alerts.

    A live `sendalerts` polls every ALERTS_IDLE_SECONDS and finds them itself:
    while a sender that may send is live (its SenderStatus row; with Redis any
    number of them, without it the holder of the sending role) nothing is
    queued, so workers never drain beside the senders and crowd their claims. Otherwise a django-q2
    send task is queued, at most one every `gap` seconds; alerts stored in
    between are covered by the next `flush_due` (the pollers call it every
    heartbeat) or by `flush` at the end of a cycle. Alerts stay pending until a
    task is queued, so a task that was finishing its drain when they came is
    followed by another.
    """

    def __init__(self, gap: float = WAKE_GAP_SECONDS) -> None:
        self.gap = gap
        self.pending = 0
        self._last_try = -gap

    def stored(self, alerts: int) -> None:
        self.pending += alerts
        self.flush_due()

    def flush_due(self) -> None:
        if self.pending and time.monotonic() - self._last_try >= self.gap:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        self._last_try = time.monotonic()
        if SenderStatus.objects.sending().exists():
            return  # a sender is live (or a send task is draining): it will see them
        queued, self.pending = self.pending, 0
        send_alerts_soon(queued)
