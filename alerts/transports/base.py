"""The interface every delivery transport implements, and its two kinds of failure."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.models import Alert


class TransportError(Exception):
    """Delivery failed. `permanent` errors are not retried; temporary ones back off and retry."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class Destination:
    """Where a user's alerts go: their DM, or a channel of a server."""

    kind: str
    channel_id: str = ""
    guild_id: str = ""

    @classmethod
    def of(cls, user) -> Destination:
        if user.destination_kind == "channel":
            return cls("channel", user.destination_channel_id, user.destination_guild_id)
        return cls("dm", f"user:{user.pk}")


class Transport(ABC):
    name: str = "transport"

    @abstractmethod
    def deliver(self, destination: Destination, alerts: Sequence[Alert]) -> dict[int, str]:
        """Send the alerts (same destination) and return {alert id: delivered message id}.

        Alerts missing from the result were not sent and stay pending. Raise
        TransportError when the whole delivery failed.
        """

    def close(self) -> None:
        """Release connections; called once when the sender stops."""
        return None
