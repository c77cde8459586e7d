"""django-q2 task functions of the alerts app: the send queued after a scan, the hourly
digests and the alert sweep.

A task drains only while no sender is live, and without Redis only as the holder
of the sending role (alerts/roles.py); the sweep sends what a lost task
stranded. The rules: docs/architecture.md (One sender per token without Redis,
The alert sweep).
"""

from __future__ import annotations

from django_q.tasks import async_task

from alerts import roles
from alerts.models import SenderStatus
from alerts.sender import Sender
from alerts.transports import get_transport

SENDER_RUNNING = "sendalerts is running: it sends what is due"
SWEEP_NOT_NEEDED = "a live sender is sending: nothing to sweep"


def send_alerts_soon(queued: int) -> None:
    """Wake a worker to send what a scan queued, instead of waiting for a sendalerts poll."""
    if queued:
        async_task("alerts.tasks.send_due_alerts", task_name="send alerts after a scan")


def send_due_alerts() -> str:
    """Send every alert due now: queued after each scan's matching, and run by the
    digest schedule at the top of every hour.

    Beside a live sender that may send it does nothing: that sender finds the due
    alerts itself, digests whose hour came included, and a drain beside it would
    only hold a worker and queue on the claims.
    """
    if SenderStatus.objects.sending().exists():
        return SENDER_RUNNING
    sender = Sender(get_transport())
    if sender.exclusive and not roles.take_role(sender.owner, sender.lease_seconds):
        return SENDER_RUNNING
    return sender.drain().summary()


def sweep_outbox() -> str:
    """Every minute: send what is due unless a live sender is at it already.

    A live sender that may send (one with the sending role, or any with Redis) finds
    every due alert itself, so the sweep returns at once; with Redis this also keeps a
    sweep from taking a worker the scans need while `sendalerts` drains a backlog.
    """
    if SenderStatus.objects.sending().exists():
        return SWEEP_NOT_NEEDED
    return send_due_alerts()
