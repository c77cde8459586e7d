"""Redis going away mid-delivery: senders pace alone, lose and repeat nothing, and share again."""

from __future__ import annotations

import logging
import time

import pytest
import redis

from alerts.buckets import SharedRouteBuckets
from alerts.models import Alert
from alerts.ratelimit import RedisBudget
from tests.alerts.test_sendalerts import (
    assert_each_alert_posted_exactly_once,
    discord_env,
    fans_with_alerts,
    wait_for_sent,
)

WENT_AWAY = "Redis (REDIS_URL) does not answer"
CAME_BACK = "Redis (REDIS_URL) answers again"


def redis_health(client) -> tuple[int, str]:
    response = client.get("/health")
    return response.status_code, response.json()["checks"]["redis"]["status"]


def test_without_redis_a_process_paces_at_its_share_and_keeps_its_own_buckets(own_redis, caplog):
    budget = RedisBudget(own_redis.url, rate=40, key="test:budget", local_rate=20)
    buckets = SharedRouteBuckets(own_redis.url, lease_seconds=20)
    route = "channels/1/messages"
    caplog.set_level(logging.INFO, logger="lib.redis_link")

    own_redis.stop()
    slots = [time.monotonic() + budget.reserve() for _ in range(21)]
    assert slots[-1] - slots[0] >= 20 / 20 - 0.01  # 20/s, this process's share of 40/s
    assert buckets.try_acquire(route) == 0
    assert buckets.try_acquire(route) > 0  # alone, the first answer still comes first
    buckets.release(route, 200, {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "5"})
    assert [buckets.try_acquire(route) for _ in range(5)][:4] == [0, 0, 0, 0]
    went_away = [r for r in caplog.records if r.getMessage().startswith(WENT_AWAY)]
    assert len(went_away) == 1  # once for the outage, not once per call

    own_redis.start()
    shared = redis.Redis.from_url(own_redis.url)
    deadline = time.monotonic() + 15
    while not shared.exists("test:budget"):  # asked again within a second or so
        assert time.monotonic() < deadline, "the budget never went back to Redis"
        budget.reserve()
        time.sleep(0.05)
    assert buckets.try_acquire(route) == 0  # a fresh Redis: the route is learned again
    assert shared.exists("discord:route:" + route)
    assert len([r for r in caplog.records if r.getMessage().startswith(CAME_BACK)]) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_senders_keep_going_through_a_redis_outage_and_share_again_after_it(
    discord, manage_py, own_redis, client, settings
):
    emulator = discord(latency=(0.02, 0.06))
    fans_with_alerts(emulator, users=240, alerts_each=1)
    # 28 requests/s shared; while Redis is away each sender paces at half of it. Pacing
    # alone at the full rate, the two would reach 56/s and meet Discord's global limit.
    env = discord_env(
        emulator,
        REDIS_URL=own_redis.url,
        DISCORD_REQUESTS_PER_SECOND="28",
        DISCORD_SENDER_PROCESSES="2",
        ALERTS_BATCH_SIZE="10",
    )
    settings.REDIS_URL = own_redis.url
    assert redis_health(client) == (200, "ok")
    senders = [manage_py("sendalerts", "--drain", env=env) for _ in range(2)]
    wait_for_sent(40, timeout=60)

    own_redis.stop()
    went_away = time.monotonic()
    sent_before = Alert.objects.filter(status="sent").count()
    assert redis_health(client) == (503, "failing")
    wait_for_sent(sent_before + 40, timeout=60)  # they keep sending without it
    time.sleep(max(0.0, 3 - (time.monotonic() - went_away)))  # an outage of a few seconds
    assert redis_health(client) == (503, "failing")
    own_redis.start()
    assert redis_health(client) == (200, "ok")

    # Back on the shared path: the restarted (empty) Redis gets the senders' budget again.
    restarted = redis.Redis.from_url(own_redis.url)
    shared_again = False
    while not shared_again and any(sender.poll() is None for sender in senders):
        shared_again = restarted.exists("discord:global-budget") > 0
        time.sleep(0.02)
    outputs = [sender.communicate(timeout=120) for sender in senders]
    for sender, (_, err) in zip(senders, outputs, strict=True):
        assert sender.returncode == 0, err
        assert err.count(WENT_AWAY) == 1, err  # one line per outage, not one per request
        assert err.count(CAME_BACK) == 1, err
        assert "Traceback" not in err
    assert shared_again
    assert Alert.objects.count() == 240
    assert_each_alert_posted_exactly_once(emulator)
    assert emulator.rate_limited["global"] == 0
