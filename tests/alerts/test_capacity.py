"""The senders' capacity and the backlog's time to drain, in /health and /metrics: each live
sender publishes its numbers on its heartbeat, so an operator sees saturation coming."""

from __future__ import annotations

import math
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert, SenderStatus
from ops.health import spoken
from tests.alerts.test_sendalerts import discord_env, fans_with_alerts, wait_for_sent
from tests.ops.test_metrics_endpoint import scrape, value

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits(settings):
    settings.HEALTH_MAX_OUTBOX_AGE = 600
    settings.ALERTS_HEARTBEAT_SECONDS = 10  # live: a heartbeat in the last 30 s


def senders_check(client) -> dict:
    response = client.get("/health")
    assert response.status_code in (200, 503)
    return response.json()["checks"]["senders"]


def publish(owner: str, ago: float = 1.0, **numbers: float | None) -> None:
    SenderStatus.objects.create(
        owner=owner, heartbeat_at=timezone.now() - timedelta(seconds=ago), **numbers
    )


def due_alerts(queued_alerts, count: int, waited: timedelta) -> None:
    queued_alerts(count)
    Alert.objects.update(next_attempt_at=timezone.now() - waited)


def test_with_nothing_running_and_nothing_due_the_senders_are_ok_and_every_gauge_is_there(client):
    check = senders_check(client)
    assert check == {
        "status": "ok",
        "live": 0,
        "sending": 0,
        "alerts_per_second": 0.0,
        "alerts_per_request": 1.0,
        "capacity_alerts_per_second": 0.0,
        "due": 0,
        "seconds_to_drain": 0,
    }
    families = scrape(client)
    assert value(families, "marketalerts_senders_live") == 0
    assert value(families, "marketalerts_sender_capacity_alerts_per_second") == 0
    assert value(families, "marketalerts_outbox_drain_seconds") == 0


def test_senders_sharing_one_token_count_its_budget_once_and_a_silent_one_not_at_all(client):
    # Two senders beside each other through Redis, each allowed the token's 47 requests/s.
    publish("a", alerts_per_second=100, requests_per_second=20, request_budget=47)
    publish("b", alerts_per_second=60, requests_per_second=20, request_budget=47)
    # Killed two minutes ago: its row stays, its heartbeat stopped.
    publish("gone", ago=120, alerts_per_second=900, requests_per_second=45, request_budget=47)

    check = senders_check(client)

    assert check["status"] == "ok"
    assert (check["live"], check["sending"]) == (2, 2)
    assert check["alerts_per_second"] == 160
    assert check["alerts_per_request"] == 4  # 160 alerts in 40 requests a second
    assert check["capacity_alerts_per_second"] == 47 * 4  # one budget, not two
    families = scrape(client)
    assert value(families, "marketalerts_senders_live") == 2
    assert value(families, "marketalerts_sender_capacity_alerts_per_second") == 188


def test_a_backlog_that_takes_over_half_the_outbox_age_to_drain_is_degraded(client, queued_alerts):
    due_alerts(queued_alerts, 40, waited=timedelta(seconds=5))
    # A sender allowed a tenth of a request a second, an alert a request: 400 s for 40 alerts.
    publish("slow", alerts_per_request=1.0, request_budget=0.1)

    check = senders_check(client)

    assert check["status"] == "degraded"
    assert (check["due"], check["seconds_to_drain"]) == (40, 400)
    assert check["reason"] == (
        f"At 0.1 alerts a second the 40 due alerts take {spoken(400)} to send, more than half "
        "of HEALTH_MAX_OUTBOX_AGE (10 minutes): alerts are queued faster than the bot token "
        "can send them."
    )
    families = scrape(client)
    assert value(families, "marketalerts_outbox_drain_seconds") == pytest.approx(400)

    SenderStatus.objects.update(request_budget=47)  # the token's real pace: 40 alerts in 1 s
    assert senders_check(client)["status"] == "ok"


def test_alerts_due_for_minutes_with_no_live_sender_are_degraded_and_say_why(client, queued_alerts):
    due_alerts(queued_alerts, 3, waited=timedelta(seconds=20))
    assert senders_check(client)["status"] == "ok"  # the next task or sweep sends them

    Alert.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    check = senders_check(client)
    assert check["status"] == "degraded"
    assert check["reason"] == (
        "3 due alerts (the oldest for 5 minutes), and no sender has sent a heartbeat in the "
        "last 30 seconds: is sendalerts running?"
    )
    assert check["seconds_to_drain"] is None  # never, at no capacity
    families = scrape(client)
    assert value(families, "marketalerts_outbox_drain_seconds") == math.inf

    # A live sender waiting for the sending role cannot send them either.
    publish("waiting", request_budget=0)
    check = senders_check(client)
    assert (check["status"], check["live"], check["sending"]) == ("degraded", 1, 0)
    assert check["reason"] == (
        "3 due alerts (the oldest for 5 minutes), and 1 live sender, but none holds the "
        "sending role"
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_running_sendalerts_is_a_live_sender_and_once_stopped_due_alerts_are_degraded(
    discord, manage_py, client, queued_alerts
):
    emulator = discord(latency=(0.01, 0.03))
    fans_with_alerts(emulator, users=3, alerts_each=30)  # 3 messages of 10 embeds each
    sender = manage_py("sendalerts", env=discord_env(emulator, ALERTS_HEARTBEAT_SECONDS="1"))
    try:
        wait_for_sent(90)
        deadline = time.monotonic() + 30
        # The heartbeat after the sends publishes what they measured.
        while (check := senders_check(client))["alerts_per_request"] <= 1:
            assert time.monotonic() < deadline, check
            time.sleep(0.2)
    finally:
        sender.send_signal(signal.SIGTERM)
        _, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err

    assert check["status"] == "ok"
    assert (check["live"], check["sending"]) == (1, 1)
    # Several alerts a message: more alerts a second than the token's 47 requests.
    assert 47 < check["capacity_alerts_per_second"] <= 470
    assert check["seconds_to_drain"] == 0
    assert not SenderStatus.objects.exists()  # it said goodbye

    due_alerts(queued_alerts, 2, waited=timedelta(minutes=3))
    check = senders_check(client)
    assert (check["status"], check["live"]) == ("degraded", 0)
    assert check["reason"].endswith("is sendalerts running?")
