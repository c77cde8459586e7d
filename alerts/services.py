"""Reads and writes about a user's alerts for the doors: their delivery status, a test alert."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from alerts import outbox
from alerts.models import Alert
from lib.markets import Market
from listings.models import Listing
from users.models import User
from users.services import check_not_banned

TEST_TITLE = "Test alert · Sacai ドッキング ニット (a sample listing)"


@dataclass
class DeliveryStatus:
    destination: str
    muted_until: datetime | None
    digest: str
    pending: int
    sent: int
    failed: int
    skipped: int
    last_sent_at: datetime | None
    problem: str  # what stops delivery now, in words, or ""


def delivery_status(user: User) -> DeliveryStatus:
    counts = dict(
        Alert.objects.filter(user=user)
        .values("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    last = Alert.objects.filter(user=user, status=Alert.Status.SENT).order_by("-sent_at").first()
    problem = ""
    if user.dm_unreachable_reason:
        problem = f"Your DMs can't be reached: {user.dm_unreachable_reason}."
    elif user.channel_broken_reason:
        problem = (
            f"Your channel can't be used ({user.channel_broken_reason}); alerts go to your DMs."
        )
    else:
        failed = Alert.objects.filter(user=user, status=Alert.Status.FAILED).order_by("-id").first()
        if failed is not None:
            problem = f"The last failed alert: {failed.last_error}"
    muted = user.muted_until if user.muted_until and user.muted_until > timezone.now() else None
    return DeliveryStatus(
        destination=user.destination_label,
        muted_until=muted,
        digest=user.get_digest_display(),
        pending=counts.get(Alert.Status.PENDING, 0),
        sent=counts.get(Alert.Status.SENT, 0),
        failed=counts.get(Alert.Status.FAILED, 0),
        skipped=counts.get(Alert.Status.SKIPPED, 0),
        last_sent_at=last.sent_at if last else None,
        problem=problem,
    )


def delivery_health(user: User, status: DeliveryStatus) -> tuple[bool, str]:
    """(all well?, one plain sentence) about delivery, for the dashboard: what to do, if anything."""
    if user.is_banned:
        return False, "Your account is suspended, so no alerts are sent. Contact the moderators."
    if user.dm_unreachable_reason:
        return False, (
            "Your DMs are closed — open them (allow direct messages from members of a server "
            "we share) or choose a channel with /alerts channel in Discord."
        )
    if user.channel_broken_reason:
        return False, (
            "Your channel can't be used, so your alerts come by DM — choose it again with "
            "/alerts channel once it is fixed."
        )
    if status.problem:
        return False, status.problem
    if status.muted_until:
        return True, "Your alerts are muted, so they are skipped until the mute ends."
    if status.last_sent_at:
        return True, f"Delivery is working: your alerts go to your {status.destination}."
    return (
        True,
        f"Nothing has been delivered yet; your alerts will go to your {status.destination}.",
    )


def queue_test_alert(user: User) -> Alert:
    """Queue one sample alert for the user; the sender delivers it like any other, at once
    (mute and digest do not hold it back: the user asked to see it now)."""
    check_not_banned(user, "no alerts are sent to you")
    now = timezone.now()
    with transaction.atomic():
        listing = Listing.objects.create(
            market=Market.DEMO,
            # Unique per request: two tests in one second are two listings.
            external_id=f"test-{user.pk}-{uuid.uuid4().hex}",
            title=TEST_TITLE,
            price=12345,
            url="https://jp.mercari.com/",
        )
        outbox.enqueue([(user.pk, listing.pk, [])], now)
    return Alert.objects.get(user=user, listing=listing)
