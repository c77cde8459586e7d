"""Prometheus metrics: every family the installation exports, defined once.

Each process (web workers, `qcluster` and its workers, `sendalerts`, `runbot`,
one-off commands) counts into its own file under METRICS_DIR (prometheus_client's
multiprocess mode, switched on in config/settings.py); the web app's `/metrics` sums every file of the host, so the
counters of a `sendalerts --drain` that has already exited still count. What
lives in the database (the outbox backlog, paused sources, the filters in the
index) is read at scrape time by a collector the view adds (`exposition`).

Label values are bounded (sources, outcomes, scopes), never user or listing ids,
and every labelled child is created at zero on import, so each family appears in
the very first scrape.
"""

from __future__ import annotations

import os
import socket

from django.db import transaction
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)
from prometheus_client.registry import Collector

from lib.markets import Source


def process_identifier(pid: int | None = None) -> str:
    """The name of a process's files: host and pid, so containers that share one directory
    (whose pids all start at 1) never write into each other's files."""
    host = socket.gethostname().replace("_", "-")  # the collector splits file names on "_"
    return f"{host}-{pid or os.getpid()}"


values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)

PREFIX = "marketalerts"
SOURCES = tuple(Source.values)
# What became of one request to Discord's API.
DISCORD_OUTCOMES = (
    "ok",
    "rate_limited",
    "refused",
    "client_error",
    "server_error",
    "network_error",
)
RATE_LIMIT_SCOPES = ("global", "route")

alerts_queued = Counter(f"{PREFIX}_alerts_queued_total", "Alerts written to the outbox.")
alerts_sent = Counter(f"{PREFIX}_alerts_sent_total", "Alerts Discord accepted.")
alerts_failed = Counter(f"{PREFIX}_alerts_failed_total", "Alerts that failed for good.")
alerts_skipped = Counter(
    f"{PREFIX}_alerts_skipped_total", "Alerts skipped (muted, DMs unreachable, banned, by staff)."
)
discord_requests = Counter(
    f"{PREFIX}_discord_requests_total", "Requests made to Discord's API, by outcome.", ["outcome"]
)
discord_rate_limited = Counter(
    f"{PREFIX}_discord_rate_limited_total",
    "429 answers from Discord, by scope: global (the token) or route (one bucket).",
    ["scope"],
)
delivery_latency = Histogram(
    f"{PREFIX}_delivery_latency_seconds",
    "From a listing first seen to Discord accepting the message that carries it.",
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 600, 1800, 3600, 21600),
)
scan_duration = Histogram(
    f"{PREFIX}_scan_duration_seconds",
    "Duration of one scan cycle of one source.",
    ["source"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 45, 60, 90, 120, 300),
)
scan_items = Counter(f"{PREFIX}_scan_items_total", "Items read from a source's pages.", ["source"])
scan_new_listings = Counter(
    f"{PREFIX}_scan_new_listings_total", "Listings a source found for the first time.", ["source"]
)
scan_failures = Counter(
    f"{PREFIX}_scan_failures_total", "Scan cycles of a source that failed.", ["source"]
)
matching_seconds = Histogram(
    f"{PREFIX}_matching_seconds",
    "Time to match one ingest batch against every filter.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

for _outcome in DISCORD_OUTCOMES:
    discord_requests.labels(_outcome)
for _scope in RATE_LIMIT_SCOPES:
    discord_rate_limited.labels(_scope)
for _source in SOURCES:
    scan_duration.labels(_source)
    scan_items.labels(_source)
    scan_new_listings.labels(_source)
    scan_failures.labels(_source)


def exposition(*collectors: Collector) -> tuple[bytes, str]:
    """The host's metrics in Prometheus text format: every process's files, plus `collectors`
    (read at scrape time); returns (body, content type)."""
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for collector in collectors:
        registry.register(collector)
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_exited(pid: int) -> None:
    """Forget the live gauges of a finished process (gunicorn calls this for dead workers);
    its counters stay, so totals never go back."""
    multiprocess.mark_process_dead(process_identifier(pid))


def count_on_commit(counter: Counter, amount: float) -> None:
    """Add `amount` to `counter` when the current transaction commits (at once outside
    one), so rows a rollback takes back are never counted."""
    if amount:
        transaction.on_commit(lambda: counter.inc(amount))
