"""django-q2 task functions of the alerts app.

Without Redis each process paces its own share of Discord's budget, so exactly
one process sends for a bot token: the holder of the sender role (see
`alerts.roles.take_role`). When a live `sendalerts` holds it, the task sends
nothing: that sender polls every ALERTS_IDLE_SECONDS and finds the new alerts
itself. When no sender is alive (a deployment without `sendalerts`), the task
takes the role and drains. With Redis the budget is shared, yet the task still
drains only while no sender is live (`SenderStatus.objects.sending()`): a live
one finds every due alert itself.

The task queued after a scan is a wake-up call, not the guarantee: django-q2's
Redis broker does not hand out again a task lost with its worker. The outbox
keeps the alerts, and the "alert sweep" schedule (migration 0008) runs
`sweep_outbox` every minute to send whatever such a loss stranded.
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
    only hold a worker and queue on the claims (the load test saw the hourly run
    drain a backlog beside two senders until django-q2's timeout stopped it).
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
