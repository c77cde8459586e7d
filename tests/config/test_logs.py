"""Logs: one JSON object a line from every process, with its context, and never a secret."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings

from lib.logs import JsonFormatter, redact
from tests.conftest import ROOT

FAKE_BOT_TOKEN = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.fake-bot-token-for-the-log-test"
DB_PASSWORD = "db-hunter2-password"
SECRETS = {
    "DISCORD_BOT_TOKEN": FAKE_BOT_TOKEN,
    "DISCORD_CLIENT_SECRET": "client-secret-of-the-log-test",
    "METRICS_TOKEN": "metrics-token-of-the-log-test",
    "SECRET_KEY": "secret-key-of-the-log-test-" + "k" * 30,
}


def parse_json_lines(text: str) -> list[dict]:
    """Every line as a JSON object, each with the fields every line has."""
    lines = []
    for line in text.splitlines():
        try:
            parsed = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}") from None
        assert {"time", "level", "logger", "message"} <= parsed.keys(), line
        assert datetime.fromisoformat(parsed["time"]).utcoffset() == UTC.utcoffset(None)
        lines.append(parsed)
    return lines


def assert_no_secret(text: str, *secrets: str) -> None:
    for secret in (*SECRETS.values(), DB_PASSWORD, *secrets):
        assert secret not in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sender_refused_by_discord_logs_json_lines_naming_its_command_and_no_token(manage_py):
    from scraping.ingest import ingest_listings
    from tests.alerts.conftest import open_dm
    from tests.builders import listing, make_filter, make_user
    from tests.emulators.discord import DiscordEmulator, RunningEmulator

    emulator = DiscordEmulator()  # knows its own token, so ours is refused with 401
    user = make_user()
    make_filter(user, brands=["Sacai"])
    open_dm(emulator, user)
    ingest_listings([listing("sacai knit")])

    with RunningEmulator(emulator) as running:
        env = {"LOG_FORMAT": "json", "DEBUG": "false", "DISCORD_API_BASE": running.base_url}
        sender = manage_py("sendalerts", "--drain", env=env | SECRETS)
        out, err = sender.communicate(timeout=120)

    assert sender.returncode == 0, err
    assert emulator.statuses[401] >= 1
    lines = parse_json_lines(err)
    assert {line["command"] for line in lines} == {"sendalerts"}
    refused = [line for line in lines if "does not accept DISCORD_BOT_TOKEN" in line["message"]]
    assert refused and refused[0]["level"] == "ERROR"
    assert "sendalerts done:" in out  # the command's own summary stays plain text
    assert_no_secret(out + err)


SCRIPT = f"""
import logging
from django.conf import settings
log = logging.getLogger("tests.secrets")
log.warning("connecting to postgres://app:{DB_PASSWORD}@db:5432/app")
log.warning("headers %s", {{"Authorization": "Bot " + settings.DISCORD_BOT_TOKEN}})
log.warning("calling with Bearer %s and Bot %s", settings.METRICS_TOKEN, settings.DISCORD_BOT_TOKEN)
log.warning("keys %s %s", settings.SECRET_KEY, settings.DISCORD_CLIENT_SECRET)
try:
    raise ConnectionError("redis://:{DB_PASSWORD}@cache:6379/0 refused " + settings.SECRET_KEY)
except ConnectionError:
    log.exception("the cache is down")
"""


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_secrets_a_process_logs_are_redacted_in_either_format(manage_py, log_format):
    shell = manage_py(
        "shell",
        "-v",
        "0",
        "-c",
        SCRIPT,
        env={"LOG_FORMAT": log_format, "DEBUG": "false", **SECRETS},
    )
    out, err = shell.communicate(timeout=60)
    assert shell.returncode == 0, err
    assert_no_secret(out + err)
    assert "postgres://app:***@db:5432/app" in err
    assert "redis://:***@cache:6379/0" in err
    if log_format == "json":
        lines = parse_json_lines(err)
        assert [line["command"] for line in lines] == ["shell"] * 5
        assert "Authorization" in lines[1]["message"] and "Bot ***" in lines[1]["message"]
        assert lines[2]["message"] == "calling with Bearer *** and Bot ***"
        assert lines[3]["message"] == "keys *** ***"
        assert lines[4]["message"] == "the cache is down"
        assert "Traceback" in lines[4]["exception"]
        assert "ConnectionError: redis://:***@cache:6379/0 refused ***" in lines[4]["exception"]
    else:
        assert "WARNING tests.secrets: keys *** ***" in err
        assert "ERROR tests.secrets: the cache is down\nTraceback" in err
        with pytest.raises(json.JSONDecodeError):
            json.loads(err.splitlines()[0])


def log_format_of(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in {"LOG_FORMAT", "DEBUG"}}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.LOG_FORMAT)",
        ],
        cwd=ROOT,
        env=environment
        | {"DJANGO_SETTINGS_MODULE": "config.settings", "ENV_FILE": "/nonexistent/.env", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_log_format_is_json_in_production_plain_with_debug_and_anything_else_is_refused():
    assert log_format_of(DEBUG="false").stdout.strip() == "json"
    assert log_format_of(DEBUG="true").stdout.strip() == "plain"
    assert log_format_of(DEBUG="true", LOG_FORMAT="json").stdout.strip() == "json"
    refused = log_format_of(LOG_FORMAT="yaml")
    assert refused.returncode != 0
    assert "LOG_FORMAT must be json or plain, not 'yaml'" in refused.stderr


@pytest.fixture
def json_log():
    """The console handler writing JSON into a buffer; returns a function giving its lines."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    printed = io.StringIO()
    previous_stream, previous_formatter = handler.setStream(printed), handler.formatter
    handler.setFormatter(JsonFormatter())
    yield lambda: parse_json_lines(printed.getvalue())
    handler.setStream(previous_stream)
    handler.setFormatter(previous_formatter)


@pytest.mark.django_db
def test_a_web_request_logs_one_line_and_every_line_carries_the_request_id(client, json_log):
    response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="edge-7f3a.42")
    assert response.status_code == 404
    assert response["X-Request-ID"] == "edge-7f3a.42"
    lines = json_log()
    assert {line["request_id"] for line in lines} == {"edge-7f3a.42"}
    # One line for the request, its own: not Django's "Not Found" beside it.
    [request] = lines
    assert request["logger"] == "web.request" and request["level"] == "WARNING"
    assert request["method"] == "GET"
    assert request["path"] == "/no-such-page/"
    assert request["status"] == 404
    assert isinstance(request["duration_ms"], float)
    assert request["message"].startswith("GET /no-such-page/ 404 ")


@pytest.mark.django_db
@pytest.mark.parametrize("offered", [None, "", "has spaces", "x" * 129, "new\nline", "ü-nicode"])
def test_without_a_sane_request_id_a_new_one_is_made_and_returned(client, json_log, offered):
    headers = {} if offered is None else {"HTTP_X_REQUEST_ID": offered}
    first = client.get("/no-such-page/?token=mat_abcdefghijklmnopqrstuvwxyz", **headers)
    second = client.get("/no-such-page/", **headers)
    made = first["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0
    assert second["X-Request-ID"] != made
    requests = [line for line in json_log() if line["logger"] == "web.request"]
    assert [line["request_id"] for line in requests] == [made, second["X-Request-ID"]]
    assert "token" not in requests[0]["path"]  # query strings are not logged


def task_body() -> None:
    logging.getLogger("tests.task").warning("working")


def test_a_django_q_worker_names_the_running_task_on_its_lines(json_log):
    from django_q.signals import post_execute_in_worker, pre_execute

    task = {"id": "abc", "name": "alpha-bravo", "func": "tests.config.test_logs.task_body"}
    pre_execute.send(sender="django_q", func=task_body, task=task)
    task_body()
    post_execute_in_worker.send(sender="django_q", func=task_body, task=task)
    logging.getLogger("tests.task").warning("idle")
    working, idle = json_log()
    assert working["task"] == "tests.config.test_logs.task_body"
    assert "task" not in idle


@pytest.mark.django_db
def test_api_tokens_and_the_sentry_key_are_redacted():
    from tests.builders import make_user
    from users.services import create_token

    _, secret = create_token(make_user(), "laptop")
    assert secret not in redact(f"request with Authorization: Bearer {secret}")
    assert secret not in redact(f"token {secret} pasted in a message")
    with override_settings(SENTRY_DSN="https://0123456789abcdef@o1.ingest.sentry.io/42"):
        assert redact("dsn key 0123456789abcdef") == "dsn key ***"


def test_ordinary_words_after_bot_or_a_url_without_password_are_left_alone():
    text = "Bot disconnected; see https://example.com:8443/path?a=1 and alice@example.com"
    assert redact(text) == text


def test_an_oauth_callbacks_code_and_state_never_reach_a_log_line():
    from lib.logs import RedactSecrets

    request_line = "GET /accounts/discord/login/callback/?code=Q7abc123&state=Zx9state HTTP/1.1"
    record = logging.LogRecord(
        "django.server",
        logging.WARNING,
        __file__,
        1,
        '"%s" %s %s',
        (request_line, "400", "93"),
        None,
    )
    RedactSecrets().filter(record)
    line = record.getMessage()
    assert "Q7abc123" not in line and "Zx9state" not in line
    assert line == '"GET /accounts/discord/login/callback/?code=***&state=*** HTTP/1.1" 400 93'


@pytest.mark.django_db
def test_static_files_and_the_favicon_log_nothing_and_a_refused_host_one_line(json_log, settings):
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    fresh = Client()
    assert fresh.get("/static/css/site.css").status_code == 200
    assert fresh.get("/favicon.ico").status_code == 302
    assert json_log() == []
    assert fresh.get("/", HTTP_HOST="evil.example").status_code == 400
    lines = json_log()
    assert [line["logger"] for line in lines] == ["django.security.DisallowedHost", "web.request"]
    assert "exception" not in lines[0]  # what was refused, without a traceback


def test_runserver_logs_no_line_of_its_own_per_request(json_log):
    # What runserver logs for each request, beside the request's own line.
    server = logging.getLogger("django.server")
    server.warning('"%s" %s %s', "GET /nowhere/ HTTP/1.1", "404", "179", extra={"status_code": 404})
    server.info('"%s" %s %s', "GET / HTTP/1.1", "200", "2000", extra={"status_code": 200})
    assert json_log() == []
