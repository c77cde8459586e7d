"""A request id on every web request's log lines and response, and one log line per request.

The id comes from the X-Request-ID header when a proxy sent a sane one (letters,
digits and `._:=+/-`, at most 128 characters: anything else could forge or break
log lines), else it is a new random one. It is on `request.request_id`, on every
line logged while the request runs (lib.logs.current_request_id) and in the
response's X-Request-ID header, so a user's report can be matched to the logs.

Each request logs one line on `web.request` with the method, path (without the
query string, which may carry secrets), status and duration in milliseconds: at
INFO, a 4xx at WARNING, a 5xx at ERROR. It is the request's only line: gunicorn's
access log and runserver's are off, and Django's own line for a 4xx is dropped
(config/logfilters.py). Static files and the favicon log nothing. First in
MIDDLEWARE, so redirects and refusals of the middleware below it are counted too.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse

from lib.logs import current_request_id

HEADER = "X-Request-ID"
SANE_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

log = logging.getLogger("web.request")


def request_id_of(request: HttpRequest) -> str:
    """The request's X-Request-ID when it is sane, else a new random id."""
    offered = request.headers.get(HEADER, "")
    if SANE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex


def forget_request_id(**kwargs) -> None:
    current_request_id.set(None)


# Cleared when the response is closed (the WSGI server is done with it), not when the
# middleware returns: Django logs a 4xx/5xx response ("Not Found: …") after the
# middleware chain, and that line should carry the id too.
request_finished.connect(forget_request_id, dispatch_uid="config.request_id.forget")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = request_id_of(request)
        request.request_id = request_id  # type: ignore[attr-defined]  # ours to add
        current_request_id.set(request_id)
        started = time.monotonic()
        status = 500  # if something below raises past Django's own handler
        try:
            response = self.get_response(request)
            status = response.status_code
            response[HEADER] = request_id
            return response
        finally:
            if not is_quiet(request.path):
                log_request(request, status, started)


def is_quiet(path: str) -> bool:
    """Static files and the favicon: many a page, and nothing to learn from their lines."""
    return path.startswith(f"/{settings.STATIC_URL.strip('/')}/") or path == "/favicon.ico"


def log_request(request: HttpRequest, status: int, started: float) -> None:
    duration_ms = round((time.monotonic() - started) * 1000, 1)
    level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
    log.log(
        level,
        "%s %s %s %.1fms",
        request.method,
        request.path,
        status,
        duration_ms,
        extra={
            "method": request.method,
            "path": request.path,
            "status": status,
            "duration_ms": duration_ms,
        },
    )
