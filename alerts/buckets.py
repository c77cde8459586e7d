"""Per-route rate-limit buckets, learned from Discord's X-RateLimit-* response headers.

A route is one endpoint on one top-level resource (messages to one channel are
one route, typically 5 per 5 s). Buckets are never merged on Discord's bucket
hash alone, which the documentation calls unreliable. Until a route's first
answer of a window arrives only one request is let through, so concurrent senders cannot
overshoot a limit nobody knows yet. Every request takes a unit of the known
remaining count before it is sent; a 429 blocks the route for its `retry_after`
and never less.

`RouteBuckets` learns for one process. With `REDIS_URL` the senders share
`SharedRouteBuckets`: the same rules, run by Lua scripts on one Redis hash per
route ("discord:route:<route>", times from Redis' clock) that expires a second
after the bucket's reset or block, so a route nobody posts to costs nothing. The
requests in flight are tickets in a sorted set beside it, each expiring after a
lease, so a sender killed mid-request holds the "one request until the first
answer" rule for at most that lease. While Redis does not answer, each process
falls back to its own `RouteBuckets` (lib/redis_link.py) and goes back to the
shared ones when Redis answers again; an answer is recorded where its request
took its unit.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings

from lib.redis_link import redis_link

PROBE_WAIT = 0.05  # while the first answer of a window is awaited: how long others wait


@dataclass
class _Bucket:
    remaining: int | None = None  # None: no answer yet
    reset_at: float = 0.0
    blocked_until: float = 0.0
    in_flight: int = 0


class RouteBuckets:
    def __init__(self, clock=time.monotonic) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def wait(self, route: str) -> float:
        """Seconds before the route may take a request (0: now), without taking a unit."""
        with self._lock:
            bucket = self._buckets.get(route)
            return self._wait(bucket, self._clock()) if bucket else 0.0

    def try_acquire(self, route: str) -> float:
        """Take a unit of the route's bucket; return 0, or the seconds to wait and try again."""
        with self._lock:
            bucket = self._buckets.setdefault(route, _Bucket())
            wait = self._wait(bucket, self._clock())
            if wait > 0:
                return wait
            if bucket.remaining is not None and bucket.remaining <= 0:
                bucket.remaining = None  # refilled, but by how much is learned again
            elif bucket.remaining is not None:
                bucket.remaining -= 1
            bucket.in_flight += 1
            return 0.0

    @staticmethod
    def _wait(bucket: _Bucket, now: float) -> float:
        if bucket.blocked_until > now:
            return bucket.blocked_until - now
        if bucket.remaining is not None and bucket.remaining <= 0 and bucket.reset_at > now:
            return bucket.reset_at - now
        unknown = bucket.remaining is None or bucket.remaining <= 0
        if unknown and bucket.in_flight:
            return PROBE_WAIT  # the first answer will tell the limit
        return 0.0

    def release(
        self, route: str, status: int, headers: Mapping[str, str], retry_after: float | None = None
    ) -> None:
        """Record what the answer to an acquired request said about its route."""
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(route, _Bucket())
            bucket.in_flight = max(0, bucket.in_flight - 1)
            remaining = headers.get("X-RateLimit-Remaining")
            reset_after = headers.get("X-RateLimit-Reset-After")
            if remaining is not None and reset_after is not None:
                # Units taken by requests still in flight may not be in Discord's count yet.
                told = int(remaining) - bucket.in_flight
                if bucket.remaining is None or now >= bucket.reset_at:
                    bucket.remaining, bucket.reset_at = told, now + float(reset_after)
                else:
                    # Answers can arrive out of order: within a window an answer may
                    # only lower what we believe is left, never raise it.
                    bucket.remaining = min(bucket.remaining, told)
                    bucket.reset_at = max(bucket.reset_at, now + float(reset_after))
            if (
                status == 429
                and retry_after is not None
                and headers.get("X-RateLimit-Scope") != "global"
            ):
                bucket.blocked_until = max(bucket.blocked_until, now + retry_after)


# Every script reads the route's state with Redis' clock (microseconds), forgets the
# tickets whose lease ran out and counts the ones left, as `RouteBuckets` keeps them.
_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local b = redis.call('HMGET', KEYS[1], 'remaining', 'reset_at', 'blocked_until')
local remaining = tonumber(b[1])
local reset_at = tonumber(b[2]) or 0
local blocked_until = tonumber(b[3]) or 0
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
"""

_WAIT = """
local function wait(in_flight)
  if blocked_until > now then return blocked_until - now end
  if remaining ~= nil and remaining <= 0 and reset_at > now then return reset_at - now end
  if (remaining == nil or remaining <= 0) and in_flight > 0 then return tonumber(ARGV[1]) end
  return 0
end
"""

_SAVE = """
local function save()
  if remaining == nil then
    redis.call('HDEL', KEYS[1], 'remaining')
  else
    redis.call('HSET', KEYS[1], 'remaining', remaining)
  end
  redis.call('HSET', KEYS[1], 'reset_at', reset_at, 'blocked_until', blocked_until)
  local keep = math.max(reset_at, blocked_until) - now
  redis.call('PEXPIRE', KEYS[1], math.max(0, math.ceil(keep / 1000)) + 1000)
end
"""

# ARGV: probe wait (us). Returns the wait in microseconds.
WAIT_SCRIPT = _READ + _WAIT + "return wait(redis.call('ZCARD', KEYS[2]))"

# ARGV: probe wait (us), ticket, lease (us). Returns 0 (the unit is taken) or the wait.
ACQUIRE_SCRIPT = (
    _READ
    + _WAIT
    + _SAVE
    + """
local w = wait(redis.call('ZCARD', KEYS[2]))
if w > 0 then return w end
if remaining ~= nil and remaining <= 0 then
  remaining = nil  -- refilled, but by how much is learned again
elseif remaining ~= nil then
  remaining = remaining - 1
end
local lease = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now + lease, ARGV[2])
redis.call('PEXPIRE', KEYS[2], math.ceil(lease / 1000) + 1000)
save()
return 0
"""
)

# ARGV: ticket, status, X-RateLimit-Remaining or '', Reset-After (us) or '',
# retry_after (us) or '', X-RateLimit-Scope or ''.
RELEASE_SCRIPT = (
    _READ
    + _SAVE
    + """
redis.call('ZREM', KEYS[2], ARGV[1])
local in_flight = redis.call('ZCARD', KEYS[2])
if ARGV[3] ~= '' and ARGV[4] ~= '' then
  -- Units taken by requests still in flight may not be in Discord's count yet.
  local told = tonumber(ARGV[3]) - in_flight
  local reset = now + tonumber(ARGV[4])
  if remaining == nil or now >= reset_at then
    remaining, reset_at = told, reset
  else
    -- Within a window an answer may only lower what is believed left, never raise it.
    remaining = math.min(remaining, told)
    reset_at = math.max(reset_at, reset)
  end
end
if ARGV[2] == '429' and ARGV[5] ~= '' and ARGV[6] ~= 'global' then
  blocked_until = math.max(blocked_until, now + tonumber(ARGV[5]))
end
save()
return 0
"""
)


def _us(seconds: float) -> int:
    return int(seconds * 1_000_000)


class SharedRouteBuckets:
    """Route buckets in Redis, shared by every sender; this process's own while Redis is down."""

    def __init__(
        self, redis_url: str, lease_seconds: float, prefix: str = "discord:route:"
    ) -> None:
        self.link = redis_link(redis_url)
        self.local = RouteBuckets()
        self.prefix = prefix
        self.lease_us = _us(lease_seconds)
        self._wait = self.link.script(WAIT_SCRIPT)
        self._acquire = self.link.script(ACQUIRE_SCRIPT)
        self._release = self.link.script(RELEASE_SCRIPT)
        self._owner = uuid.uuid4().hex[:12]
        self._serial = itertools.count()
        # Tickets of this process's requests in flight that took their unit in Redis, by
        # route; any of a route's tickets stands for any of its requests.
        self._tickets: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def _keys(self, route: str) -> list[str]:
        return [self.prefix + route, f"{self.prefix}{route}:in-flight"]

    def wait(self, route: str) -> float:
        """Seconds before the route may take a request (0: now), without taking a unit."""
        return self.link.run(
            lambda: int(self._wait(keys=self._keys(route), args=[_us(PROBE_WAIT)])) / 1_000_000,
            lambda: self.local.wait(route),
        )

    def try_acquire(self, route: str) -> float:
        """Take a unit of the route's bucket; return 0, or the seconds to wait and try again."""
        ticket = f"{self._owner}:{next(self._serial)}"
        wait = self.link.run(lambda: self._acquire_shared(route, ticket), lambda: None)
        if wait is None:
            return self.local.try_acquire(route)
        if wait == 0:
            with self._lock:
                self._tickets.setdefault(route, []).append(ticket)
        return wait

    def release(
        self, route: str, status: int, headers: Mapping[str, str], retry_after: float | None = None
    ) -> None:
        """Record what the answer to an acquired request said about its route."""
        with self._lock:
            tickets = self._tickets.get(route, [])
            ticket = tickets.pop() if tickets else None
            if not tickets:
                self._tickets.pop(route, None)
        if ticket is None:  # its unit was taken while Redis was down
            self.local.release(route, status, headers, retry_after)
            return
        recorded = self.link.run(
            lambda: self._release_shared(route, ticket, status, headers, retry_after),
            lambda: False,
        )
        if not recorded:  # Redis went away meanwhile: what the answer said is learned here
            self.local.release(route, status, headers, retry_after)

    def _acquire_shared(self, route: str, ticket: str) -> float:
        args: list[int | str] = [_us(PROBE_WAIT), ticket, self.lease_us]
        return int(self._acquire(keys=self._keys(route), args=args)) / 1_000_000

    def _release_shared(
        self,
        route: str,
        ticket: str,
        status: int,
        headers: Mapping[str, str],
        retry_after: float | None,
    ) -> bool:
        remaining = headers.get("X-RateLimit-Remaining")
        reset_after = headers.get("X-RateLimit-Reset-After")
        # What Discord said of the bucket, as the script reads it; empty when it said nothing.
        told = (
            (str(int(remaining)), str(_us(float(reset_after))))
            if remaining is not None and reset_after is not None
            else ("", "")
        )
        args = [
            ticket,
            str(status),
            *told,
            "" if retry_after is None else str(_us(retry_after)),
            headers.get("X-RateLimit-Scope") or "",
        ]
        self._release(keys=self._keys(route), args=args)
        return True


def make_buckets() -> RouteBuckets | SharedRouteBuckets:
    """The route buckets: shared through Redis when REDIS_URL is set."""
    if settings.REDIS_URL:
        # A request holds its ticket at most its timeout after its global slot, which
        # rarely waits more than a few seconds.
        return SharedRouteBuckets(
            settings.REDIS_URL, lease_seconds=settings.DISCORD_REQUEST_TIMEOUT + 5
        )
    return RouteBuckets()
