"""The outbox in the admin: read-only alerts, named for people, moved only by the actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def run_action(client, action: str, ids: list[int]) -> str:
    url = reverse("admin:alerts_alert_changelist")
    response = client.post(url, {"action": action, "_selected_action": ids}, follow=True)
    return [str(message) for message in response.context["messages"]]


def alerts_with(*statuses: str) -> list[Alert]:
    owner = make_user("rick_fan")
    make_filter(owner, brands=["Rick Owens"])
    ingest_listings([listing(f"Rick Owens jacket {n}", price=68000) for n in range(len(statuses))])
    made = list(Alert.objects.order_by("id"))
    for alert, status in zip(made, statuses, strict=True):
        Alert.objects.filter(pk=alert.pk).update(status=status, attempts=3, last_error="x")
    return made


def test_an_alert_reads_as_its_listing_and_its_user_with_a_yen_price(admin_client):
    (alert,) = alerts_with("failed")
    page = admin_client.get(reverse("admin:alerts_alert_changelist")).content.decode()
    assert f"alert {alert.pk}: Rick Owens jacket 0 → @rick_fan" in page
    assert "¥68,000 · Mercari" in page
    change = admin_client.get(reverse("admin:alerts_alert_change", args=[alert.pk]))
    assert f"<h2>alert {alert.pk}: Rick Owens jacket 0 → @rick_fan</h2>" in change.content.decode()


def test_alerts_cannot_be_added_or_edited_by_hand(admin_client):
    (alert,) = alerts_with("failed")
    assert admin_client.get(reverse("admin:alerts_alert_add")).status_code == 403
    url = reverse("admin:alerts_alert_change", args=[alert.pk])
    page = admin_client.get(url)
    assert page.context["title"] == "View alert"
    assert 'name="status"' not in page.content.decode()
    assert admin_client.post(url, {"status": "pending", "attempts": "0"}).status_code == 403
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("failed", 3)


def test_requeue_says_what_it_did_and_why_it_left_the_rest(admin_client):
    failed, skipped, pending, sent = alerts_with("failed", "skipped", "pending", "sent")
    assert run_action(admin_client, "requeue_selected", [pending.pk, sent.pk]) == [
        "None of the 2 selected alerts can be requeued: only failed or skipped alerts can "
        "(these are 1 pending, 1 sent)."
    ]
    assert run_action(admin_client, "requeue_selected", [failed.pk, skipped.pk, sent.pk]) == [
        "Requeued 2 alerts. The other 1 was left alone (it is 1 sent): only failed or skipped "
        "alerts can be requeued."
    ]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == ("pending", 0, "")


def test_skip_stops_pending_alerts_but_not_one_being_sent(admin_client):
    waiting, held, sent = alerts_with("pending", "pending", "sent")
    Alert.objects.filter(pk=held.pk).update(
        lease_owner="sender-1", lease_expires_at=timezone.now() + timedelta(minutes=2)
    )
    assert run_action(admin_client, "skip_selected", [waiting.pk, held.pk, sent.pk]) == [
        "Skipped 1 alert. The other 2 were left alone (these are 1 pending and being sent "
        "right now, 1 sent): only pending alerts no sender holds can be skipped."
    ]
    waiting.refresh_from_db()
    held.refresh_from_db()
    assert (waiting.status, waiting.last_error) == ("skipped", "skipped by staff")
    assert held.status == "pending"
    assert run_action(admin_client, "skip_selected", [sent.pk]) == [
        "The selected alert can't be skipped: only pending alerts no sender holds can "
        "(it is 1 sent)."
    ]
