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
"""

from __future__ import annotations

from lib.pacing import LocalBudget

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
    """Send slots shared through Redis by every process using the same key."""

    def __init__(self, redis_url: str, rate: float, key: str = "discord:global-budget") -> None:
        import redis

        self.interval_us = int(1_000_000 / rate)
        self.key = key
        self._client = redis.Redis.from_url(redis_url)
        self._script = self._client.register_script(REDIS_SCRIPT)
        self._peek = self._client.register_script(PEEK_SCRIPT)
        self._block = self._client.register_script(BLOCK_SCRIPT)

    def reserve(self) -> float:
        return int(self._script(keys=[self.key], args=[self.interval_us])) / 1_000_000

    def peek(self) -> float:
        return int(self._peek(keys=[self.key])) / 1_000_000

    def block(self, seconds: float) -> None:
        self._block(keys=[self.key], args=[int(seconds * 1_000_000)])


def make_budget(rate: float, name: str) -> LocalBudget | RedisBudget:
    """The budget for `rate` requests/s: shared through Redis when REDIS_URL is set."""
    from django.conf import settings

    if settings.REDIS_URL:
        return RedisBudget(settings.REDIS_URL, rate, key=f"discord:{name}")
    return LocalBudget(rate)
