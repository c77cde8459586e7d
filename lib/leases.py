"""Take, renew, give up and read leases (`lib.models.Lease`): one holder per name.

A holder renews its lease before it runs out (a heartbeat); one that stops
renewing (it died or stalled) loses it after one lease, and the next taker gets it.
Taking is one conditional UPDATE, so two processes can never both hold a name.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from lib.models import Lease


def take_lease(name: str, owner: str, lease_seconds: float) -> bool:
    """Take, or renew, the lease `name` (e.g. "poller:rakuma"); False while another owner
    holds it unexpired."""
    now = timezone.now()
    until = now + timedelta(seconds=lease_seconds)
    free = Q(owner=owner) | Q(owner="") | Q(expires_at__isnull=True) | Q(expires_at__lte=now)
    if Lease.objects.filter(name=name).filter(free).update(owner=owner, expires_at=until):
        return True
    if Lease.objects.filter(name=name).exists():
        return False
    Lease.objects.bulk_create([Lease(name=name)], ignore_conflicts=True)
    return bool(Lease.objects.filter(name=name).filter(free).update(owner=owner, expires_at=until))


def give_up_lease(name: str, owner: str) -> int:
    return Lease.objects.filter(name=name, owner=owner).update(owner="", expires_at=None)


def lease_holder(name: str) -> str:
    """Who holds the lease `name` now; "" when nobody does or the lease ran out."""
    row = Lease.objects.filter(name=name, expires_at__gt=timezone.now()).exclude(owner="")
    return row.values_list("owner", flat=True).first() or ""
