"""`GET /metrics`: the host's Prometheus metrics (lib/metrics.py) plus what the database knows,
read at scrape time.

With METRICS_TOKEN set a scrape needs `Authorization: Bearer <METRICS_TOKEN>` (401 without
it, 403 with another). Unset, only a local scrape is answered: a loopback REMOTE_ADDR and no
proxy header (X-Forwarded-*, Forwarded, X-Real-IP, Via, …), since behind a reverse proxy on
the same host every request would otherwise look local. Everything else gets 403 saying to set METRICS_TOKEN.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from filters.models import Filter
from lib.metrics import PREFIX, SOURCES, exposition
from ops.health import read_capacity, read_outbox
from scraping.models import SourceState

log = logging.getLogger(__name__)


class DatabaseGauges(Collector):
    """The outbox backlog, the senders' capacity, paused sources and matchable filters, as
    the database has them now."""

    def collect(self) -> Iterator[Metric]:
        try:
            now = timezone.now()
            outbox = read_outbox(now)
            capacity = read_capacity(now, outbox.due)
            states = SourceState.objects.by_source()
            filters = Filter.objects.matchable().count()
        except DatabaseError as error:
            # The process counters still go out; /health reports the database as failing.
            log.error("metrics: the database gauges could not be read: %s", error)
            return
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_pending",
            "Alerts pending in the outbox, due now or scheduled later.",
            value=outbox.pending,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_oldest_due_seconds",
            "How long the oldest due alert has waited; 0 when none is due.",
            value=outbox.oldest_due_seconds,
        )
        # +Inf where /health says null: no limit (the console), or a backlog nothing may send.
        yield GaugeMetricFamily(
            f"{PREFIX}_senders_live",
            "Senders whose heartbeat is recent (three ALERTS_HEARTBEAT_SECONDS).",
            value=capacity.live,
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_sender_capacity_alerts_per_second",
            "Alerts a second the live senders can send now: the bot token's request budget "
            "times the alerts per request of their recent sends; +Inf without a limit.",
            value=_or_infinity(capacity.capacity_alerts_per_second),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_outbox_drain_seconds",
            "Seconds to send the due alerts at that capacity; +Inf while nothing may send them.",
            value=_or_infinity(capacity.seconds_to_drain),
        )
        paused = GaugeMetricFamily(
            f"{PREFIX}_source_paused",
            "1 while a source's circuit breaker pauses its scans, else 0.",
            labels=["source"],
        )
        for code in SOURCES:
            state = states.get(code)
            paused.add_metric([code], 1 if state is not None and state.is_paused else 0)
        yield paused
        yield GaugeMetricFamily(
            f"{PREFIX}_filter_index_filters",
            "Filters that take part in matching: active, of users who are not banned.",
            value=filters,
        )


# Headers proxies add to name the client or themselves; a relayed request carries one.
PROXY_HEADERS = {
    "forwarded",
    "via",
    "x-real-ip",
    "true-client-ip",
    "x-client-ip",
    "x-cluster-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
}


def _is_proxy_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in PROXY_HEADERS or lowered.startswith("x-forwarded-")


def _or_infinity(number: float | None) -> float:
    return math.inf if number is None else number


def is_local(request: HttpRequest) -> bool:
    """A request from this host itself, not one relayed by a proxy: any header a proxy may
    add (X-Forwarded-*, Forwarded, X-Real-IP, Via, …) makes it not local."""
    if any(_is_proxy_header(name) for name in request.headers):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 on a dual-stack socket
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _refusal(status: int, text: str) -> HttpResponse:
    return HttpResponse(f"{text}\n", status=status, content_type="text/plain; charset=utf-8")


def refusal(request: HttpRequest) -> HttpResponse | None:
    """Why this request may not read the metrics, as the response to send; None if it may."""
    token = settings.METRICS_TOKEN
    if not token:
        if is_local(request):
            return None
        return _refusal(
            403,
            "/metrics answers only local requests while METRICS_TOKEN is unset: set "
            "METRICS_TOKEN and scrape with `Authorization: Bearer <METRICS_TOKEN>`.",
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        response = _refusal(401, "/metrics needs `Authorization: Bearer <METRICS_TOKEN>`.")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _refusal(403, "That bearer token is not this installation's METRICS_TOKEN.")
    return None


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if refused := refusal(request):
        return refused
    body, content_type = exposition(DatabaseGauges())
    return HttpResponse(body, content_type=content_type)
