"""Log lines and error events without secrets: JSON lines, redaction, and who is logging.

Every process logs through `LOGGING` (config/settings.py): one handler on the root
logger whose filters add the context (`AddLogContext`) and redact secrets
(`RedactSecrets`) before the `JsonFormatter` (or the plain format) writes the line.

The context of a line:
- `request_id` (`current_request_id`): set for the length of a web request by config/request_id.py;
- `command`: the management command of a `manage.py <command>` process, read once
  from sys.argv (so it holds in every thread, and in qcluster's forked workers);
- `task` (`current_task`): the django-q2 task a qcluster worker runs, set and cleared by the
  pre_execute / post_execute_in_worker signals (`LogsConfig.ready` connects them).

`redact()` is also what Sentry events (`init_sentry`) and Django's error pages
(config/error_reports.py) pass through, so the three agree on what a secret is.
"""

from __future__ import annotations

import html
import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.apps import AppConfig

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
current_task: ContextVar[str | None] = ContextVar("task", default=None)

MASK = "***"
# Shorter configured values are not replaced wherever they appear: a 3-letter
# "token" would blank out every word that contains it. Real secrets are longer.
MIN_SECRET_LENGTH = 8
# Settings whose values are secrets wherever they show up.
SECRET_SETTINGS = ("DISCORD_BOT_TOKEN", "DISCORD_CLIENT_SECRET", "SECRET_KEY", "METRICS_TOKEN")
# Settings holding URLs whose password (and, for a DSN, whose key) is a secret.
URL_SETTINGS = ("DATABASE_URL", "REDIS_URL", "SCRAPING_PROXY", "SENTRY_DSN")

# scheme://user:PASSWORD@host: the password runs to the last "@" before the path, as urlsplit reads it.
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#\s:@]*:)[^/?#\s]*@")
# The value of an Authorization header, however it was printed (header, dict, repr).
_AUTHORIZATION = re.compile(
    r"""(\bAuthorization["']?\s*[:=]\s*["']?)(?:(Bot|Bearer|Basic|Token)\s+)?[^\s"',;}]+""",
    re.IGNORECASE,
)
# "Bot <token>" / "Bearer <token>" in running text (an Authorization value quoted elsewhere).
_SCHEME_TOKEN = re.compile(r"\b(Bot|Bearer|bearer)\s+([A-Za-z0-9._~+/-]{8,}=*)")
# Personal API tokens: users.services.TOKEN_PREFIX ("mat_") and token_urlsafe(32).
_API_TOKEN = re.compile(r"(?<![A-Za-z0-9])mat_[A-Za-z0-9_-]{16,}")
# password=… in connection strings, "password": "…" in printed dicts and JSON.
# An OAuth callback's one-use code and its state, in a logged URL's query (runserver's
# request lines): enough, with the session, to finish somebody else's sign-in.
_OAUTH_QUERY = re.compile(r"([?&](?:code|state)=)[^&\s\"']+")
_KEY_VALUE = re.compile(r"\b(password|passwd|pwd|secret|token)=[^\s&;,'\"]+", re.IGNORECASE)
_QUOTED_KEY_VALUE = re.compile(
    r"""(["'](?:password|passwd|secret|token|api_key|access_token|refresh_token)["']\s*:\s*["'])"""
    r"""[^"']+""",
    re.IGNORECASE,
)


def _command_from_argv(argv: list[str]) -> str | None:
    """The command of `manage.py <command> …`, read as Django reads it (argv[1])."""
    if len(argv) < 2 or Path(argv[0]).name != "manage.py" or argv[1].startswith("-"):
        return None
    return argv[1]


command: str | None = _command_from_argv(sys.argv)


def _looks_like_a_token(value: str) -> bool:
    # "Bot disconnected" is prose; a token has a digit, an inner dot, or sheer length.
    return any(c.isdigit() for c in value) or "." in value.strip(".") or len(value) >= 24


def _mask_scheme_token(match: re.Match[str]) -> str:
    if not _looks_like_a_token(match.group(2)):
        return match.group(0)
    return f"{match.group(1)} {MASK}"


def configured_secrets() -> list[str]:
    """The secret values in the settings, longest first (so no secret is half-replaced)."""
    from django.conf import settings

    if not settings.configured:
        return []
    values = [str(getattr(settings, name, "") or "") for name in SECRET_SETTINGS]
    values += [str(value) for value in getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    for name in URL_SETTINGS:
        url = str(getattr(settings, name, "") or "")
        try:
            parts = urlsplit(url)
            values.append(parts.password or "")
            if name == "SENTRY_DSN":
                values.append(parts.username or "")  # a DSN's key is its user part
        except ValueError:
            continue
    database = getattr(settings, "DATABASES", {}).get("default", {})
    values.append(str(database.get("PASSWORD") or ""))
    return sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True)


def redact(text: str, escaped: bool = False, secrets: list[str] | None = None) -> str:
    """`text` with every secret replaced by ***: the configured ones, Authorization values,
    API tokens, passwords in URLs and an OAuth callback's code and state. `escaped`: also
    their HTML-escaped forms.
    `secrets`: configured_secrets(), when the caller redacts many texts at once."""
    for secret in configured_secrets() if secrets is None else secrets:
        text = text.replace(secret, MASK)
        if escaped:
            text = text.replace(html.escape(secret), MASK)
    text = _URL_PASSWORD.sub(rf"\1{MASK}@", text)
    text = _AUTHORIZATION.sub(
        lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{MASK}", text
    )
    text = _SCHEME_TOKEN.sub(_mask_scheme_token, text)
    text = _API_TOKEN.sub(f"mat_{MASK}", text)
    text = _OAUTH_QUERY.sub(rf"\1{MASK}", text)
    text = _KEY_VALUE.sub(rf"\1={MASK}", text)
    return _QUOTED_KEY_VALUE.sub(rf"\1{MASK}", text)


def redact_deep(value: Any, secrets: list[str] | None = None) -> Any:
    """Every string in a structure of dicts, lists and tuples redacted (a Sentry event)."""
    secrets = configured_secrets() if secrets is None else secrets
    if isinstance(value, str):
        return redact(value, secrets=secrets)
    if isinstance(value, dict):
        return {key: redact_deep(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_deep(item, secrets) for item in value)
    return value


# -- logging: filters and the JSON formatter ------------------------------------------

# What every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "request_id",
    "command",
    "task",
}
_TRACEBACKS = logging.Formatter()


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}


class AddLogContext(logging.Filter):
    """Put the request id, the command and the django-q2 task on each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        record.command = command
        record.task = current_task.get()
        return True


class RedactSecrets(logging.Filter):
    """Redact the formatted message, the traceback and any text `extra` of each record.

    On the root handler, so every logger's lines pass through it whatever the format.
    The record keeps the redacted text (args are merged into the message), so handlers
    after this one (pytest's caplog) see it redacted too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken logging call: the formatter reports it, as usual
            return True
        secrets = configured_secrets()
        record.msg, record.args = redact(message, secrets=secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets=secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets=secrets)
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value, secrets=secrets))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (ISO 8601, UTC), level, logger, message, the context
    (request_id, command, task) when set, scalar `extra` fields, and the traceback as
    `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("request_id", "command", "task"):
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        for key, value in _extras(record).items():
            # Objects (Django's `request` on django.request lines) would only add their repr.
            if key not in line and isinstance(value, str | int | float | bool):
                line[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# -- django-q2 tasks ---------------------------------------------------------------------


def _task_started(sender: object, func: object = None, task: dict | None = None, **kwargs) -> None:
    from django_q.utils import get_func_repr

    task = task or {}
    current_task.set(get_func_repr(func) if func is not None else str(task.get("func")))


def _task_finished(sender: object, **kwargs) -> None:
    current_task.set(None)


def connect_task_names() -> None:
    """Name the running django-q2 task on a worker's log lines (its function's path)."""
    from django_q.signals import post_execute_in_worker, pre_execute

    pre_execute.connect(_task_started, dispatch_uid="lib.logs.task_started")
    post_execute_in_worker.connect(_task_finished, dispatch_uid="lib.logs.task_finished")


class LogsConfig(AppConfig):
    """Installed only to connect the django-q2 signals once the apps are ready."""

    name = "lib.logs"
    label = "logs"
    verbose_name = "Logs"

    def ready(self) -> None:
        connect_task_names()


# -- Sentry -----------------------------------------------------------------------------


def redact_event(event: Event, hint: Hint) -> Event:
    """Sentry's before_send: the event with every string redacted as log lines are."""
    return redact_deep(event)


def init_sentry(dsn: str, environment: str = "", traces_sample_rate: float = 0.0) -> None:
    """Report errors to Sentry: no personal data, no local variables, secrets redacted."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        traces_sample_rate=traces_sample_rate,
        integrations=[DjangoIntegration()],
        # No user (id, email, username), IP address, cookies or Authorization header.
        send_default_pii=False,
        # Locals are sent as truncated reprs, which could cut a secret past recognition.
        include_local_variables=False,
        before_send=redact_event,
        before_send_transaction=redact_event,
    )
