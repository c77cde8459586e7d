"""`GET /health`: ok when everything works, degraded with what to look at, 503 when it fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connections
from django.utils import timezone
from django_q.models import Schedule

from alerts.models import Alert
from scraping.breaker import record_success
from scraping.ingest import ingest_listings
from scraping.models import SourceState
from tests.builders import listing, make_filter, make_user
from tests.conftest import RedisServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def plain_installation(settings, db):
    """The embedded run: no Redis, no sources configured beyond what a test sets."""
    settings.REDIS_URL = ""
    settings.SCRAPING_SOURCES = []
    settings.SCRAPING_INTERVAL_SECONDS = 60
    settings.SCRAPING_INTERVALS = {}
    settings.HEALTH_MAX_OUTBOX_AGE = 600
    # Just installed: the migrations' schedules (the minutely sweep among them) not due yet,
    # however long ago this test session ran migrate.
    Schedule.objects.filter(next_run__lt=timezone.now()).update(
        next_run=timezone.now() + timedelta(minutes=1)
    )


def get_health(client) -> tuple[int, dict]:
    response = client.get("/health")
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def pending_alerts(count: int, waited: timedelta) -> list[Alert]:
    """`count` pending alerts, due since `waited` ago."""
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    ingest_listings([listing(f"sacai item {n}") for n in range(count)])
    Alert.objects.update(next_attempt_at=timezone.now() - waited)
    return list(Alert.objects.all())


def test_it_is_ok_on_a_fresh_installation_whose_schedules_are_not_due_yet(client):
    # The migrations install the hourly digest schedule, first due at the next hour.
    assert Schedule.objects.filter(next_run__gt=timezone.now()).exists()

    status, body = get_health(client)

    assert status == 200
    assert body["status"] == "ok"
    assert {name: check["status"] for name, check in body["checks"].items()} == {
        "database": "ok",
        "redis": "ok",
        "queue": "ok",
        "outbox": "ok",
        "senders": "ok",
        "sources": "ok",
        "delivery": "ok",
    }
    assert body["checks"]["redis"]["configured"] is False
    assert body["checks"]["outbox"] | {"status": "ok"} == {
        "status": "ok",
        "pending": 0,
        "oldest_due_seconds": 0,
        "max_age_seconds": 600,
    }
    assert body["checks"]["delivery"]["last_sent_seconds"] is None
    assert not any("reason" in check for check in body["checks"].values())


def test_it_is_ok_while_sources_scan_and_alerts_go_out(client, settings):
    settings.SCRAPING_SOURCES = ["mercari"]
    record_success("mercari")
    sent, _still_pending = pending_alerts(2, waited=timedelta(seconds=30))
    Alert.objects.filter(pk=sent.pk).update(
        status=Alert.Status.SENT, sent_at=timezone.now() - timedelta(minutes=5)
    )

    status, body = get_health(client)

    assert (status, body["status"]) == (200, "ok")
    assert body["checks"]["sources"]["mercari"]["state"] == "ok"
    assert body["checks"]["sources"]["mercari"]["last_success_seconds"] < 60
    assert body["checks"]["outbox"]["pending"] == 1
    assert 30 <= body["checks"]["outbox"]["oldest_due_seconds"] < 600
    assert 300 <= body["checks"]["delivery"]["last_sent_seconds"] < 600


def test_a_paused_source_is_degraded_and_named(client):
    SourceState.objects.create(
        source="rakuma",
        consecutive_failures=3,
        paused_until=timezone.now() + timedelta(minutes=10),
        last_error="HTTP 403 from https://user:hunter2@proxy.example/",
    )

    status, body = get_health(client)

    assert (status, body["status"]) == (200, "degraded")
    sources = body["checks"]["sources"]
    assert sources["status"] == "degraded"
    assert sources["rakuma"]["state"] == "paused"
    assert 0 < sources["rakuma"]["resumes_in_seconds"] <= 600
    assert sources["reason"].startswith("rakuma is paused by its circuit breaker for ")
    assert "3 failed scans in a row" in sources["reason"]
    # The source's last error may carry a proxy's address and password: never shown.
    assert "hunter2" not in str(body) and "proxy.example" not in str(body)


def test_a_configured_source_without_a_recent_scan_is_degraded_with_how_long_ago(client, settings):
    settings.SCRAPING_SOURCES = ["mercari", "yahoo_auctions", "rakuma"]
    settings.SCRAPING_INTERVALS = {"yahoo_auctions": 600}
    now = timezone.now()
    SourceState.objects.create(source="mercari", last_success_at=now - timedelta(minutes=30))
    # Twenty minutes is two of yahoo_auctions' cycles: still within its margin.
    SourceState.objects.create(source="yahoo_auctions", last_success_at=now - timedelta(minutes=20))

    status, body = get_health(client)

    assert (status, body["status"]) == (200, "degraded")
    sources = body["checks"]["sources"]
    assert {code: sources[code]["state"] for code in settings.SCRAPING_SOURCES} == {
        "mercari": "late",
        "yahoo_auctions": "ok",
        "rakuma": "never",
    }
    assert 1800 <= sources["mercari"]["last_success_seconds"] < 1900
    assert sources["rakuma"]["last_success_seconds"] is None
    assert sources["reason"] == (
        "mercari last scanned successfully 30 minutes ago, though it scans every 1 minute; "
        "rakuma has never scanned successfully."
    )


def test_a_schedule_well_past_due_means_no_cluster_runs(client):
    now = timezone.now()
    Schedule.objects.create(
        name="scan mercari",
        func="scraping.tasks.scan_market",
        args="('mercari',)",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        next_run=now - timedelta(minutes=7),
    )
    # A minute late is what a busy scheduler may be: not counted.
    Schedule.objects.create(
        name="scan rakuma",
        func="scraping.tasks.scan_market",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        next_run=now - timedelta(minutes=1),
    )

    status, body = get_health(client)

    assert (status, body["status"]) == (200, "degraded")
    queue = body["checks"]["queue"]
    assert queue["status"] == "degraded"
    assert queue["overdue"] == ["scan mercari"]
    assert (
        queue["reason"] == "The schedule “scan mercari” was due 7 minutes ago: is qcluster running?"
    )


def test_an_alert_due_for_longer_than_the_limit_fails_the_check(client, settings):
    pending_alerts(3, waited=timedelta(minutes=11))

    status, body = get_health(client)

    assert (status, body["status"]) == (503, "failing")
    outbox = body["checks"]["outbox"]
    assert outbox["status"] == "failing"
    assert outbox["pending"] == 3
    assert 660 <= outbox["oldest_due_seconds"] < 1200
    assert outbox["reason"] == (
        "The oldest due alert has waited 11 minutes, longer than HEALTH_MAX_OUTBOX_AGE "
        "(10 minutes): is sendalerts running?"
    )

    settings.HEALTH_MAX_OUTBOX_AGE = 3600
    status, body = get_health(client)
    assert (status, body["checks"]["outbox"]["status"]) == (200, "ok")
    # Still degraded: no sender has been sending them (tests/alerts/test_capacity.py).
    assert body["checks"]["senders"]["status"] == "degraded"


def test_alerts_scheduled_for_later_are_pending_but_not_late(client):
    pending_alerts(2, waited=-timedelta(hours=2))  # e.g. a daily digest's

    status, body = get_health(client)

    assert (status, body["status"]) == (200, "ok")
    assert body["checks"]["outbox"]["pending"] == 2
    assert body["checks"]["outbox"]["oldest_due_seconds"] == 0


def test_an_unreachable_database_answers_503_at_once_without_trying_the_other_checks(
    client, monkeypatch
):
    tried = []

    def refuse(*args, **kwargs):
        tried.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["default"], "ensure_connection", refuse)

    status, body = get_health(client)

    assert (status, body["status"]) == (503, "failing")
    assert body["checks"]["database"] == {
        "status": "failing",
        "reason": "The database does not answer (OperationalError).",
    }
    for name in ("queue", "outbox", "senders", "sources", "delivery"):
        assert body["checks"][name] == {
            "status": "unknown",
            "reason": "Not checked: the database does not answer.",
        }
    assert len(tried) == 1


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of this test's own, with a password that must never be shown."""
    server = RedisServer(tmp_path, password="s3cret")
    server.start()
    yield server
    server.stop()


def test_a_configured_redis_that_stops_answering_fails_until_it_is_back(
    client, settings, own_redis
):
    settings.REDIS_URL = own_redis.url

    status, body = get_health(client)
    assert (status, body["status"]) == (200, "ok")
    assert body["checks"]["redis"] == {"status": "ok", "configured": True}

    own_redis.stop()
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "failing"
    assert body["checks"]["redis"]["status"] == "failing"
    assert body["checks"]["redis"]["reason"].startswith(
        "Redis (REDIS_URL) did not answer a ping within 1 s ("
    )
    assert "s3cret" not in response.content.decode()
    assert str(own_redis.port) not in response.content.decode()

    own_redis.start()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"status": "ok", "configured": True}
    assert "s3cret" not in response.content.decode()


def test_a_wrong_redis_password_fails_without_showing_it(client, settings, own_redis):
    settings.REDIS_URL = f"redis://:not-{own_redis.password}@127.0.0.1:{own_redis.port}/0"

    response = client.get("/health")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["status"] == "failing"
    assert own_redis.password not in response.content.decode()
