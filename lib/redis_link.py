"""One Redis link per process for the state processes share, degrading instead of failing.

Senders share Discord's budgets and route buckets through Redis, and every process reads
the filter index stamp from it. None of that is the truth (the database is), so when
Redis does not answer, each caller falls back to what the process can do alone, and the
link:
- logs one warning when an outage starts and one line when Redis answers again, never
  one per request;
- asks Redis again at most once per RETRY_SECONDS while it is down, so a dead Redis costs
  one failed attempt a second, not one per request. Callers run on the sender's event
  loop, so every attempt is bounded by TIMEOUT.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry

log = logging.getLogger(__name__)

TIMEOUT = 0.5  # seconds, to connect and to answer
RETRY_SECONDS = 1.0  # while Redis is down, how often it is asked again

T = TypeVar("T")


class RedisLink:
    def __init__(self, url: str) -> None:
        # One retry: a pooled connection left over from before a Redis restart fails once,
        # and a fresh one works; against a stopped Redis the retry is one more refused connect.
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=TIMEOUT,
            socket_connect_timeout=TIMEOUT,
            retry=Retry(NoBackoff(), 1),
        )
        self._scripts: dict[str, Script] = {}
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._next_try = 0.0

    @property
    def is_down(self) -> bool:
        """Whether the last attempt failed (and no later one has succeeded)."""
        return self._down_since is not None

    def script(self, source: str) -> Script:
        """The Lua script registered once on this link's client."""
        with self._lock:
            if source not in self._scripts:
                self._scripts[source] = self.client.register_script(source)
            return self._scripts[source]

    def run(self, operation: Callable[[], T], fallback: Callable[[], T]) -> T:
        """`operation()` through Redis; `fallback()` when Redis fails or is known to be down."""
        with self._lock:
            if self._down_since is not None and time.monotonic() < self._next_try:
                return fallback()
        try:
            result = operation()
        except (redis.RedisError, OSError) as error:
            self._failed(error)
            return fallback()
        if self._down_since is not None:
            self._answered()
        return result

    def _failed(self, error: Exception) -> None:
        with self._lock:
            now = time.monotonic()
            self._next_try = now + RETRY_SECONDS
            if self._down_since is not None:
                return
            self._down_since = now
        log.warning(
            "Redis (REDIS_URL) does not answer (%s: %s): until it does, this process paces "
            "Discord requests on its own share of the budget, keeps its own route buckets "
            "and reads the filter index stamp from the database",
            type(error).__name__,
            error,
        )

    def _answered(self) -> None:
        with self._lock:
            if self._down_since is None:
                return
            outage = time.monotonic() - self._down_since
            self._down_since = None
        log.info(
            "Redis (REDIS_URL) answers again after %.0fs: budgets, route buckets and the "
            "index stamp are shared through it again",
            outage,
        )


_links: dict[str, RedisLink] = {}
_links_lock = threading.Lock()


def redis_link(url: str) -> RedisLink:
    """The process's link to the Redis at `url`: one per URL, so an outage is logged once."""
    with _links_lock:
        if url not in _links:
            _links[url] = RedisLink(url)
        return _links[url]
