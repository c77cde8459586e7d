"""Per-route rate-limit buckets, learned from Discord's X-RateLimit-* response headers.

A route is one endpoint on one top-level resource (messages to one channel are
one route, typically 5 per 5 s). Buckets are never merged on Discord's bucket
hash alone, which the documentation calls unreliable. Until a route's first
answer of a window arrives only one request is let through, so concurrent senders cannot
overshoot a limit nobody knows yet. Every request takes a unit of the known
remaining count before it is sent; a 429 blocks the route for its `retry_after`
and never less.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass


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
            return 0.05  # the first answer will tell the limit
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
