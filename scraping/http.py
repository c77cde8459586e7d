"""HTTP for the marketplace sources: one polite client per source, in threads.

Requests of a source are paced (requests per minute, evenly spaced), limited
in number at once, timed out, and retried with exponential backoff and jitter
on the answers sites give when they want us to slow down or are in trouble:
429, 403 (Cloudflare), 423 (Yahoo's burst lock), 5xx, timeouts and dropped
connections. A Retry-After is obeyed and slows the whole source. The User-
Agent is a current desktop browser's: all four sites serve browsers, and
Mercari returns nothing to unknown clients. A proxy can be set for sites that
block the scanner's region (Yahoo! JAPAN refuses the EEA and the UK).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.error import HTTPError, URLError
from urllib.request import ProxyHandler, Request, build_opener

from lib.backoff import jittered_backoff
from lib.pacing import LocalBudget

log = logging.getLogger(__name__)

BROWSER_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
RETRY_STATUSES = {403, 423, 429, 500, 502, 503, 504}
BACKOFF_CAP_SECONDS = 60.0
MAX_ERROR_BODY = 4_000_000  # enough for a no-results page; an error page is read no further


@dataclass(frozen=True)
class FetchRequest:
    url: str
    label: str  # what is fetched, for logs: the search words
    method: str = "GET"
    json_body: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)


class FetchError(Exception):
    """The source gave no usable answer to a request, after its retries. An HTTP error that is
    not retried keeps its status and body: a 404 may be a site's no-results page."""

    def __init__(
        self, source: str, message: str, status: int | None = None, body: bytes = b""
    ) -> None:
        super().__init__(f"{source}: {message}")
        self.source, self.status, self.body = source, status, body


def retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _error_body(error: HTTPError) -> bytes:
    try:
        return error.read(MAX_ERROR_BODY)
    except (OSError, ValueError):
        return b""


class SourceClient:
    def __init__(
        self,
        source: str,
        *,
        requests_per_minute: float,
        concurrency: int,
        timeout: float,
        retries: int,
        proxy: str = "",
        backoff_base: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.source = source
        self.timeout, self.retries, self.backoff_base = timeout, retries, backoff_base
        self.pace = LocalBudget(requests_per_minute / 60)
        self.slots = threading.BoundedSemaphore(concurrency)
        self.opener = build_opener(ProxyHandler({"http": proxy, "https": proxy} if proxy else {}))
        self.sleep = sleep
        self.requests = 0
        self._count = threading.Lock()

    def fetch(self, request: FetchRequest) -> bytes:
        """The response body, or FetchError once the retries are spent."""
        problem = ""
        for attempt in range(self.retries + 1):
            if attempt:
                wait = jittered_backoff(attempt, self.backoff_base, BACKOFF_CAP_SECONDS)
                log.info(
                    "%s: %s for %s; retrying in %.1fs", self.source, problem, request.label, wait
                )
                self.sleep(wait)
            with self.slots:
                self.sleep(self.pace.reserve())
                with self._count:
                    self.requests += 1
                try:
                    with self.opener.open(self._build(request), timeout=self.timeout) as response:
                        return response.read()
                except HTTPError as error:
                    if error.code not in RETRY_STATUSES:
                        raise FetchError(
                            self.source,
                            f"HTTP {error.code} for {request.label}",
                            error.code,
                            _error_body(error),
                        ) from None
                    problem = f"HTTP {error.code}"
                    retry_after = retry_after_seconds(error.headers.get("Retry-After"))
                    if retry_after is not None:
                        # The whole source slows down, not just this request.
                        self.pace.block(retry_after)
                except (URLError, TimeoutError, OSError) as error:
                    problem = f"no answer ({getattr(error, 'reason', error)})"
        raise FetchError(
            self.source, f"{problem} for {request.label} after {self.retries + 1} attempts"
        )

    def _build(self, request: FetchRequest) -> Request:
        headers = {
            "User-Agent": BROWSER_USER_AGENT,
            "Accept-Language": "ja,en;q=0.8",
            **request.headers,
        }
        data = None
        if request.json_body is not None:
            data = json.dumps(request.json_body).encode()
            headers["Content-Type"] = "application/json"
        return Request(request.url, data=data, headers=headers, method=request.method)
