"""The alert outbox: one row per (user, listing), the source of truth for delivery."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import RowNumber, TruncDate, TruncHour
from django.utils import timezone

from lib.tallies import add_to_row
from lib.text import cut

# Percentiles of each hour's delivery latency come from at most this many of its newest
# sends: enough for a steady p95, and the page reads at most 48 × this many rows.
LATENCY_SAMPLE_PER_HOUR = 5000


@dataclass(frozen=True)
class HourLatency:
    """Seconds from a listing's first sighting to its alert's send, over one hour's sends."""

    p50: float
    p95: float
    sampled: int


@dataclass(frozen=True)
class Backlog:
    """The outbox right now: what waits, how long the oldest due alert has waited."""

    pending: int
    due_now: int
    scheduled_later: int
    oldest_due_at: datetime | None
    failed_since: int  # alerts queued since the window's start that ended failed

    def oldest_due_age(self, now: datetime) -> timedelta | None:
        return now - self.oldest_due_at if self.oldest_due_at else None


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of sorted values: a value that really occurred."""
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


class AlertQuerySet(models.QuerySet):
    def due(self, now=None) -> AlertQuerySet:
        """Pending alerts whose next attempt time has come and that nobody holds a lease on."""
        now = now or timezone.now()
        return self.filter(status=Alert.Status.PENDING, next_attempt_at__lte=now).filter(
            models.Q(lease_expires_at__isnull=True) | models.Q(lease_expires_at__lte=now)
        )

    def leased(self, now=None) -> AlertQuerySet:
        """Pending alerts a sender holds a live lease on (a read of alert_leased_idx)."""
        now = now or timezone.now()
        return self.filter(status=Alert.Status.PENDING, lease_expires_at__gt=now)

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

    def per_hour(self, field: str, since: datetime | None) -> dict[datetime, int]:
        """How many of these alerts have `field` in each UTC hour from `since` (from the
        first, with None): {hour: count}."""
        rows = self.filter(**{f"{field}__gte": since}) if since else self.exclude(**{field: None})
        return dict(
            rows.annotate(hour=TruncHour(field, tzinfo=UTC))
            .values("hour")
            .order_by("hour")  # also drops Meta.ordering, which would split the groups
            .annotate(n=models.Count("id"))
            .values_list("hour", "n")
        )

    def outcomes_per_hour(self, since: datetime | None) -> dict[str, dict[datetime, int]]:
        """Per UTC hour from `since`, how many of these alerts were queued (by created_at),
        sent (by sent_at), and failed or skipped (by created_at: they have no time of their
        own): {outcome: {hour: count}}, each outcome of OUTCOMES."""
        return {
            "queued": self.per_hour("created_at", since),
            "sent": self.filter(status=Alert.Status.SENT).per_hour("sent_at", since),
            "failed": self.filter(status=Alert.Status.FAILED).per_hour("created_at", since),
            "skipped": self.filter(status=Alert.Status.SKIPPED).per_hour("created_at", since),
        }

    def latency_per_hour(
        self, since: datetime, sample: int = LATENCY_SAMPLE_PER_HOUR
    ) -> dict[datetime, HourLatency]:
        """p50 and p95 of sent_at − listing.first_seen_at for the alerts sent in each hour.

        Test alerts (no filter) are left out: their listing may be days old. Each hour
        keeps its newest `sample` sends (a window function, so one query on either
        database), and the percentiles are taken in Python the same way on both.
        """
        hour = TruncHour("sent_at", tzinfo=UTC)
        rows = (
            self.filter(status=Alert.Status.SENT, sent_at__gte=since)
            .exclude(filter_ids=[])
            .annotate(
                hour=hour,
                rank=models.Window(
                    RowNumber(), partition_by=[hour], order_by=models.F("sent_at").desc()
                ),
            )
            .filter(rank__lte=sample)
            .values_list("hour", "sent_at", "listing__first_seen_at")
        )
        waits: dict[datetime, list[float]] = {}
        for start, sent_at, first_seen_at in rows.iterator():
            seconds = max((sent_at - first_seen_at).total_seconds(), 0.0)
            waits.setdefault(start, []).append(seconds)
        latencies = {}
        for start, seconds in waits.items():
            seconds.sort()
            latencies[start] = HourLatency(
                percentile(seconds, 0.5), percentile(seconds, 0.95), len(seconds)
            )
        return latencies

    def backlog(self, since: datetime, now: datetime | None = None) -> Backlog:
        """The pending alerts now, due or scheduled later, and the failures since `since`.

        Alerts have no failed_at, so "failed since" counts the alerts queued since then
        that ended failed.
        """
        now = now or timezone.now()
        pending, oldest_due_at = self.waiting(now)
        due_now = self.filter(status=Alert.Status.PENDING, next_attempt_at__lte=now).count()
        failed = self.filter(status=Alert.Status.FAILED, created_at__gte=since).count()
        return Backlog(
            pending=pending,
            due_now=due_now,
            scheduled_later=pending - due_now,
            oldest_due_at=oldest_due_at,
            failed_since=failed,
        )

    def count_by_filter(self, user) -> dict[int, int]:
        """How many alerts each of the user's filters brought (an alert counts for each match)."""
        counts: dict[int, int] = {}
        for filter_ids in self.filter(user=user).values_list("filter_ids", flat=True).iterator():
            for filter_id in filter_ids:
                counts[filter_id] = counts.get(filter_id, 0) + 1
        return counts

    def waiting(self, now: datetime | None = None) -> tuple[int, datetime | None]:
        """How many alerts are pending, and the earliest next attempt among the due ones
        (None when none is due): two reads of alert_due_idx, cheap enough for every probe."""
        now = now or timezone.now()
        pending = self.filter(status=Alert.Status.PENDING)
        first = pending.filter(next_attempt_at__lte=now).aggregate(
            first=models.Min("next_attempt_at")
        )["first"]
        return pending.count(), first

    def due_count(self, now: datetime | None = None) -> int:
        """How many pending alerts are due now, held by a sender or not: what the senders
        still have to send before they catch up (a range read of alert_due_idx)."""
        now = now or timezone.now()
        return self.filter(status=Alert.Status.PENDING, next_attempt_at__lte=now).count()

    def last_sent_at(self) -> datetime | None:
        """When Discord accepted the newest sent alert (None before the first): alert_sent_idx."""
        return self.filter(status=Alert.Status.SENT).aggregate(last=models.Max("sent_at"))["last"]


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
    listing = models.ForeignKey("listings.Listing", on_delete=models.CASCADE, related_name="alerts")
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
    # Not a column: the matched filters' current names, set by outbox.attach_filter_names.
    filter_names: list[str]

    objects = AlertQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "listing"], name="one_alert_per_user_and_listing"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="alert_due_idx"),
            # The newest send, for /health (AlertQuerySet.last_sent_at); not a partial index
            # on status="sent", which SQLite only uses once ANALYZE has run.
            models.Index(fields=["status", "sent_at"], name="alert_sent_idx"),
            # The leases held now, read at every claim: only rows a sender has claimed
            # and not yet settled, a few thousand however long the backlog.
            models.Index(
                fields=["lease_expires_at"],
                condition=models.Q(status="pending", lease_expires_at__isnull=False),
                name="alert_leased_idx",
            ),
            # Each user's oldest pending alerts, read for a claim's shares (outbox
            # `_shares`): a few dozen entries a user however long their backlog.
            models.Index(
                fields=["user", "next_attempt_at", "id"],
                condition=models.Q(status="pending"),
                name="alert_user_due_idx",
            ),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # As moderators name it: what listing went to whom.
        return f"alert {self.pk}: {cut(self.listing.title, 60)} → @{self.user.username}"

    @property
    def is_test(self) -> bool:
        """A test alert the user asked for (`alerts.services.queue_test_alert`): no filter."""
        return not self.filter_ids


OUTCOMES = ("queued", "sent", "failed", "skipped")


class AlertTallyQuerySet(models.QuerySet):
    def add(self, outcomes: dict[str, dict[datetime, int]]) -> None:
        """Add these counts (AlertQuerySet.outcomes_per_hour's shape) to the stored ones,
        beside other deletions doing the same (lib.tallies.add_to_row)."""
        for outcome, per_hour in outcomes.items():
            for hour, count in per_hour.items():
                add_to_row(self, {"hour": hour, "outcome": outcome}, {"count": count})

    def outcomes_per_hour(self, since: datetime) -> dict[str, dict[datetime, int]]:
        """The kept counts from `since`, in AlertQuerySet.outcomes_per_hour's shape."""
        outcomes: dict[str, dict[datetime, int]] = {outcome: {} for outcome in OUTCOMES}
        for hour, outcome, count in self.filter(hour__gte=since).values_list(
            "hour", "outcome", "count"
        ):
            outcomes[outcome][hour] = count
        return outcomes


class AlertTally(models.Model):
    """Alerts of deleted accounts, kept only as counts: how many were queued, sent, failed
    and skipped in each UTC hour, with no user, listing or filter. The staff dashboard
    adds them to the alerts still stored, so deleting an account doesn't rewrite the past.
    """

    hour = models.DateTimeField()
    outcome = models.CharField(max_length=16, choices=[(o, o) for o in OUTCOMES])
    count = models.PositiveIntegerField()

    objects = AlertTallyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hour", "outcome"], name="one_tally_per_hour")
        ]
        verbose_name = "alert count of deleted accounts"

    def __str__(self) -> str:
        return f"{self.count} {self.outcome} at {self.hour:%Y-%m-%d %H}:00 UTC"


def outcomes_per_hour(since: datetime) -> dict[str, dict[datetime, int]]:
    """Every alert's outcomes per UTC hour from `since`: the stored alerts' and the counts
    deleted accounts left (AlertTally)."""
    outcomes = Alert.objects.outcomes_per_hour(since)
    for outcome, per_hour in AlertTally.objects.outcomes_per_hour(since).items():
        for hour, count in per_hour.items():
            outcomes[outcome][hour] = outcomes[outcome].get(hour, 0) + count
    return outcomes


class DiscordHourQuerySet(models.QuerySet):
    def add(
        self, at: datetime, requests: int, rate_limited_global: int, rate_limited_route: int
    ) -> None:
        """Add to the row of the hour (UTC) holding `at`, beside other senders doing the same
        (lib.tallies.add_to_row)."""
        hour = at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        add_to_row(
            self,
            {"hour": hour},
            {
                "requests": requests,
                "rate_limited_global": rate_limited_global,
                "rate_limited_route": rate_limited_route,
            },
        )

    def since(self, start: datetime) -> list[DiscordHour]:
        """The hours from `start` on, oldest first, for the staff dashboard's chart."""
        return list(self.filter(hour__gte=start).order_by("hour"))


class DiscordHour(models.Model):
    """Requests to Discord and their 429s in one hour, summed over every sender.

    Senders add what they did since their last heartbeat, so the staff dashboard
    can chart Discord's answers from the database, without Prometheus.
    """

    hour = models.DateTimeField(unique=True, help_text="The start of the hour (UTC).")
    requests = models.PositiveBigIntegerField(default=0)
    rate_limited_global = models.PositiveBigIntegerField(default=0)
    rate_limited_route = models.PositiveBigIntegerField(default=0)

    objects = DiscordHourQuerySet.as_manager()

    class Meta:
        ordering = ["-hour"]

    def __str__(self) -> str:
        return f"Discord requests in the hour from {self.hour:%Y-%m-%d %H:00}"


class SenderStatusQuerySet(models.QuerySet):
    def live(self, now: datetime | None = None) -> SenderStatusQuerySet:
        """The senders whose last heartbeat is recent: three of their beats, so one late
        beat (a slow database, a busy host) does not count a sender as gone."""
        now = now or timezone.now()
        window = timedelta(seconds=3 * settings.ALERTS_HEARTBEAT_SECONDS)
        return self.filter(heartbeat_at__gte=now - window)

    def sending(self) -> SenderStatusQuerySet:
        """Live senders that may send now (not one waiting for the sending role): each
        finds every due alert itself, so nothing needs to wake a worker to send."""
        return self.live().exclude(request_budget=0)

    def publish(self, owner: str, **numbers: float | None) -> None:
        """Write a sender's numbers as of now: an UPDATE of its row, else the row's INSERT.
        Rows of senders that died without saying goodbye (SIGKILL) are dropped once they
        are an hour old, so the table stays a handful of rows."""
        now = timezone.now()
        if not self.filter(owner=owner).update(heartbeat_at=now, **numbers):
            self.bulk_create(
                [SenderStatus(owner=owner, heartbeat_at=now, **numbers)], ignore_conflicts=True
            )
        self.filter(heartbeat_at__lt=now - timedelta(hours=1)).delete()


class SenderStatus(models.Model):
    """What one running sender measured by its last heartbeat, so /health and /metrics can
    tell how fast the installation can send and how long its backlog takes to drain.

    Each sender (`sendalerts`, or a task's drain while it runs) writes its row on start
    and on every heartbeat, and deletes it when it stops. Rates are measured over the
    sender's last few minutes (`alerts.sender.CAPACITY_WINDOW_SECONDS`).
    """

    owner = models.CharField(max_length=64, unique=True, help_text="The sender's lease owner.")
    heartbeat_at = models.DateTimeField()
    alerts_per_second = models.FloatField(default=0.0, help_text="Alerts sent, recently.")
    requests_per_second = models.FloatField(
        default=0.0, help_text="Requests made to Discord (or the console), recently."
    )
    alerts_per_request = models.FloatField(
        default=1.0,
        help_text="Alerts sent per request recently (up to 10 embeds share a message; a DM "
        "open or a 429 is a request without one); the last measured value while idle, 1 "
        "before the first send.",
    )
    request_budget = models.FloatField(
        null=True,
        blank=True,
        help_text="Requests a second this sender may make now: DISCORD_REQUESTS_PER_SECOND "
        "while it may send, 0 while it waits for the sending role; empty for the console, "
        "which has no limit.",
    )

    objects = SenderStatusQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "sender statuses"

    def __str__(self) -> str:
        return f"sender {self.owner}: {self.alerts_per_second:.1f} alerts/s"
