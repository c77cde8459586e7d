"""With Redis, senders share each route's bucket: two senders on one channel meet no route 429."""

from __future__ import annotations

import re
import signal
import time
import uuid
from collections import Counter

import pytest

from alerts.buckets import SharedRouteBuckets
from alerts.models import Alert, SenderStatus
from tests.alerts.test_sendalerts import discord_env, wait_for_sent
from users.models import User

ANSWER = {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "5.0"}


def shared_buckets(redis_url: str, prefix: str, lease_seconds: float = 20.0) -> SharedRouteBuckets:
    return SharedRouteBuckets(redis_url, lease_seconds=lease_seconds, prefix=prefix)


def test_until_the_first_answer_only_one_request_is_in_flight_across_senders(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    first, second = shared_buckets(redis_url, prefix), shared_buckets(redis_url, prefix)

    assert first.try_acquire("channels/1/messages") == 0
    assert second.try_acquire("channels/1/messages") > 0  # the limit is unknown yet
    assert second.wait("channels/1/messages") > 0
    first.release("channels/1/messages", 200, ANSWER)

    # Four units left, taken by whichever sender asks; the fifth waits for the reset.
    taken = [b.try_acquire("channels/1/messages") for b in (first, second, second, first)]
    assert taken == [0, 0, 0, 0]
    assert 1.0 < second.try_acquire("channels/1/messages") <= 5.0
    assert first.try_acquire("channels/2/messages") == 0  # another channel, another bucket


def test_a_route_429_blocks_the_route_for_every_sender(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    first, second = shared_buckets(redis_url, prefix), shared_buckets(redis_url, prefix)
    first.try_acquire("channels/1/messages")
    first.release(
        "channels/1/messages",
        429,
        {"X-RateLimit-Scope": "user", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "1"},
        retry_after=2.5,
    )
    assert 1.0 < second.try_acquire("channels/1/messages") <= 2.5


def test_a_request_whose_sender_died_holds_the_route_only_for_its_lease(redis_url):
    prefix = f"test:{uuid.uuid4().hex}:"
    dead = shared_buckets(redis_url, prefix, lease_seconds=0.5)
    alive = shared_buckets(redis_url, prefix)
    assert dead.try_acquire("channels/1/messages") == 0  # and never answered
    assert alive.try_acquire("channels/1/messages") > 0
    deadline = time.monotonic() + 10
    while alive.try_acquire("channels/1/messages") > 0:
        assert time.monotonic() < deadline, "the dead sender's request never lapsed"
        time.sleep(0.05)


def channel_fans(emulator, channel_id: str, users: int, alerts_each: int) -> None:
    """Users whose alerts all go to one server channel, with as many alerts each."""
    from scraping.ingest import ingest_listings
    from tests.builders import listing, make_filter, make_user
    from users.services import set_destination

    emulator.add_channel(channel_id, guild_id="9")
    for _ in range(users):
        user = make_user()
        make_filter(user, brands=["Sacai"])
        set_destination(user, "channel", channel_id, "9")
    ingest_listings([listing(f"sacai item {n}") for n in range(alerts_each)])


def assert_each_alert_in_the_channel_exactly_once(emulator, channel_id: str) -> None:
    """Each alert is one embed in the channel, pinging its user; no alert twice."""
    posted = Counter(
        (embed["description"].split(">", 1)[0].removeprefix("<@"), embed["url"])
        for message in emulator.messages_in(channel_id)
        for embed in message["embeds"]
    )
    discord_ids = dict(User.objects.values_list("pk", "discord_id"))
    expected = Counter(
        (discord_ids[user_id], url)
        for user_id, url in Alert.objects.values_list("user_id", "listing__url")
    )
    assert posted == expected
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


def wait_until(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout}s"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_senders_posting_to_one_channel_share_its_bucket_and_meet_no_route_429(
    discord, manage_py, redis_url
):
    # The first sender alone spends the channel's bucket (5 messages a window); the second
    # starts, and the first is stopped while the bucket is still spent, so the second takes
    # the channel over mid-window (and may have taken turns on it before). With buckets of
    # its own it would not know what the first spent and would meet a 429.
    emulator = discord(latency=(0.02, 0.06), channel_window=2.0)
    channel_fans(emulator, "777", users=8, alerts_each=20)  # 40 messages of 4: 8 windows
    env = discord_env(
        emulator,
        REDIS_URL=redis_url,
        ALERTS_BATCH_SIZE="1",
        ALERTS_IDLE_SECONDS="0.02",
        DISCORD_REQUESTS_PER_SECOND="40",
    )
    first = manage_py("sendalerts", env=env)
    wait_until(lambda: len(emulator.messages_in("777")) >= 5, "the first sender's first window")
    second = manage_py("sendalerts", env=env)
    wait_until(lambda: SenderStatus.objects.count() == 2, "the second sender's start")
    assert Alert.objects.filter(status="pending").exists(), "the first sender left nothing over"
    first.send_signal(signal.SIGTERM)
    outputs = [first.communicate(timeout=30)]
    wait_for_sent(8 * 20, timeout=120)
    second.send_signal(signal.SIGTERM)
    outputs.append(second.communicate(timeout=30))

    for sender, (out, err) in zip((first, second), outputs, strict=True):
        assert sender.returncode == 0, err
        assert int(re.search(r"sendalerts done: sent (\d+)", out).group(1)) > 0
    assert emulator.rate_limited["user"] == emulator.rate_limited["shared"] == 0
    assert emulator.rate_limited["global"] == 0
    assert_each_alert_in_the_channel_exactly_once(emulator, "777")
