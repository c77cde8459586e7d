"""What senders count: outbox outcomes, Discord's answers and 429s, delivery latency, DiscordHour rows.

Every process counts into the test run's shared METRICS_DIR, and each test scrapes the
web app's /metrics before and after, never comparing against zero: a `sendalerts --drain`
that has exited by the second scrape still shows in it.
"""

from __future__ import annotations

import signal
import threading
import time
import urllib.request
from datetime import UTC, datetime

import pytest
from django.db import close_old_connections, connection, transaction
from django.db.models import Sum

from alerts.models import Alert, DiscordHour
from alerts.moderation import ban_user
from alerts.sender import Sender
from alerts.transports import get_transport
from scraping.ingest import ingest_listings
from tests.alerts.conftest import open_dm
from tests.builders import listing, make_filter, make_user
from tests.prometheus import grew, host_metrics

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SENT = "marketalerts_alerts_sent_total"
FAILED = "marketalerts_alerts_failed_total"
SKIPPED = "marketalerts_alerts_skipped_total"
QUEUED = "marketalerts_alerts_queued_total"
REQUESTS = "marketalerts_discord_requests_total"
LIMITED = "marketalerts_discord_rate_limited_total"
LATENCY = "marketalerts_delivery_latency_seconds"


def discord_hours() -> dict[str, int]:
    totals = DiscordHour.objects.aggregate(
        requests=Sum("requests"),
        limited_global=Sum("rate_limited_global"),
        limited_route=Sum("rate_limited_route"),
    )
    return {name: value or 0 for name, value in totals.items()}


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def discord_env(emulator, **extra: str) -> dict[str, str]:
    return {
        "DISCORD_BOT_TOKEN": emulator.config.token,
        "DISCORD_API_BASE": emulator.base_url,
        "DISCORD_DM_OPENS_PER_SECOND": "4",
        **extra,
    }


def sacai_fans(count: int) -> list:
    users = [make_user() for _ in range(count)]
    for user in users:
        make_filter(user, brands=["Sacai"])
    return users


def wait_for_sent(at_least: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while Alert.objects.filter(status="sent").count() < at_least:
        assert time.monotonic() < deadline, f"fewer than {at_least} alerts sent in {timeout}s"
        time.sleep(0.05)


def test_the_web_apps_metrics_show_what_a_finished_drain_delivered_failed_and_skipped(
    discord, manage_py
):
    emulator = discord()
    warm = sacai_fans(3)
    for user in warm:
        open_dm(emulator, user)
    sacai_fans(1)  # a user without a DM channel: it is opened on the way
    [closed] = sacai_fans(1)
    open_dm(emulator, closed)
    emulator.config.closed_dm_users.add(closed.discord_id)
    [rejected] = sacai_fans(1)
    open_dm(emulator, rejected)
    emulator.config.invalid_form_channels.add(rejected.dm_channel_id)
    before = host_metrics()
    ingest_listings([listing(f"sacai item {n}") for n in range(4)])
    queued = host_metrics()
    hours_before, started_in = discord_hours(), this_hour()

    sender = manage_py("sendalerts", "--drain", env=discord_env(emulator))
    out, err = sender.communicate(timeout=120)
    assert sender.returncode == 0, err
    after = host_metrics()

    assert grew(before, queued, QUEUED) == 6 * 4
    assert "sent 16, retrying 0, failed 4, skipped 4" in out
    assert grew(queued, after, SENT) == 16
    assert grew(queued, after, FAILED) == 4
    assert grew(queued, after, SKIPPED) == 4
    assert grew(queued, after, REQUESTS, outcome="ok") == emulator.statuses[200] == 4 + 1
    assert grew(queued, after, REQUESTS, outcome="refused") == emulator.statuses[403] == 1
    assert grew(queued, after, REQUESTS, outcome="client_error") == emulator.statuses[400] == 1
    assert grew(queued, after, REQUESTS, outcome="rate_limited") == 0
    # One observation per alert sent, in seconds: each listing was seen moments ago.
    assert grew(queued, after, f"{LATENCY}_count") == 16
    assert grew(queued, after, f"{LATENCY}_bucket", le="60.0") == 16
    assert 0 < grew(queued, after, f"{LATENCY}_sum") < 16 * 60
    hours = discord_hours()
    assert hours["requests"] - hours_before["requests"] == emulator.requests == 7
    assert DiscordHour.objects.filter(hour__in={started_in, this_hour()}).exists()


def test_a_ban_counts_the_alerts_it_skips():
    [user] = sacai_fans(1)
    ingest_listings([listing(f"sacai item {n}") for n in range(3)])
    before = host_metrics()
    ban_user(user, "spam")
    assert grew(before, host_metrics(), SKIPPED) == 3


def test_global_429s_count_as_global_in_metrics_and_in_the_hour(discord):
    emulator = discord(global_limit=10)  # Discord says less than we pace for
    for user in sacai_fans(60):
        open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    before, hours_before = host_metrics(), discord_hours()
    Sender(get_transport()).drain()
    after, hours = host_metrics(), discord_hours()

    assert emulator.rate_limited["global"] > 0
    assert grew(before, after, LIMITED, scope="global") == emulator.rate_limited["global"]
    assert grew(before, after, LIMITED, scope="route") == 0
    assert grew(before, after, REQUESTS, outcome="rate_limited") == emulator.statuses[429]
    assert grew(before, after, SENT) == 60
    assert (
        hours["limited_global"] - hours_before["limited_global"] == emulator.rate_limited["global"]
    )
    assert hours["limited_route"] == hours_before["limited_route"]
    assert hours["requests"] - hours_before["requests"] == emulator.requests


def test_a_429_of_one_channels_bucket_counts_as_route(discord):
    emulator = discord(channel_limit=1, channel_window=1.5)
    [user] = sacai_fans(1)
    open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    # Another client (the bot, say) just took the channel's only unit: the sender's
    # first post, made before it knows the bucket, meets a per-route 429.
    request = urllib.request.Request(
        f"{emulator.base_url}/channels/{user.dm_channel_id}/messages",
        data=b'{"content": "hello"}',
        headers={
            "Authorization": f"Bot {emulator.config.token}",
            "Content-Type": "application/json",
        },
    )
    urllib.request.urlopen(request, timeout=10).close()
    before, hours_before = host_metrics(), discord_hours()
    Sender(get_transport()).drain()
    after, hours = host_metrics(), discord_hours()

    assert emulator.rate_limited["user"] >= 1
    assert grew(before, after, LIMITED, scope="route") == emulator.rate_limited["user"]
    assert grew(before, after, LIMITED, scope="global") == 0
    assert grew(before, after, SENT) == 1
    assert hours["limited_route"] - hours_before["limited_route"] == emulator.rate_limited["user"]
    assert hours["limited_global"] == hours_before["limited_global"]


def test_a_running_sender_writes_the_hour_on_its_heartbeat_and_keeps_it_through_a_locked_table(
    discord, manage_py
):
    emulator = discord(latency=(0.02, 0.06))
    for user in sacai_fans(60):
        open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    hours_before = discord_hours()
    env = discord_env(
        emulator,
        DISCORD_REQUESTS_PER_SECOND="10",  # 6 s of sending: the lock comes mid-delivery
        ALERTS_HEARTBEAT_SECONDS="0.3",
        ALERTS_IDLE_SECONDS="0.2",
        SQLITE_TIMEOUT_SECONDS="1",
        PGOPTIONS="-c lock_timeout=1000",
    )
    sender = manage_py("sendalerts", env=env)
    wait_for_sent(5)
    with transaction.atomic():
        # Longer than the sender's lock timeout: its writes fail meanwhile (on PostgreSQL
        # only those of the hour).
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {DiscordHour._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        else:
            DiscordHour.objects.filter(pk=0).update(requests=0)  # takes SQLite's write lock
        time.sleep(3)
    wait_for_sent(60)
    # Still running: the heartbeat, not the stop, brings the hour up to date.
    deadline = time.monotonic() + 30
    while discord_hours()["requests"] - hours_before["requests"] < emulator.requests:
        assert time.monotonic() < deadline, "the heartbeat did not record the requests"
        time.sleep(0.1)
    assert sender.poll() is None
    sender.send_signal(signal.SIGTERM)
    _, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err
    if connection.vendor == "postgresql":
        # Only the hour's table was locked: sending went on, and its writes of the hour failed.
        assert "could not record Discord's answers" in err
    else:
        # SQLite's lock stops every write: the sender waited (and may have sent nothing new).
        assert "database is locked" in err
    assert "Traceback" not in err
    # Nothing lost while the table was locked, nothing added twice.
    assert discord_hours()["requests"] - hours_before["requests"] == emulator.requests


def test_senders_adding_to_one_hour_at_once_lose_nothing():
    hour = datetime(2030, 1, 1, 12, 30, tzinfo=UTC)
    errors: list[BaseException] = []

    def sender_beats() -> None:
        try:
            for _ in range(10):
                DiscordHour.objects.add(hour, 3, 1, 2)
        except BaseException as error:  # reported by the test thread
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sender_beats) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    row = DiscordHour.objects.get()
    assert row.hour == datetime(2030, 1, 1, 12, tzinfo=UTC)
    assert (row.requests, row.rate_limited_global, row.rate_limited_route) == (120, 40, 80)
