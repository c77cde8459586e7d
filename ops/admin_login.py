"""The admin's password login, throttled against guessing without locking staff out.

An address is locked: after ADMIN_LOGIN_ATTEMPTS failed sign-ins from it (any
usernames) in ADMIN_LOGIN_WINDOW_SECONDS, its sign-ins answer 429 without looking
at the password, so a right password guessed after many wrong ones does not get in.
A username is only slowed, never locked, so that nobody can lock staff out by
failing for their username: past ADMIN_LOGIN_ATTEMPTS failures for it from any
addresses, each further failure is answered SLOWDOWN_STEP_SECONDS later per failure
(at most SLOWDOWN_MAX_SECONDS), while the right password from an address that is
not locked gets in at once. A successful sign-in clears its address's and its
username's counts. The counts live in Django's default cache: Redis when REDIS_URL
is set, shared by every web process (the local-memory cache of the embedded run
counts per process).

Routed in config/urls.py in front of the admin's own login URL, whose name
(`admin:login`) keeps working.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from typing import Any

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from lib.text import counted

log = logging.getLogger(__name__)
PREFIX = "admin-login-failures"
SLOWDOWN_STEP_SECONDS = 0.5
SLOWDOWN_MAX_SECONDS = 3.0


def throttled_admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's login view, refusing sign-ins while an address or username is locked."""
    if request.method != "POST":
        return admin.site.login(request, extra_context)
    username = request.POST.get("username", "")
    address = client_network(request)
    keys = failure_keys(address, username)
    now = time.time()
    wait = seconds_locked(keys[0], now)
    if wait:
        return refusal(request, username, wait)
    response = admin.site.login(request, extra_context)
    # The admin redirects after a sign-in and shows the form again after a failed one.
    if response.status_code == 302 and request.user.is_authenticated:
        cache.delete_many([*keys, *(since_key(key) for key in keys)])
    else:
        username_failures = record_failure(keys, now, address, username)
        pause(slowdown_seconds(username_failures))
    return response


def client_network(request: HttpRequest) -> str:
    """The client's address as allauth sees it (TRUSTED_PROXY_COUNT); an IPv6 client counts
    by its /64, which one machine usually holds whole."""
    address = ipaddress.ip_address(get_adapter(request).get_client_ip(request))
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def failure_keys(address: str, username: str) -> list[str]:
    """[the address's key, which locks; the username's key, which slows]."""
    # Usernames are hashed: cache keys must not hold spaces or control characters.
    name = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return [f"{PREFIX}:address:{address}", f"{PREFIX}:username:{name}"]


def since_key(key: str) -> str:
    return f"{key}:since"


def seconds_locked(key: str, now: float) -> float:
    """Seconds until `key` is no longer at the limit (0: not locked)."""
    values = cache.get_many([key, since_key(key)])
    if values.get(key, 0) < settings.ADMIN_LOGIN_ATTEMPTS:
        return 0.0
    # The window opened with the first failure; its start may expire a moment first.
    since = values.get(since_key(key), now)
    return max(since + settings.ADMIN_LOGIN_WINDOW_SECONDS - now, 1.0)


def record_failure(keys: list[str], now: float, address: str, username: str) -> int:
    """Count the failure for the address and the username; return the username's count."""
    window = settings.ADMIN_LOGIN_WINDOW_SECONDS
    counts = []
    for key in keys:
        cache.add(since_key(key), now, timeout=window)
        cache.add(key, 0, timeout=window)
        try:
            counts.append(cache.incr(key))  # atomic on Redis: concurrent failures all count
        except ValueError:  # it expired between the two calls
            cache.set(key, 1, timeout=window)
            counts.append(1)
    began = [
        what
        for what, count in zip(
            (f"address {address} locked", f"username {username[:150]!r} slowed"),
            counts,
            strict=True,
        )
        if count == settings.ADMIN_LOGIN_ATTEMPTS
    ]
    if began:
        # One line when a lock or a slowdown begins, not one per attempt; the username is
        # repr'd (it is the client's text) so it cannot forge log lines. Never the password.
        log.warning(
            "admin sign-in: %s: %s",
            counted(settings.ADMIN_LOGIN_ATTEMPTS, "failed sign-in"),
            ", ".join(began),
        )
    return counts[1]


def slowdown_seconds(username_failures: int) -> float:
    """How much later a failure for a username is answered: nothing up to the limit, then
    SLOWDOWN_STEP_SECONDS more per failure, at most SLOWDOWN_MAX_SECONDS."""
    beyond = username_failures - settings.ADMIN_LOGIN_ATTEMPTS
    return min(SLOWDOWN_MAX_SECONDS, SLOWDOWN_STEP_SECONDS * beyond) if beyond > 0 else 0.0


def pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def refusal(request: HttpRequest, username: str, wait: float) -> HttpResponse:
    """The login page again, answering 429 with when to try again."""
    minutes = max(1, math.ceil(wait / 60))
    messages.error(request, f"Too many failed sign-ins; try again in {counted(minutes, 'minute')}.")
    context: dict[str, Any] = {
        **admin.site.each_context(request),
        "title": "Log in",
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        "form": AdminAuthenticationForm(request, initial={"username": username}),
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME)
        or request.GET.get(REDIRECT_FIELD_NAME)
        or reverse("admin:index"),
    }
    response = TemplateResponse(
        request, admin.site.login_template or "admin/login.html", context, status=429
    )
    response["Retry-After"] = str(math.ceil(wait))
    add_never_cache_headers(response)
    return response
