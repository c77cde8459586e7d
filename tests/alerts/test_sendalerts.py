"""`manage.py sendalerts` as a real process: console output, SIGTERM and SIGKILL."""

from __future__ import annotations

import re
import signal
import time

import pytest

from alerts.models import Alert

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
