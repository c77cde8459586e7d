"""The minutely "alert sweep": alerts stranded by a lost task are sent without any sender running."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone
from django.utils.module_loading import import_string
from django_q.models import OrmQ, Schedule

from alerts.models import Alert, SenderStatus
from alerts.tasks import SWEEP_NOT_NEEDED
from tests.alerts.conftest import open_dm, posted_urls

pytestmark = pytest.mark.django_db

sweep_migration = importlib.import_module("alerts.migrations.0008_sweep_schedule")


def the_sweep() -> Schedule:
    [schedule] = Schedule.objects.filter(name="alert sweep")
    return schedule


def test_the_migrations_install_one_sweep_every_minute_and_installing_it_again_keeps_one():
    schedule = the_sweep()
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert schedule.func == "alerts.tasks.sweep_outbox"

    sweep_migration.create_schedule(apps, None)
    sweep_migration.create_schedule(apps, None)

    assert the_sweep().pk == schedule.pk


def test_alerts_whose_task_was_lost_are_sent_by_one_run_of_the_sweep(discord, queued_alerts):
    emulator = discord()
    user = queued_alerts(12)
    open_dm(emulator, user)
    OrmQ.objects.all().delete()  # the "send alerts after a scan" task, lost with its worker
    assert not SenderStatus.objects.exists()  # and no sendalerts running

    summary = import_string(the_sweep().func)()

    assert summary == "sent 12, retrying 0, failed 0, skipped 0"
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    assert sorted(posted_urls(emulator)) == sorted(
        Alert.objects.values_list("listing__url", flat=True)
    )
    assert not SenderStatus.objects.exists()  # the sweep's drain said goodbye


def test_beside_a_live_sender_the_sweep_does_nothing(queued_alerts):
    queued_alerts(3)
    # A sendalerts that beat a second ago and may send (it holds the role, or Redis is set).
    status = SenderStatus.objects.create(
        owner="sendalerts", heartbeat_at=timezone.now() - timedelta(seconds=1), request_budget=47
    )
    sweep = import_string(the_sweep().func)

    assert sweep() == SWEEP_NOT_NEEDED
    assert set(Alert.objects.values_list("status", flat=True)) == {"pending"}

    # It dies: once its heartbeats are missed, the sweep sends.
    status.heartbeat_at = timezone.now() - timedelta(minutes=2)
    status.save(update_fields=["heartbeat_at"])
    assert sweep() == "sent 3, retrying 0, failed 0, skipped 0"
