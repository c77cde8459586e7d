"""django-q2 task functions of the alerts app."""

from __future__ import annotations

from alerts.sender import Sender
from alerts.transports import get_transport


def send_due_alerts() -> str:
    """Send every alert due now: queued after each scan's matching, and run by the
    digest schedule at the top of every hour."""
    return Sender(get_transport()).drain().summary()
