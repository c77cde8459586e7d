"""Error reports: the DEBUG 500 page and Sentry events show no credentials and no personal data.

This module is also the URLconf of its tests: /boom/ fails with secrets in its message.
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import path

from tests.conftest import ROOT, subprocess_database_url

# Random, so the page's source excerpts of this module cannot show them either.
PASSWORD = f"pg-{secrets.token_hex(8)}"
REDIS_PASSWORD = f"redis-{secrets.token_hex(8)}"
PROXY_PASSWORD = f"proxy-{secrets.token_hex(8)}"
FEED_PASSWORD = f"feed-{secrets.token_hex(8)}"
BOT_TOKEN = f"MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.{secrets.token_hex(12)}"


def boom(request):
    proxy = settings.SCRAPING_PROXY  # a local variable with a password, shown on the page
    raise RuntimeError(f"could not reach {proxy} with Bot {settings.DISCORD_BOT_TOKEN}")


urlpatterns = [path("boom/", boom)]

URL_SETTINGS = {
    "DATABASE_URL": f"postgres://app:{PASSWORD}@db:5432/app",
    "REDIS_URL": f"redis://:{REDIS_PASSWORD}@cache:6379/0",
    "SCRAPING_PROXY": f"http://scraper:{PROXY_PASSWORD}@proxy:3128",
    "JSONFEED_URLS": [f"https://feeds:{FEED_PASSWORD}@feeds.example.com/listings.jsonl"],
    # Where the same URLs are copied: the cache's location, django-q2's broker.
    "Q_CLUSTER": {"name": "market-alerts", "redis": f"redis://:{REDIS_PASSWORD}@cache:6379/0"},
}
PASSWORDS = (PASSWORD, REDIS_PASSWORD, PROXY_PASSWORD, FEED_PASSWORD, BOT_TOKEN)


@pytest.mark.parametrize("accept", ["text/html", "text/plain"])
def test_the_debug_error_page_shows_no_password_of_any_url_setting(accept):
    client = Client(raise_request_exception=False)
    with override_settings(
        DEBUG=True, ROOT_URLCONF=__name__, DISCORD_BOT_TOKEN=BOT_TOKEN, **URL_SETTINGS
    ):
        response = client.get("/boom/", HTTP_ACCEPT=accept)
    assert response.status_code == 500
    page = response.content.decode()
    assert "RuntimeError" in page and "DATABASE_URL" in page  # Django's technical page
    for secret in PASSWORDS:
        assert secret not in page
    if accept == "text/html":
        assert "could not reach http://scraper:***@proxy:3128 with Bot ***" in page


# -- Sentry ------------------------------------------------------------------------------


class SentryCollector(BaseHTTPRequestHandler):
    """Sentry's envelope endpoint: keeps each request body, answers 200."""

    bodies: list[bytes]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.bodies.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def sentry_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), SentryCollector)
    server.bodies = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def events_in(bodies: list[bytes]) -> list[dict]:
    """The event items of Sentry envelopes: a header line, then item headers and payloads."""
    events = []
    for body in bodies:
        _, _, rest = body.partition(b"\n")
        while rest.strip():
            line, _, rest = rest.partition(b"\n")
            if not line.strip():
                continue
            header = json.loads(line)
            if "length" in header:
                payload, rest = rest[: header["length"]], rest[header["length"] + 1 :]
            else:
                payload, _, rest = rest.partition(b"\n")
            if header.get("type") == "event":
                events.append(json.loads(payload))
    return events


# A real WSGI server (Sentry reads the request as a server hands it over) and one request
# to it from a signed-in browser behind a proxy.
REQUEST_AS_A_SIGNED_IN_USER = """
import os, threading, urllib.error, urllib.request
from wsgiref.simple_server import WSGIRequestHandler, make_server
import django
django.setup()
import sentry_sdk
from django.conf import settings
from django.test import Client, override_settings
from users.models import User

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

override_settings(ROOT_URLCONF="tests.config.test_error_reports").enable()
from config.wsgi import application
server = make_server("127.0.0.1", 0, application, handler_class=Quiet)
threading.Thread(target=server.serve_forever, daemon=True).start()
browser = Client()
browser.force_login(User.objects.get(username=os.environ["TEST_USERNAME"]))
session_key = browser.cookies["sessionid"].value
request = urllib.request.Request(
    f"http://127.0.0.1:{server.server_port}/boom/",
    headers={
        "Cookie": f"sessionid={session_key}",
        "X-Forwarded-For": "198.51.100.9",
        "X-Real-IP": "203.0.113.7",
        "Authorization": "Bearer " + os.environ["TEST_API_TOKEN"],
    },
)
try:
    urllib.request.urlopen(request, timeout=30)
except urllib.error.HTTPError as error:
    print(error.code, session_key, sentry_sdk.get_client().is_active())
sentry_sdk.flush(timeout=10)
server.shutdown()
"""


def run_python(script: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SENTRY_")}
    environment |= {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "/nonexistent/.env",
        "DATABASE_URL": subprocess_database_url(),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_server_error_reaches_sentry_without_personal_data_or_secrets(sentry_server):
    from tests.builders import make_user
    from users.services import create_token

    user = make_user("sentry-alice", email="alice@example.com")
    _, api_token = create_token(user, "script")
    port = sentry_server.server_address[1]
    done = run_python(
        REQUEST_AS_A_SIGNED_IN_USER,
        TEST_USERNAME=user.username,
        TEST_API_TOKEN=api_token,
        SENTRY_DSN=f"http://publickey@127.0.0.1:{port}/1",
        SENTRY_ENVIRONMENT="test",
        DISCORD_BOT_TOKEN=BOT_TOKEN,
        SCRAPING_PROXY=URL_SETTINGS["SCRAPING_PROXY"],
    )
    assert done.returncode == 0, done.stderr
    status, session_key, active = done.stdout.split()
    assert (status, active) == ("500", "True")

    events = events_in(sentry_server.bodies)
    assert events, "no event reached the Sentry server"
    [error] = [e for e in events if e.get("exception")]
    assert error["environment"] == "test"
    assert error["exception"]["values"][-1]["type"] == "RuntimeError"
    assert "Bot ***" in error["exception"]["values"][-1]["value"]
    assert error["request"]["url"].endswith("/boom/")
    assert error["request"]["headers"]["Cookie"] == "[Filtered]"
    sent = json.dumps(events)
    for private in (
        *PASSWORDS,
        api_token,
        session_key,
        "sentry-alice",
        "alice@example.com",
        "203.0.113.7",
        "198.51.100.9",
    ):
        assert private not in sent, private
    assert "cookies" not in error["request"] and "user" not in error
    assert "env" not in error["request"] or "REMOTE_ADDR" not in error["request"]["env"]


def test_without_a_dsn_sentry_is_not_started():
    done = run_python(
        "import django; django.setup(); import sentry_sdk; "
        "print(sentry_sdk.get_client().is_active())"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
