"""The alert outbox: one row per (user, listing), the source of truth for delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import TruncDate
from django.utils import timezone


class AlertQuerySet(models.QuerySet):
    def due(self, now=None) -> AlertQuerySet:
        """Pending alerts whose next attempt time has come and that nobody holds a lease on."""
        now = now or timezone.now()
        return self.filter(status=Alert.Status.PENDING, next_attempt_at__lte=now).filter(
            models.Q(lease_expires_at__isnull=True) | models.Q(lease_expires_at__lte=now)
        )

    def per_day(self, user, since) -> dict:
        """The user's alerts per calendar day (UTC) from `since`: {date: count}."""
        return dict(
            self.filter(user=user, created_at__gte=since)
            .annotate(day=TruncDate("created_at"))
            .values("day")
            .order_by("day")
            .annotate(n=models.Count("id"))
            .values_list("day", "n")
        )

    def latest_of(self, user, count: int) -> list[Alert]:
        """The user's newest alerts with their listings, for the dashboard."""
        return list(self.filter(user=user).select_related("listing").order_by("-id")[:count])

    def count_by_filter(self, user) -> dict[int, int]:
        """How many alerts each of the user's filters brought (an alert counts for each match)."""
        counts: dict[int, int] = {}
        for filter_ids in self.filter(user=user).values_list("filter_ids", flat=True).iterator():
            for filter_id in filter_ids:
                counts[filter_id] = counts.get(filter_id, 0) + 1
        return counts


class Alert(models.Model):
    """An alert to deliver. Rows are written in bulk by `alerts.outbox.enqueue`.

    Matched filters are kept as ids, not a many-to-many table: a popular listing
    queues thousands of alerts, and one row each (not two) keeps ingest fast.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    listing = models.ForeignKey("scraping.Listing", on_delete=models.CASCADE, related_name="alerts")
    filter_ids = models.JSONField(
        default=list, help_text="Ids of every filter of the user that matched the listing."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_owner = models.CharField(max_length=64, blank=True, db_default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=64, blank=True, db_default="")
    last_error = models.TextField(blank=True, db_default="")
    nonce = models.CharField(
        max_length=25,
        blank=True,
        db_default="",
        help_text="The nonce of the message carrying this alert, fixed before its first send "
        "so a resend after a crash is recognised by Discord.",
    )
    ambiguous_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The earliest time a send of this alert may have reached Discord without an "
        "answer (a timeout, a reset connection, a sender that died mid-send). Past Discord's "
        "nonce window the channel is checked for the message before it is posted again.",
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = AlertQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "listing"], name="one_alert_per_user_and_listing"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="alert_due_idx")]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # As moderators name it: what listing went to whom.
        title = self.listing.title
        if len(title) > 60:
            title = title[:59] + "…"
        return f"alert {self.pk}: {title} → @{self.user.username}"

    @property
    def is_test(self) -> bool:
        """A test alert the user asked for (`alerts.services.queue_test_alert`): no filter."""
        return not self.filter_ids


class SenderRole(models.Model):
    """The right to send for one bot token, leased to one live sender at a time.

    Without Redis every process paces its own budget, so two senders would
    together exceed Discord's global limit: the role lets exactly one of them
    send (see `alerts.roles.take_role`). With Redis the budget is shared and the
    role is not used.
    """

    name = models.CharField(max_length=64, unique=True)
    owner = models.CharField(max_length=64, blank=True, db_default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"sender role {self.name} ({self.owner or 'free'})"


class DiscordHour(models.Model):
    """Requests to Discord and their 429s in one hour, summed over every sender.

    Senders add what they did since their last heartbeat, so the staff dashboard
    can chart Discord's answers from the database, without Prometheus.
    """

    hour = models.DateTimeField(unique=True, help_text="The start of the hour (UTC).")
    requests = models.PositiveBigIntegerField(default=0)
    rate_limited_global = models.PositiveBigIntegerField(default=0)
    rate_limited_route = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"Discord requests in the hour from {self.hour:%Y-%m-%d %H:00}"
