"""`manage.py sendalerts` as a real process: console output, SIGTERM and SIGKILL."""

from __future__ import annotations

import re
import signal
import time

import pytest

from alerts.models import Alert
from users.models import User

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_drain_prints_one_readable_block_per_alert(queued_alerts, run_command):
    from scraping.ingest import ingest_listings
    from tests.builders import listing, make_filter, make_user

    alice = make_user("alice")
    make_filter(alice, "Sacai knit", brands=["Sacai"], keywords=["knit"])
    make_filter(alice, "Anything sacai", brands=["サカイ"])
    ingest_listings(
        [
            listing(
                "sacai ドッキング knit",
                price=12345,
                market="rakuma",
                url="https://item.fril.jp/abc",
            )
        ]
    )
    status, out, _ = run_command("sendalerts", "--drain")
    assert status == 0
    assert "── alert for alice (direct message) ──" in out
    assert (
        "filters: Anything sacai, Sacai knit" in out or "filters: Sacai knit, Anything sacai" in out
    )
    assert "sacai ドッキング knit" in out
    assert "¥12,345 · Rakuma" in out
    assert "https://item.fril.jp/abc" in out
    assert "sendalerts done: sent 1, retrying 0, failed 0, skipped 0" in out
    assert Alert.objects.get().status == "sent"


def wait_for_sent(at_least: int, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = Alert.objects.filter(status="sent").count()
        if sent >= at_least:
            return sent
        time.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} alerts sent in {timeout}s")


def test_sigterm_finishes_the_batch_and_exits_cleanly(queued_alerts, manage_py):
    queued_alerts(400)
    sender = manage_py("sendalerts", env={"ALERTS_BATCH_SIZE": "5"})
    wait_for_sent(20)
    started = time.monotonic()
    sender.send_signal(signal.SIGTERM)
    out, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err
    assert time.monotonic() - started < 10
    assert "received SIGTERM" in err
    assert "sendalerts done: sent" in out
    assert not Alert.objects.exclude(lease_owner="").exists()  # nothing left held
    assert set(Alert.objects.values_list("status", flat=True)) <= {"sent", "pending"}


def test_sigkill_at_any_moment_loses_nothing_and_settles_each_alert_once(queued_alerts, manage_py):
    queued_alerts(300)
    env = {"ALERTS_BATCH_SIZE": "10", "ALERTS_LEASE_SECONDS": "1"}
    printed: list[str] = []
    for _ in range(3):
        sender = manage_py("sendalerts", env=env)
        wait_for_sent(Alert.objects.filter(status="sent").count() + 15)
        sender.send_signal(signal.SIGKILL)
        out, _ = sender.communicate(timeout=15)
        printed += re.findall(r"https://jp\.mercari\.com/item/\S+", out)
    time.sleep(1.2)  # the killed senders' leases expire
    finisher = manage_py("sendalerts", "--drain", env=env)
    out, err = finisher.communicate(timeout=60)
    assert finisher.returncode == 0, err
    printed += re.findall(r"https://jp\.mercari\.com/item/\S+", out)

    assert Alert.objects.count() == 300
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    assert set(printed) == set(Alert.objects.values_list("listing__url", flat=True))
    # The console cannot take a message back: only a batch in flight at a kill may print twice.
    assert len(printed) - len(set(printed)) <= 3 * 10


def discord_env(emulator, **extra: str) -> dict[str, str]:
    return {
        "DISCORD_BOT_TOKEN": emulator.config.token,
        "DISCORD_API_BASE": emulator.base_url,
        "DISCORD_DM_OPENS_PER_SECOND": "4",
        **extra,
    }


def fans_with_alerts(emulator, users: int, alerts_each: int, cold: int = 0) -> None:
    """Users with a Sacai filter and as many alerts each; the last `cold` have no DM channel yet."""
    from scraping.ingest import ingest_listings
    from tests.alerts.conftest import open_dm
    from tests.builders import listing, make_filter, make_user

    for n in range(users):
        user = make_user()
        make_filter(user, brands=["Sacai"])
        if n < users - cold:
            open_dm(emulator, user)
    ingest_listings([listing(f"sacai item {n}") for n in range(alerts_each)])


def assert_each_alert_posted_exactly_once(emulator) -> None:
    from collections import Counter

    posted = Counter(
        (message["channel_id"], embed["url"])
        for message in emulator.messages
        for embed in message["embeds"]
    )
    expected = Counter(
        (user.dm_channel_id, url)
        for user_id, url in Alert.objects.values_list("user_id", "listing__url")
        for user in [User.objects.get(pk=user_id)]
    )
    assert posted == expected
    message_ids = {m["id"] for m in emulator.messages}
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}
    assert set(Alert.objects.values_list("message_id", flat=True)) <= message_ids


def test_sigkill_during_discord_delivery_ends_with_every_alert_posted_exactly_once(
    discord, manage_py
):
    emulator = discord(latency=(0.05, 0.15), channel_window=1.0)
    fans_with_alerts(emulator, users=35, alerts_each=25, cold=5)  # 5 DMs opened on the way
    env = discord_env(
        emulator,
        DISCORD_REQUESTS_PER_SECOND="15",
        ALERTS_LEASE_SECONDS="2",
        ALERTS_BATCH_SIZE="40",
    )
    for pause in (1.3, 0.7, 1.9):
        sender = manage_py("sendalerts", env=env)
        time.sleep(pause)
        sender.send_signal(signal.SIGKILL)
        sender.communicate(timeout=15)
    assert Alert.objects.filter(status="pending").exists()  # the kills came mid-delivery
    time.sleep(2.2)  # the killed senders' leases expire
    finisher = manage_py("sendalerts", "--drain", env=env)
    _, err = finisher.communicate(timeout=120)
    assert finisher.returncode == 0, err
    assert Alert.objects.count() == 35 * 25
    assert_each_alert_posted_exactly_once(emulator)


def test_two_senders_share_one_redis_budget_and_stay_under_discords_global_limit(
    discord, manage_py, redis_url
):
    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=400, alerts_each=1)
    # Paced at 40/s, not the default 47: on a loaded machine the emulator's jitter bunched
    # arrivals into a 51st request in one second. Two senders with budgets of their own
    # would still reach 80/s and meet many 429s.
    env = discord_env(
        emulator, REDIS_URL=redis_url, ALERTS_BATCH_SIZE="20", DISCORD_REQUESTS_PER_SECOND="40"
    )
    senders = [manage_py("sendalerts", "--drain", env=env) for _ in range(2)]
    outputs = [sender.communicate(timeout=120) for sender in senders]
    for sender, (out, err) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, err
        sent = int(re.search(r"sendalerts done: sent (\d+)", out).group(1))
        assert sent > 50  # both took a real share of the work
        assert re.search(r"sent \d+, .*pending \d+, [\d.]+ requests/s, 429s: none", err)
        assert "finished after" in err
    assert emulator.rate_limited["global"] == 0
    assert emulator.max_requests_in_a_second <= 50
    assert_each_alert_posted_exactly_once(emulator)


def test_a_drain_started_after_a_sigkill_takes_over_the_dead_senders_alerts_within_a_lease(
    discord, manage_py
):
    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=120, alerts_each=2)  # a message each
    env = discord_env(
        emulator,
        DISCORD_REQUESTS_PER_SECOND="40",
        ALERTS_LEASE_SECONDS="6",
        ALERTS_HEARTBEAT_SECONDS="1",
        ALERTS_BATCH_SIZE="50",  # the sender holds up to 200 alerts at a time
    )
    first = manage_py("sendalerts", "--drain", env=env)
    wait_for_sent(40)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=15)
    held = Alert.objects.filter(status="pending").exclude(lease_owner="").count()
    assert held > 100  # it died holding alerts
    left = Alert.objects.filter(status="pending").count()
    started = time.monotonic()
    restarted = manage_py("sendalerts", "--drain", env=env)
    _, err = restarted.communicate(timeout=120)
    took = time.monotonic() - started
    assert restarted.returncode == 0, err
    assert_each_alert_posted_exactly_once(emulator)  # nothing left behind, nothing twice
    # One lease for the dead sender's leases to lapse, plus the drain itself (a
    # message per user left, at 40 requests/s), plus a few seconds to start Django.
    assert took < 6 + left / 2 / 40 + 5


def test_a_live_sender_renews_its_leases_so_they_never_lapse(discord, manage_py):
    from django.utils import timezone

    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=5, alerts_each=60)  # 6 messages a user: 6 s on each bucket
    env = discord_env(emulator, ALERTS_LEASE_SECONDS="2", ALERTS_HEARTBEAT_SECONDS="0.5")
    sender = manage_py("sendalerts", "--drain", env=env)
    wait_for_sent(10)
    lapsed = 0
    while sender.poll() is None:
        lapsed += Alert.objects.filter(
            status="pending", lease_expires_at__lt=timezone.now()
        ).count()
        time.sleep(0.1)
    _, err = sender.communicate()
    assert sender.returncode == 0, err
    assert lapsed == 0
    assert_each_alert_posted_exactly_once(emulator)


def test_without_redis_the_task_after_a_scan_leaves_sending_to_the_running_sendalerts(
    discord, manage_py
):
    from alerts.tasks import send_due_alerts
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=200, alerts_each=1, cold=40)
    # Paced well under 50/s, so only a second process sending beside it can reach the limit.
    env = discord_env(emulator, ALERTS_IDLE_SECONDS="0.2", DISCORD_REQUESTS_PER_SECOND="30")
    sender = manage_py("sendalerts", env=env)
    wait_for_sent(20)
    ingest_listings([listing("sacai second coat")])  # a scan queues more for everybody
    # The django-q2 task queued after that scan, in this process beside the sender.
    print("the task:", send_due_alerts())
    wait_for_sent(400, timeout=60)
    sender.send_signal(signal.SIGTERM)
    _, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err
    assert emulator.rate_limited["global"] == 0
    assert emulator.max_requests_in_a_second <= 50
    assert max(emulator.dm_opens.values()) == 1  # each DM opened once, by one process
    assert_each_alert_posted_exactly_once(emulator)


def test_a_locked_database_makes_the_sender_wait_and_carry_on(discord, manage_py):
    from django.db import connection, transaction

    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=60, alerts_each=1)
    env = discord_env(
        emulator,
        DISCORD_REQUESTS_PER_SECOND="10",  # 6 s of sending: the lock comes mid-delivery
        SQLITE_TIMEOUT_SECONDS="1",
        PGOPTIONS="-c lock_timeout=1000",
        ALERTS_IDLE_SECONDS="0.2",
    )
    sender = manage_py("sendalerts", env=env)
    wait_for_sent(10)
    with transaction.atomic():
        # Held longer than the sender's lock timeout: every write of the sender fails.
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {Alert._meta.db_table} IN ACCESS EXCLUSIVE MODE")
        else:
            Alert.objects.filter(pk=0).update(attempts=0)  # takes SQLite's write lock
        time.sleep(4)
    assert sender.poll() is None  # still running
    wait_for_sent(60, timeout=60)
    sender.send_signal(signal.SIGTERM)
    _, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err
    assert "database unavailable" in err or "could not record an outcome" in err
    assert "Traceback" not in err
    assert_each_alert_posted_exactly_once(emulator)
