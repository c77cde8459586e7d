"""The interface every delivery transport implements: send one planned message, say how it went."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from alerts.batching import PlannedMessage
from alerts.models import Alert
from alerts.routing import Route


@dataclass
class Outgoing:
    """One message on its way: where it goes and the alerts it carries."""

    route: Route
    message: PlannedMessage
    alerts: list[Alert]
    channel_id: str = ""  # empty for a DM whose channel is not opened yet
    recipient_id: str = ""  # the Discord user id a DM goes to
    notice_user_id: int | None = None  # whose one-time notice the message carries
    # The earliest time an earlier send of this message may have been posted unanswered.
    ambiguous_since: datetime | None = None

    @property
    def alert_ids(self) -> list[int]:
        return [alert.pk for alert in self.alerts]


class Result(Enum):
    SENT = "sent"
    RATE_LIMITED = "rate limited"  # not an outcome: the message waits and goes again
    RETRY = "retry"  # temporary failure: back off in the outbox
    FAILED = "failed"  # permanent failure of this message
    INVALID = "invalid"  # Discord rejected our payload (a bug): fail it, log it
    DM_UNREACHABLE = "dm unreachable"  # the user's DMs are closed: skip their DM alerts
    CHANNEL_BROKEN = "channel broken"  # channel gone or no permission: use the users' DMs


@dataclass
class Outcome:
    result: Result
    message_id: str = ""
    error: str = ""
    retry_after: float = 0.0
    opened_channel_id: str = ""  # a DM channel opened on the way, to remember
    # RETRY only: the request may have reached Discord (no answer, or a 5xx to a post),
    # so the message may have been posted.
    ambiguous: bool = False


@dataclass
class TransportCounters:
    requests: int = 0
    rate_limited: Counter[str] = field(default_factory=Counter)  # 429s by scope

    def totals(self) -> tuple[int, int, int]:
        """(requests, global 429s, route 429s) so far: what DiscordHour rows add up."""
        limited = sum(self.rate_limited.values())
        return self.requests, self.rate_limited["global"], limited - self.rate_limited["global"]


class Transport(ABC):
    name: str = "transport"
    concurrency: int = 1
    # Whether its counters are requests to Discord, which the sender sums per hour (DiscordHour).
    talks_to_discord: bool = False

    def __init__(self) -> None:
        self.counters = TransportCounters()

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open connections; called once before the first send."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; called once when the sender stops."""

    def wait_for(self, outgoing: Outgoing) -> float:
        """Seconds before `outgoing` may be sent without being rate limited (0: now)."""
        return 0.0

    @abstractmethod
    async def send(self, outgoing: Outgoing) -> Outcome:
        """Send one message. Never raises for a delivery problem: the outcome says it."""
