"""The admin's password login: guessing stops after ADMIN_LOGIN_ATTEMPTS failures, and
ADMIN_URL moves the admin."""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.urls import clear_url_caches, reverse

from tests.builders import make_user
from tests.conftest import ROOT

PASSWORD = "a long passphrase 42"
TOO_MANY = "Too many failed sign-ins; try again in 15 minutes."

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_counts_left_behind(settings):
    # A fast hasher: a failed sign-in costs a full password hash, and these tests make many.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The counts live in the cache, which outlives a test: none may leak into another test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def moderator():
    user = make_user("moderator", is_staff=True, is_superuser=True)
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in(client, username: str, password: str, address: str = "127.0.0.1"):
    return client.post(
        f"{reverse('admin:login')}?next={reverse('admin:index')}",
        {"username": username, "password": password},
        REMOTE_ADDR=address,
    )


def signed_in(client) -> bool:
    return client.get(reverse("admin:index")).status_code == 200


def test_the_right_password_after_100_wrong_ones_is_refused_and_does_not_sign_in(client, moderator):
    answers = [sign_in(client, "moderator", f"guess {n}").status_code for n in range(100)]
    assert answers[:5] == [200] * 5  # the login form again, with its error
    assert set(answers[5:]) == {429}

    right = sign_in(client, "moderator", PASSWORD)
    assert right.status_code == 429
    assert TOO_MANY in right.content.decode()
    assert int(right["Retry-After"]) > 0
    assert not signed_in(client)


def test_after_the_window_the_right_password_works(client, moderator, monkeypatch):
    for n in range(5):
        sign_in(client, "moderator", f"guess {n}")
    assert sign_in(client, "moderator", PASSWORD).status_code == 429

    real_time = time.time
    # The cache's expiry and the limiter both read this clock.
    monkeypatch.setattr(time, "time", lambda: real_time() + 15 * 60 + 1)
    answer = sign_in(client, "moderator", PASSWORD)
    assert answer.status_code == 302 and answer["Location"] == reverse("admin:index")
    assert signed_in(client)


def test_the_wait_shown_counts_down_with_the_window(client, moderator, monkeypatch):
    for n in range(5):
        sign_in(client, "moderator", f"guess {n}")
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 14 * 60 + 10)
    answer = sign_in(client, "moderator", PASSWORD)
    assert answer.status_code == 429
    assert "Too many failed sign-ins; try again in 1 minute." in answer.content.decode()


def test_a_lock_holds_the_address_for_anyone_but_not_the_username_elsewhere(client, moderator):
    other = make_user("other-moderator", is_staff=True)
    other.set_password(PASSWORD)
    other.save(update_fields=["password"])
    for n in range(5):
        sign_in(client, "moderator", f"guess {n}", address="203.0.113.7")

    # The same address, for anyone: refused.
    assert sign_in(client, "other-moderator", PASSWORD, "203.0.113.7").status_code == 429
    assert sign_in(client, "moderator", PASSWORD, "203.0.113.7").status_code == 429
    # The same username from an address that is not locked: the right password gets in.
    answer = sign_in(client, "moderator", PASSWORD, "198.51.100.9")
    assert answer.status_code == 302
    assert signed_in(client)


def test_failing_for_a_username_from_many_addresses_slows_it_but_never_locks_it_out(
    client, moderator, monkeypatch
):
    from ops import admin_login

    pauses: list[float] = []
    monkeypatch.setattr(admin_login, "pause", pauses.append)
    # Five requests every 15 minutes once locked staff out for everyone; now each address
    # gets its own five, and the username's failures past five are answered later.
    answers = [
        sign_in(client, "moderator", f"guess {n}", address=f"198.51.100.{n}").status_code
        for n in range(12)
    ]
    assert answers == [200] * 12  # the form again, never a lock
    assert pauses == [0, 0, 0, 0, 0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.0]

    right = sign_in(client, "moderator", PASSWORD, address="192.0.2.1")
    assert right.status_code == 302 and signed_in(client)
    assert len(pauses) == 12  # the right password waits for nothing


def test_an_ipv6_guesser_cannot_dodge_the_limit_by_changing_addresses_in_its_network(
    client, moderator
):
    for n in range(5):
        sign_in(client, f"nobody{n}", "guess", address=f"2001:db8:1:2::{n + 1}")
    assert sign_in(client, "someone-else", "guess", "2001:db8:1:2::99").status_code == 429
    assert sign_in(client, "moderator", PASSWORD, "2001:db8:1:3::1").status_code == 302


def test_a_successful_sign_in_clears_the_count(client, moderator):
    for n in range(4):
        sign_in(client, "moderator", f"typo {n}")
    assert sign_in(client, "moderator", PASSWORD).status_code == 302
    client.logout()
    for n in range(4):
        assert sign_in(client, "moderator", f"typo {n}").status_code == 200
    assert sign_in(client, "moderator", PASSWORD).status_code == 302


def test_the_lock_is_logged_once_without_the_password(client, moderator, caplog):
    with caplog.at_level(logging.INFO, logger="ops.admin_login"):
        for n in range(30):
            sign_in(client, "moderator", f"secret-guess-{n}", address="203.0.113.7")
    warnings = [r for r in caplog.records if r.name == "ops.admin_login"]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    line = warnings[0].getMessage()
    assert "203.0.113.7" in line and "'moderator'" in line
    assert "secret-guess" not in caplog.text


def test_the_attempts_and_the_window_come_from_settings(client, moderator, settings):
    settings.ADMIN_LOGIN_ATTEMPTS = 2
    settings.ADMIN_LOGIN_WINDOW_SECONDS = 120
    assert sign_in(client, "moderator", "guess 1").status_code == 200
    assert sign_in(client, "moderator", "guess 2").status_code == 200
    answer = sign_in(client, "moderator", PASSWORD)
    assert answer.status_code == 429
    assert "try again in 2 minutes." in answer.content.decode()


def test_with_redis_the_counts_are_in_redis_for_every_web_process(
    client, moderator, settings, redis_url
):
    import redis

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": f"test-{secrets.token_hex(4)}",
        }
    }
    cache.clear()
    for n in range(5):
        sign_in(client, "moderator", f"guess {n}")
    assert sign_in(client, "moderator", PASSWORD).status_code == 429

    # What another process sees: the counts, in Redis, expiring with the window.
    server = redis.Redis.from_url(redis_url)
    keys = [key for key in server.keys(f"{settings.CACHES['default']['KEY_PREFIX']}:*")]
    counters = [key for key in keys if b"admin-login-failures" in key and b":since" not in key]
    assert len(counters) == 2  # the address and the username
    assert all(0 < server.ttl(key) <= 900 for key in counters)
    assert all(int(server.get(key)) == 5 for key in counters)
    cache.clear()


@pytest.fixture
def admin_at(settings):
    """Reload the URLs with another ADMIN_URL; back to the default afterwards."""
    import config.urls

    def move(prefix: str) -> None:
        settings.ADMIN_URL = prefix
        importlib.reload(config.urls)
        clear_url_caches()

    yield move
    settings.ADMIN_URL = "admin/"
    importlib.reload(config.urls)
    clear_url_caches()


def test_admin_url_moves_the_admin_and_its_throttled_login(client, moderator, admin_at):
    admin_at("staff-7f3a9c/")
    assert reverse("admin:index") == "/staff-7f3a9c/"
    assert reverse("admin:login") == "/staff-7f3a9c/login/"
    assert client.get("/admin/").status_code == 404
    assert client.get("/admin/login/").status_code == 404
    for n in range(5):
        assert sign_in(client, "moderator", f"guess {n}").status_code == 200
    assert sign_in(client, "moderator", PASSWORD).status_code == 429
    cache.clear()
    answer = sign_in(client, "moderator", PASSWORD)
    assert answer.status_code == 302 and answer["Location"] == "/staff-7f3a9c/"
    assert client.get("/staff-7f3a9c/").status_code == 200


def test_by_default_the_admin_stays_at_admin(client):
    assert reverse("admin:index") == "/admin/"
    assert reverse("admin:login") == "/admin/login/"
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ADMIN_URL": "/admin/"}, "ADMIN_URL must be a path"),
        ({"ADMIN_URL": "admin"}, "ADMIN_URL must be a path"),
        ({"ADMIN_URL": "staff admin/"}, "ADMIN_URL must be a path"),
        ({"ADMIN_LOGIN_ATTEMPTS": "0"}, "ADMIN_LOGIN_ATTEMPTS and ADMIN_LOGIN_WINDOW_SECONDS"),
        ({"ADMIN_LOGIN_WINDOW_SECONDS": "soon"}, "ADMIN_LOGIN_WINDOW_SECONDS must be a whole"),
    ],
)
def test_a_malformed_admin_setting_is_refused_by_name(env, message):
    environment = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "/nonexistent/.env",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": "sqlite:////tmp/admin-login-never-created.sqlite3",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert message in done.stderr
