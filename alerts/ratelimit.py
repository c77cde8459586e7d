"""The global request budget of the bot token: smooth pacing, shared across processes.

Discord allows 50 requests per second per bot token over any sliding second.
Senders reserve send slots spaced 1/rate apart (a generic cell rate algorithm
with no burst): each reservation moves the "next free slot" forward by one
interval and tells the caller how long to wait for its slot. Requests therefore
leave evenly spaced, never in bursts, and a late caller never catches up by
sending two at once.

Without Redis the slot clock lives in the process. With `REDIS_URL` it lives in
one Redis key, moved by one Lua script that reads Redis' own clock, so any
number of sender processes on any hosts share one budget. Run the pacer a
little under 50/s (47 by default, DISCORD_REQUESTS_PER_SECOND) so network
jitter never pushes a sliding second at Discord over the limit.

While Redis does not answer (lib/redis_link.py logs it once per outage), each
process paces itself on a local budget at its share of the rate: the rate
divided by DISCORD_SENDER_PROCESSES, the number of senders the operator runs
for the token. The full rate per process would let N senders reach N times
Discord's limit and meet global 429s, which count towards the invalid-request
ban; a share keeps them under it as long as the setting is not below the real
count. When Redis answers again each process goes back to the shared key at its
next reservation (within about a second). Either way round, a process's first
slot of the new kind comes after the slots it already holds of the old one, so
it never sends at both paces at once; a process still pacing alone for that
second adds its share beside the shared pace, which the share leaves room for.
"""

from __future__ import annotations

import threading
import time

from django.conf import settings

from lib.pacing import LocalBudget
from lib.redis_link import redis_link

REDIS_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, next_free)
redis.call('SET', KEYS[1], slot + interval, 'PX', math.ceil((slot + interval - now) / 1000) + 1000)
return slot - now
"""


PEEK_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
return math.max(0, next_free - now)
"""

BLOCK_SCRIPT = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local until_free = now + tonumber(ARGV[1])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_free > next_free then
  redis.call('SET', KEYS[1], until_free, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"""


class RedisBudget:
    """Send slots shared through Redis by every process using the same key; slots of a
    local budget at `local_rate` while Redis does not answer."""

    def __init__(
        self,
        redis_url: str,
        rate: float,
        key: str = "discord:global-budget",
        local_rate: float | None = None,
    ) -> None:
        self.interval_us = int(1_000_000 / rate)
        self.key = key
        self.link = redis_link(redis_url)
        self.local = LocalBudget(local_rate or rate)
        self._script = self.link.script(REDIS_SCRIPT)
        self._peek = self.link.script(PEEK_SCRIPT)
        self._block = self.link.script(BLOCK_SCRIPT)
        self._lock = threading.Lock()
        self._alone = False  # the last slot came from the local budget
        self._last_shared_slot = 0.0  # monotonic time of the last slot Redis gave this process

    def reserve(self) -> float:
        return self.link.run(self._reserve_shared, self._reserve_alone)

    def _reserve_shared(self) -> float:
        with self._lock:
            if self._alone:
                # Slots taken alone may still be ahead: no shared slot (for anybody) before
                # they have passed, or this process would send at both paces at once.
                if (pending := self.local.peek()) > 0:
                    self._block(keys=[self.key], args=[int(pending * 1_000_000)])
                self._alone = False
            wait = int(self._script(keys=[self.key], args=[self.interval_us])) / 1_000_000
            self._last_shared_slot = max(self._last_shared_slot, time.monotonic() + wait)
            return wait

    def _reserve_alone(self) -> float:
        with self._lock:
            if not self._alone:
                # Likewise, the first slot alone comes after the shared ones already given.
                self.local.block(self._last_shared_slot + self.local.interval - time.monotonic())
                self._alone = True
        return self.local.reserve()

    def peek(self) -> float:
        return self.link.run(lambda: int(self._peek(keys=[self.key])) / 1_000_000, self.local.peek)

    def block(self, seconds: float) -> None:
        # Locally too, so a reservation falling back right after still waits.
        self.local.block(seconds)
        self.link.run(
            lambda: self._block(keys=[self.key], args=[int(seconds * 1_000_000)]), lambda: None
        )


def make_budget(rate: float, name: str) -> LocalBudget | RedisBudget:
    """The budget for `rate` requests/s: shared through Redis when REDIS_URL is set."""
    if settings.REDIS_URL:
        share = rate / max(settings.DISCORD_SENDER_PROCESSES, 1)
        return RedisBudget(settings.REDIS_URL, rate, key=f"discord:{name}", local_rate=share)
    return LocalBudget(rate)
