"""The sending role: without Redis, exactly one sender process sends for a bot token.

Each process without Redis paces its own share of Discord's global budget, so
two senders for one token would together go over it. The role is one
`SenderRole` row per token (keyed by a hash of the token, never the token),
leased and renewed by the holder's heartbeat like its alerts; a holder that
stops renewing loses it after one lease. `sendalerts` takes it and keeps it;
the task queued after a scan sends only when nobody holds it. With Redis the
budget is shared and the role is not used.

The same lease rows serve other one-holder roles: each market's poller
(`scraping.pollers`) holds "poller:<market>" (`take_lease`).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from alerts.models import SenderRole


def role_name() -> str:
    """The role's key: one per bot token (a hash, never the token), or the console."""
    token = settings.DISCORD_BOT_TOKEN
    if not token:
        return "console"
    return "discord:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def take_role(owner: str, lease_seconds: float | None = None) -> bool:
    """Take, or keep, the sending role for the bot token; False while another live sender has it.

    Called again by the holder's heartbeat to renew it; a holder that stops
    renewing loses it after one lease.
    """
    return take_lease(role_name(), owner, lease_seconds or settings.ALERTS_LEASE_SECONDS)


def give_up_role(owner: str) -> int:
    return give_up_lease(role_name(), owner)


def take_lease(name: str, owner: str, lease_seconds: float) -> bool:
    """Take, or renew, the lease `name` (any one-holder role, e.g. "poller:rakuma"); False while
    another owner holds it unexpired."""
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    free = Q(owner=owner) | Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lte=now)
    if SenderRole.objects.filter(name=name).filter(free).update(owner=owner, expires_at=until):
        return True
    if SenderRole.objects.filter(name=name).exists():
        return False
    SenderRole.objects.bulk_create([SenderRole(name=name)], ignore_conflicts=True)
    return bool(
        SenderRole.objects.filter(name=name).filter(free).update(owner=owner, expires_at=until)
    )


def give_up_lease(name: str, owner: str) -> int:
    return SenderRole.objects.filter(name=name, owner=owner).update(owner="", expires_at=None)


def lease_holder(name: str) -> str:
    """Who holds the lease `name` now; "" when nobody does or the lease ran out."""
    row = SenderRole.objects.filter(name=name, expires_at__gt=timezone.now()).exclude(owner="")
    return row.values_list("owner", flat=True).first() or ""
