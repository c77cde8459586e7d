"""The outbox contract: claimed once, settled once, retried with backoff, never lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import outbox
from alerts.models import Alert
from alerts.sender import Sender
from alerts.transports import TransportError
from tests.alerts.conftest import FlakyTransport
from tests.builders import make_user
from users.services import ban_user, set_destination


@pytest.mark.django_db
def test_a_claimed_alert_is_not_claimed_again_until_its_lease_expires(queued_alerts):
    queued_alerts(3)
    first = outbox.claim_due("a", 10, lease_seconds=60)
    assert len(first) == 3
    assert outbox.claim_due("b", 10) == []
    Alert.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))  # "a" died
    again = outbox.claim_due("b", 10)
    assert {a.pk for a in again} == {a.pk for a in first}
    assert all(a.attempts == 2 for a in again)


@pytest.mark.django_db
def test_a_late_sender_cannot_settle_an_alert_it_no_longer_holds(queued_alerts):
    queued_alerts(1)
    [alert] = outbox.claim_due("a", 10)
    Alert.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    outbox.claim_due("b", 10)
    assert outbox.mark_sent("a", [alert.pk], "late") == 0
    assert outbox.mark_sent("b", [alert.pk], "on-time") == 1
    alert.refresh_from_db()
    assert (alert.status, alert.message_id) == ("sent", "on-time")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_senders_share_the_work_without_overlap(queued_alerts):
    queued_alerts(300)
    claims: dict[str, list[int]] = {}

    def claim(owner: str) -> None:
        mine: list[int] = []
        while batch := outbox.claim_due(owner, 7):
            mine += [a.pk for a in batch]
        claims[owner] = mine
        connection.close()

    workers = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    everything = [pk for ids in claims.values() for pk in ids]
    assert len(everything) == len(set(everything)) == 300


@pytest.mark.django_db
def test_sending_marks_alerts_sent_with_their_message_id(queued_alerts):
    user = queued_alerts(5)
    transport = FlakyTransport()
    stats = Sender(transport, batch_size=2).drain()
    assert stats.sent == 5
    assert sorted(pk for _, ids in transport.delivered for pk in ids) == sorted(
        Alert.objects.values_list("pk", flat=True)
    )
    for alert in Alert.objects.filter(user=user):
        assert (alert.status, alert.message_id, alert.lease_owner) == (
            "sent",
            f"msg-{alert.pk}",
            "",
        )
        assert alert.sent_at is not None


@pytest.mark.django_db
def test_alerts_are_grouped_by_each_users_destination(queued_alerts):
    dm_user = queued_alerts(2)
    channel_user = make_user()
    set_destination(channel_user, "channel", "555", "666")
    queued_alerts(0, user=channel_user)
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    ingest_listings([listing("sacai coat")])  # matches both users
    transport = FlakyTransport()
    Sender(transport).drain()
    destinations = {(d.kind, d.channel_id): len(ids) for d, ids in transport.delivered}
    assert destinations == {("dm", f"user:{dm_user.pk}"): 3, ("channel", "555"): 1}


@pytest.mark.django_db
def test_a_temporary_failure_backs_off_and_then_succeeds(queued_alerts):
    queued_alerts(1)
    transport = FlakyTransport([TransportError("502 from Discord")])
    sender = Sender(transport)
    sender.step()
    alert = Alert.objects.get()
    assert (alert.status, alert.attempts, alert.last_error) == ("pending", 1, "502 from Discord")
    assert alert.next_attempt_at > timezone.now() + timedelta(seconds=2)
    assert sender.step() is False and transport.delivered == []  # not due yet
    Alert.objects.update(next_attempt_at=timezone.now())
    sender.step()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_an_alert_fails_after_its_last_attempt_and_can_be_requeued(queued_alerts, settings):
    settings.ALERTS_MAX_ATTEMPTS = 3
    queued_alerts(1)
    sender = Sender(FlakyTransport([TransportError("timeout")] * 3))
    for _ in range(3):
        Alert.objects.update(next_attempt_at=timezone.now())
        sender.step()
    alert = Alert.objects.get()
    assert (alert.status, alert.attempts) == ("failed", 3)
    assert alert.last_error == "gave up after 3 attempts: timeout"
    assert outbox.requeue([alert.pk]) == 1
    Sender(FlakyTransport()).drain()
    alert.refresh_from_db()
    assert alert.status == "sent"


@pytest.mark.django_db
def test_a_permanent_failure_is_not_retried(queued_alerts):
    queued_alerts(2)
    transport = FlakyTransport([TransportError("unknown channel", permanent=True)])
    stats = Sender(transport).drain()
    assert stats.failed == 2
    assert set(Alert.objects.values_list("status", "attempts", "last_error")) == {
        ("failed", 1, "unknown channel")
    }


@pytest.mark.django_db
def test_a_banned_users_pending_alerts_are_skipped(queued_alerts):
    user = queued_alerts(2)
    other = queued_alerts(1, user=make_user())
    ban_user(user, "spam")
    transport = FlakyTransport()
    Sender(transport).drain()
    assert set(Alert.objects.filter(user=user).values_list("status", "last_error")) == {
        ("skipped", "The user is banned.")
    }
    assert Alert.objects.get(user=other).status == "sent"


@pytest.mark.django_db
def test_a_clean_stop_gives_back_unsent_leases_without_counting_them(queued_alerts):
    queued_alerts(2)
    outbox.claim_due("stopping", 10)
    assert outbox.release("stopping") == 2
    assert set(Alert.objects.values_list("attempts", "lease_owner")) == {(0, "")}
    assert len(outbox.claim_due("next", 10)) == 2


@pytest.mark.django_db
def test_a_transport_bug_backs_off_then_fails_without_stopping_the_sender(queued_alerts, settings):
    settings.ALERTS_MAX_ATTEMPTS = 2
    queued_alerts(1)
    sender = Sender(FlakyTransport([RuntimeError("bug")] * 2))
    sender.step()
    alert = Alert.objects.get()
    assert (alert.status, alert.last_error) == ("pending", "unexpected error: RuntimeError('bug')")
    Alert.objects.update(next_attempt_at=timezone.now())
    sender.step()
    alert.refresh_from_db()
    assert alert.status == "failed"
