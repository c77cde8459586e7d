"""Which web requests read the replica (lib/db_router.py has the router's rules), and read
your writes: a client that has just written reads the primary for REPLICA_STICKY_SECONDS.

A request may read the replica when it is a GET, HEAD or OPTIONS of the pages (the
dashboard, filters, alerts, settings, the account page), the API (/api/v1/) or the staff
dashboard, and its client has not written lately. Everything else, the admin and the
sign-in flow (allauth's pages, whose GET callback signs in) among them, reads the primary.

Any request that wrote, whatever its method or path, marks its client for
REPLICA_STICKY_SECONDS, longer than the replica's usual lag, so its next pages show the
change: a browser by a signed cookie (no server state, any web process reads it), an API
token by a cache entry keyed by the token's hash (shared by every web process only when
the cache is Redis, REDIS_URL). Without a replica the middleware steps aside.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from lib.db_router import replica_in_use, request_reads

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
PAGES = ("/filters/", "/alerts/", "/settings/", "/api/v1/")
EXACT_PAGES = {"/", "/accounts/"}
STICKY_COOKIE = "primary_reads"
STICKY_SALT = "config.replica.sticky"
# Seconds since the epoch; tests move it to see a window end.
clock = time.time


def reads_replica_path(path: str) -> bool:
    """Whether a safe request for `path` may read the replica (see the module's docstring)."""
    return (
        path in EXACT_PAGES or path.startswith(PAGES) or path == f"/{settings.ADMIN_URL}operations/"
    )


def _token_key(request: HttpRequest) -> str | None:
    """The cache key of the API token the request carries, if it carries one."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    return "replica-sticky:" + hashlib.sha256(header.encode()).hexdigest()


def _wrote_lately(request: HttpRequest) -> bool:
    moments = [request.get_signed_cookie(STICKY_COOKIE, default=None, salt=STICKY_SALT)]
    if (key := _token_key(request)) is not None:
        moments.append(cache.get(key))
    window = settings.REPLICA_STICKY_SECONDS
    for moment in moments:
        try:
            if moment is not None and clock() - float(moment) < window:
                return True
        except ValueError:  # not a moment of ours: ignore it
            continue
    return False


def _remember_write(request: HttpRequest, response: HttpResponse) -> None:
    seconds = math.ceil(settings.REPLICA_STICKY_SECONDS)
    if seconds <= 0:
        return
    now = repr(clock())
    response.set_signed_cookie(
        STICKY_COOKIE,
        now,
        salt=STICKY_SALT,
        max_age=seconds,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    if (key := _token_key(request)) is not None:
        cache.set(key, now, timeout=seconds)


class ReplicaReadsMiddleware:
    """Marks each request's reads for the router, and remembers a client's writes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not replica_in_use():
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        replica = (
            request.method in SAFE_METHODS
            and reads_replica_path(request.path_info)
            and not _wrote_lately(request)
        )
        with request_reads(replica=replica) as reads:
            response = self.get_response(request)
        if reads.wrote:
            _remember_write(request, response)
        return response
