"""The django-q2 side of sending: right after a scan, and the hourly digest schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from alerts.models import Alert
from alerts.tasks import send_due_alerts
from scraping.tasks import replay_demo_listings
from tests.builders import make_filter, make_user
from users.models import User

pytestmark = pytest.mark.django_db


def test_a_scan_that_queues_alerts_wakes_a_worker_to_send_them():
    user = make_user()
    make_filter(user, brands=["Sacai", "Rick Owens", "Kapital", "Comme des Garcons"])
    replay_demo_listings(count=40)
    assert Alert.objects.filter(user=user).exists()
    [queued] = OrmQ.objects.all()
    assert queued.task["func"] == "alerts.tasks.send_due_alerts"

    assert send_due_alerts().startswith(f"sent {Alert.objects.filter(user=user).count()}, ")
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


def test_the_hourly_schedule_sends_the_digests_whose_hour_has_come(queued_alerts):
    [schedule] = Schedule.objects.filter(name="alert digests")
    assert (schedule.func, schedule.schedule_type) == ("alerts.tasks.send_due_alerts", "H")

    user = queued_alerts(3)
    User.objects.filter(pk=user.pk).update(digest="hourly")
    assert send_due_alerts() == "sent 0, retrying 0, failed 0, skipped 0"  # waiting for its hour
    waiting = Alert.objects.first()
    assert timezone.now() < waiting.next_attempt_at <= timezone.now() + timedelta(hours=1)
    # The hour passes.
    Alert.objects.update(
        created_at=timezone.now() - timedelta(hours=1), next_attempt_at=timezone.now()
    )
    assert send_due_alerts() == "sent 3, retrying 0, failed 0, skipped 0"


def test_without_redis_the_task_leaves_sending_to_a_live_sendalerts(queued_alerts):
    from alerts import roles
    from alerts.tasks import SENDER_RUNNING
    from lib.models import Lease

    queued_alerts(3)
    assert roles.take_role("a running sendalerts")
    assert send_due_alerts() == SENDER_RUNNING
    assert set(Alert.objects.values_list("status", flat=True)) == {"pending"}
    # That sender dies: its role lapses within a lease, and the task sends.
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert send_due_alerts() == "sent 3, retrying 0, failed 0, skipped 0"
    assert Lease.objects.get().owner == ""  # given back when done


def test_beside_a_live_sender_the_hourly_run_leaves_the_due_digests_to_it(queued_alerts):
    from alerts.models import SenderStatus
    from alerts.tasks import SENDER_RUNNING

    user = queued_alerts(3)
    User.objects.filter(pk=user.pk).update(digest="hourly")
    Alert.objects.update(  # their hour has come
        created_at=timezone.now() - timedelta(hours=1), next_attempt_at=timezone.now()
    )
    # A sendalerts (with Redis, any number may send) that beat a second ago.
    status = SenderStatus.objects.create(
        owner="sendalerts", heartbeat_at=timezone.now() - timedelta(seconds=1), request_budget=47
    )
    assert send_due_alerts() == SENDER_RUNNING
    assert set(Alert.objects.values_list("status", flat=True)) == {"pending"}

    status.delete()  # it stopped
    assert send_due_alerts() == "sent 3, retrying 0, failed 0, skipped 0"
