"""One sending step: claim due alerts, deliver them per destination, settle each outcome."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings

from alerts import outbox
from alerts.models import Alert
from alerts.transports import Destination, Transport, TransportError

log = logging.getLogger(__name__)


@dataclass
class SendStats:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0

    def summary(self) -> str:
        return f"sent {self.sent}, retrying {self.retrying}, failed {self.failed}, skipped {self.skipped}"


class Sender:
    def __init__(
        self, transport: Transport, batch_size: int | None = None, owner: str | None = None
    ) -> None:
        self.transport = transport
        self.batch_size = batch_size or settings.ALERTS_BATCH_SIZE
        self.owner = owner or outbox.new_lease_owner()
        self.stats = SendStats()

    def step(self) -> bool:
        """Send one batch; return whether a full batch was claimed (more may be waiting)."""
        claimed = outbox.claim_due(self.owner, self.batch_size)
        by_destination: dict[Destination, list[Alert]] = defaultdict(list)
        banned = [alert.pk for alert in claimed if alert.user.is_banned]
        self.stats.skipped += outbox.mark_skipped(self.owner, banned, outbox.BANNED)
        for alert in claimed:
            if not alert.user.is_banned:
                by_destination[Destination.of(alert.user)].append(alert)
        for destination, alerts in by_destination.items():
            self._deliver(destination, alerts)
        return len(claimed) >= self.batch_size

    def _deliver(self, destination: Destination, alerts: list[Alert]) -> None:
        try:
            delivered = self.transport.deliver(destination, alerts)
        except TransportError as error:
            ids = [a.pk for a in alerts]
            if error.permanent:
                log.warning("permanent delivery failure to %s: %s", destination, error.message)
                self.stats.failed += outbox.mark_failed(self.owner, ids, error.message)
            else:
                log.info("temporary delivery failure to %s: %s", destination, error.message)
                self._retry(alerts, error.message)
            return
        except Exception as error:
            # A bug in a transport must neither stop the sender nor loop forever on
            # one alert: it backs off like a temporary failure and ends as failed.
            log.exception("unexpected error delivering to %s", destination)
            self._retry(alerts, f"unexpected error: {error!r}")
            return
        by_message: dict[str, list[int]] = defaultdict(list)
        for alert_id, message_id in delivered.items():
            by_message[message_id].append(alert_id)
        for message_id, ids in by_message.items():
            self.stats.sent += outbox.mark_sent(self.owner, ids, message_id)

    def _retry(self, alerts: list[Alert], error: str) -> None:
        retrying, failed = outbox.mark_retry(self.owner, alerts, error)
        self.stats.retrying += retrying
        self.stats.failed += failed

    def drain(self) -> SendStats:
        """Send until nothing is due."""
        while self.step():
            pass
        return self.stats

    def stop(self) -> None:
        outbox.release(self.owner)
        self.transport.close()
