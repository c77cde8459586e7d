"""Where, when and whether a claimed alert goes, from its user's delivery state: bans,
mutes, digests, a broken channel's fallback to DM, unreachable DMs. The order of
the decisions is told in docs/architecture.md (Routing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from alerts.outbox import BANNED
from users.models import User


@dataclass(frozen=True)
class Route:
    """A destination: a DM (keyed by user until its channel is known) or a server channel.

    The one key for a destination everywhere: the claim's grouping, the sender's
    queues and the dispatcher's turns."""

    kind: str  # "dm" or "channel"
    key: str  # user pk for a DM, channel id for a channel

    @classmethod
    def dm(cls, user_id: int) -> Route:
        return cls("dm", str(user_id))

    @classmethod
    def channel(cls, channel_id: str) -> Route:
        return cls("channel", channel_id)

    @classmethod
    def chosen_by(cls, user_id: int, destination_kind: str, channel_id: str) -> Route:
        """The destination the user chose (a broken channel still counts as theirs)."""
        if destination_kind == User.Destination.CHANNEL:
            return cls.channel(channel_id)
        return cls.dm(user_id)

    @property
    def is_dm(self) -> bool:
        return self.kind == "dm"


@dataclass(frozen=True)
class Decision:
    route: Route | None = None
    skip_reason: str = ""
    wait_until: datetime | None = None
    digest: bool = False


def next_digest_time(user, created_at: datetime) -> datetime:
    """When the digest that includes an alert created at `created_at` goes out."""
    local = timezone.localtime(created_at)
    if user.digest == user.Digest.HOURLY:
        return local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    at = local.replace(hour=settings.ALERTS_DAILY_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def unreachable_dm_reason(why: str) -> str:
    return f"Direct messages are unreachable: {why}"


def decide(alert, now: datetime) -> Decision:
    user = alert.user
    if user.is_banned:
        return Decision(skip_reason=BANNED)
    # A test alert was asked for just now: mute and digest do not hold it back.
    if user.muted_until and user.muted_until > now and not alert.is_test:
        until = timezone.localtime(user.muted_until).strftime("%Y-%m-%d %H:%M %Z")
        return Decision(skip_reason=f"Alerts were muted until {until}.")
    digest = user.digest != user.Digest.INSTANT and not alert.is_test
    if digest:
        due = next_digest_time(user, alert.created_at)
        if due > now:
            return Decision(wait_until=due)
    if user.destination_kind == user.Destination.CHANNEL and not user.channel_broken_reason:
        return Decision(route=Route.channel(user.destination_channel_id), digest=digest)
    if not user.discord_id:
        return Decision(skip_reason="No Discord account is linked to receive direct messages.")
    if user.dm_unreachable_reason:
        return Decision(skip_reason=unreachable_dm_reason(user.dm_unreachable_reason))
    return Decision(route=Route.dm(user.pk), digest=digest)
