"""Per-route buckets learned from Discord's headers keep a channel under its limit."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

from alerts.buckets import RouteBuckets
from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_first_answer_teaches_the_limit_and_the_reset():
    clock = FakeClock()
    buckets = RouteBuckets(clock)
    assert buckets.try_acquire("messages:1") == 0
    assert buckets.try_acquire("messages:1") > 0  # limit unknown: one request at a time
    buckets.release(
        "messages:1", 200, {"X-RateLimit-Remaining": "4", "X-RateLimit-Reset-After": "5.0"}
    )
    assert [buckets.try_acquire("messages:1") for _ in range(4)] == [0, 0, 0, 0]
    assert buckets.try_acquire("messages:1") == 5.0
    assert buckets.try_acquire("messages:2") == 0  # another channel, another bucket
    for _ in range(4):
        buckets.release("messages:1", 200, {})
    clock.now += 5.0
    assert buckets.try_acquire("messages:1") == 0


def test_a_429_blocks_the_route_for_retry_after_and_never_less():
    clock = FakeClock()
    buckets = RouteBuckets(clock)
    buckets.try_acquire("messages:1")
    buckets.release(
        "messages:1",
        429,
        {
            "X-RateLimit-Remaining": "3",
            "X-RateLimit-Reset-After": "0.5",
            "X-RateLimit-Scope": "user",
        },
        retry_after=2.5,
    )
    assert buckets.try_acquire("messages:1") == 2.5
    clock.now += 2.4
    assert buckets.try_acquire("messages:1") > 0
    clock.now += 0.1
    assert buckets.try_acquire("messages:1") == 0


def test_concurrent_senders_to_one_channel_never_hit_its_limit():
    emulator = DiscordEmulator(
        EmulatorConfig(channel_limit=5, channel_window=1.0, latency=(0.01, 0.03))
    )
    emulator.add_channel("10")
    buckets = RouteBuckets()
    with RunningEmulator(emulator) as running:

        def send(n: int) -> None:
            while (wait := buckets.try_acquire("messages:10")) > 0:
                time.sleep(wait)
            request = urllib.request.Request(
                f"{running.base_url}/channels/10/messages",
                data=json.dumps({"content": f"alert {n}"}).encode(),
                headers={"Authorization": "Bot test-token", "Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    buckets.release("messages:10", response.status, dict(response.headers))
            except urllib.error.HTTPError as error:
                retry_after = json.loads(error.read()).get("retry_after")
                buckets.release("messages:10", error.code, dict(error.headers), retry_after)

        started = time.monotonic()
        senders = [
            threading.Thread(target=lambda k=k: [send(k * 5 + i) for i in range(5)])
            for k in range(3)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    assert emulator.statuses[429] == 0
    assert len(emulator.messages_in("10")) == 15
    assert time.monotonic() - started >= 2.0  # 15 messages at 5 per second
