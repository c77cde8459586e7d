"""`GET /health`: is this installation doing its job? One JSON answer for load balancers,
uptime checks and the operator who reads it.

The answer is `{"status": …, "checks": {name: {"status": …, …}}}`. Each check's status is
"ok", "degraded" or "failing" ("unknown" when its query could not run), with a one-sentence
"reason" whenever it is not ok; the overall status is the worst of them. HTTP 200 for ok and
degraded, 503 for failing, so a load balancer only takes the web process out of service
when it really cannot work. Unauthenticated, so it says nothing secret: no URL, password,
token or error text, only counts, ages in whole seconds, source codes and schedule names.

- database (failing): `SELECT 1` fails. The checks below that read the database then report
  "unknown" without trying, so the answer still comes at once.
- redis (failing): REDIS_URL is set and Redis does not answer a ping within REDIS_TIMEOUT,
  asked directly (not through Django's cache, which hides errors). Unset, it is ok.
- outbox (failing): the oldest due pending alert has waited longer than
  HEALTH_MAX_OUTBOX_AGE: nothing is sending. `pending` counts every pending alert, due or
  scheduled later (digests, retries); `oldest_due_seconds` is 0 when none is due.
- queue (degraded): a django-q2 schedule's next run is more than SCHEDULE_GRACE plus one of
  its periods (at most an hour) in the past. A running cluster's scheduler moves next_run
  on every ~15 s, so that lateness means no cluster is running; the period's margin
  forgives a cluster restarted a moment ago. Read from the database because with the ORM
  broker django-q2's own Stat lives in each process's cache. A fresh install whose
  schedules are not due yet is ok (nothing is late); once one is late, it is degraded,
  never failing: scans and digests stop, but delivery of queued alerts goes on.
- sources (degraded): a source paused by its circuit breaker, or a configured source
  (SCRAPING_SOURCES) without a successful scan in STALE_CYCLES of its intervals, or never
  (a fresh install's first scans included: degraded, not failing).
- senders (degraded): the live senders (a SenderStatus heartbeat within three
  ALERTS_HEARTBEAT_SECONDS), what they can send (`capacity_alerts_per_second`: the bot
  token's request budget, DISCORD_REQUESTS_PER_SECOND, times the alerts per request their
  recent sends packed; null for the console, which has no limit) and `seconds_to_drain`, the
  due alerts over that capacity (null when nothing may send). Degraded when draining takes
  more than half of HEALTH_MAX_OUTBOX_AGE, so the outbox check's failure is seen coming,
  or when alerts have been due for NO_SENDER_GRACE and no live sender may send them.
- delivery (always ok): seconds since Discord accepted the newest sent alert, null before
  the first; whether that is too long depends on the traffic, which the outbox check sees.

Every read is an indexed query or a read of a small table, so probing often is cheap. The
outbox and source reads are shared with /metrics (ops/metrics_view.py).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_q.models import Schedule
from redis.backoff import NoBackoff
from redis.retry import Retry

from alerts.models import Alert, SenderStatus
from lib.db_router import check_replica, replica_in_use
from lib.text import counted
from scraping.jobs import interval_for
from scraping.models import SourceState

log = logging.getLogger(__name__)

OK, DEGRADED, FAILING, UNKNOWN = "ok", "degraded", "failing", "unknown"
# "unknown" (a check that could not run) is worth a look, like degraded.
_SEVERITY = {OK: 0, UNKNOWN: 1, DEGRADED: 1, FAILING: 2}
_BY_SEVERITY = {0: OK, 1: DEGRADED, 2: FAILING}

REDIS_TIMEOUT = 1.0  # seconds, to connect and to answer
SCHEDULE_GRACE = timedelta(minutes=2)
LONGEST_SCHEDULE_MARGIN = timedelta(hours=1)
STALE_CYCLES = 3
# Due alerts without a live sender are sent by the next task or minutely sweep: after two
# sweeps' worth of waiting, nothing is sending them.
NO_SENDER_GRACE = timedelta(minutes=2)

Check = dict[str, Any]


@dataclass(frozen=True)
class Outbox:
    pending: int  # every pending alert, due now or scheduled later
    oldest_due_seconds: int  # how long the oldest due one has waited; 0 when none is due
    due: int  # the pending alerts due now, held by a sender or not


def read_outbox(now: datetime) -> Outbox:
    """The outbox backlog, as /health and /metrics both report it."""
    pending, first_due = Alert.objects.waiting(now)
    waited = (now - first_due).total_seconds() if first_due else 0.0
    due = Alert.objects.due_count(now) if first_due else 0
    return Outbox(pending=pending, oldest_due_seconds=max(round(waited), 0), due=due)


@dataclass(frozen=True)
class Capacity:
    live: int  # senders with a recent heartbeat
    sending: int  # of them, those that may send now (the role's holder, or any with Redis)
    alerts_per_second: float  # what the live senders sent a second lately, summed
    alerts_per_request: float
    # What they can send a second now; None without a limit (the console transport).
    capacity_alerts_per_second: float | None
    # The due alerts over the capacity; None when nothing may send them (never drains).
    seconds_to_drain: float | None


def read_capacity(now: datetime, due: int) -> Capacity:
    """How fast the live senders can send, from the numbers each publishes on its heartbeat.

    One bot token has one request budget: with Redis every sender shares it, without
    Redis only the role's holder sends. So the capacity is that budget (the largest any
    live sender may use, not their sum) times the alerts a request carried lately, over
    all live senders' requests; with no recent request, the senders' last measured ratio.
    """
    live = list(SenderStatus.objects.live(now))
    budgets = [status.request_budget for status in live]
    requests = sum(status.requests_per_second for status in live)
    sent = sum(status.alerts_per_second for status in live)
    if sent and requests:
        per_request = sent / requests
    elif live:
        per_request = sum(status.alerts_per_request for status in live) / len(live)
    else:
        per_request = 1.0
    capacity: float | None
    drain: float | None
    if None in budgets:
        capacity, drain = None, 0.0
    else:
        capacity = max(budgets, default=0.0) * per_request
        drain = due / capacity if capacity else (None if due else 0.0)
    return Capacity(
        live=len(live),
        sending=sum(1 for budget in budgets if budget is None or budget > 0),
        alerts_per_second=sent,
        alerts_per_request=per_request,
        capacity_alerts_per_second=capacity,
        seconds_to_drain=drain,
    )


def spoken(seconds: float) -> str:
    """A duration as a sentence says it: `45 seconds`, `7 minutes`, `3 hours`, `2 days`."""
    seconds = round(seconds)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size or (unit == "minute" and seconds >= size):
            return counted(seconds // size, unit)
    return counted(seconds, "second")


def _seconds_since(moment: datetime | None, now: datetime) -> int | None:
    return None if moment is None else max(round((now - moment).total_seconds()), 0)


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        log.error("health: the database does not answer: %s", error)
        return {
            "status": FAILING,
            "reason": f"The database does not answer ({type(error).__name__}).",
        }
    return {"status": OK, "vendor": connection.vendor}


def check_redis() -> Check:
    if not settings.REDIS_URL:
        return {"status": OK, "configured": False}
    # A client of its own, so the ping tests a fresh connection with a short timeout and
    # no retries (redis-py retries three times by default).
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        client.ping()
    except (redis.RedisError, OSError, ValueError) as error:  # ValueError: a malformed URL
        log.error("health: Redis does not answer: %s", type(error).__name__)
        return {
            "status": FAILING,
            "configured": True,
            "reason": f"Redis (REDIS_URL) did not answer a ping within {REDIS_TIMEOUT:g} s "
            f"({type(error).__name__}).",
        }
    finally:
        client.close()
    return {"status": OK, "configured": True}


def _schedule_margin(schedule: Schedule) -> timedelta:
    """One period of the schedule, at most an hour (a daily schedule must not hide a stopped
    cluster for a day); none for a one-off."""
    if schedule.schedule_type == Schedule.ONCE:
        return timedelta()
    if schedule.schedule_type == Schedule.MINUTES:
        return min(timedelta(minutes=schedule.minutes or 1), LONGEST_SCHEDULE_MARGIN)
    return LONGEST_SCHEDULE_MARGIN


def check_queue(now: datetime) -> Check:
    live = Schedule.objects.exclude(repeats=0).filter(next_run__isnull=False)
    late = []
    for schedule in live.filter(next_run__lt=now - SCHEDULE_GRACE).order_by("next_run"):
        if schedule.next_run < now - SCHEDULE_GRACE - _schedule_margin(schedule):
            late.append(schedule)
    found: Check = {"schedules": live.count(), "overdue": [s.name or s.func for s in late]}
    if not late:
        return {"status": OK, **found}
    oldest = late[0]
    ago = spoken((now - oldest.next_run).total_seconds())
    others = f" (and {counted(len(late) - 1, 'other schedule')})" if len(late) > 1 else ""
    return {
        "status": DEGRADED,
        "reason": f"The schedule “{oldest.name or oldest.func}”{others} was due {ago} ago: "
        "is qcluster running?",
        **found,
    }


def check_outbox(outbox: Outbox) -> Check:
    found: Check = {
        "pending": outbox.pending,
        "oldest_due_seconds": outbox.oldest_due_seconds,
        "max_age_seconds": settings.HEALTH_MAX_OUTBOX_AGE,
    }
    if outbox.oldest_due_seconds > settings.HEALTH_MAX_OUTBOX_AGE:
        return {
            "status": FAILING,
            "reason": f"The oldest due alert has waited {spoken(outbox.oldest_due_seconds)}, "
            f"longer than HEALTH_MAX_OUTBOX_AGE ({spoken(settings.HEALTH_MAX_OUTBOX_AGE)}): "
            "is sendalerts running?",
            **found,
        }
    return {"status": OK, **found}


def check_senders(capacity: Capacity, outbox: Outbox) -> Check:
    capacity_now = capacity.capacity_alerts_per_second
    found: Check = {
        "live": capacity.live,
        "sending": capacity.sending,
        "alerts_per_second": round(capacity.alerts_per_second, 1),
        "alerts_per_request": round(capacity.alerts_per_request, 2),
        "capacity_alerts_per_second": None if capacity_now is None else round(capacity_now, 1),
        "due": outbox.due,
        "seconds_to_drain": (
            None if capacity.seconds_to_drain is None else round(capacity.seconds_to_drain)
        ),
    }
    limit = settings.HEALTH_MAX_OUTBOX_AGE
    stuck = outbox.due and outbox.oldest_due_seconds > NO_SENDER_GRACE.total_seconds()
    if stuck and not capacity.sending:
        oldest = spoken(outbox.oldest_due_seconds)
        waiting = f"{counted(outbox.due, 'due alert')} (the oldest for {oldest})"
        if capacity.live:
            # Waiting for a role whose holder does not publish: it died (the role lapses
            # within ALERTS_LEASE_SECONDS) or cannot write its status.
            why = f"{counted(capacity.live, 'live sender')}, but none holds the sending role"
        else:
            heartbeat = spoken(3 * settings.ALERTS_HEARTBEAT_SECONDS)
            why = f"no sender has sent a heartbeat in the last {heartbeat}: is sendalerts running?"
        return {"status": DEGRADED, "reason": f"{waiting}, and {why}", **found}
    if capacity.seconds_to_drain is not None and capacity.seconds_to_drain > limit / 2:
        return {
            "status": DEGRADED,
            "reason": f"At {capacity_now:.1f} alerts a second the "
            f"{counted(outbox.due, 'due alert')} take {spoken(capacity.seconds_to_drain)} to "
            "send, more than half of "
            f"HEALTH_MAX_OUTBOX_AGE ({spoken(limit)}): alerts are queued faster than the bot "
            "token can send them.",
            **found,
        }
    return {"status": OK, **found}


def _source_entry(code: str, state: SourceState | None, now: datetime) -> tuple[Check, str]:
    """What /health shows of one source, and the sentence's part when it needs a look."""
    last_success = state.last_success_at if state else None
    entry: Check = {
        "state": "ok",
        "last_success_seconds": _seconds_since(last_success, now),
        "failures_in_a_row": state.consecutive_failures if state else 0,
    }
    if state is not None and state.paused_until is not None and state.is_paused:
        left = (state.paused_until - now).total_seconds()
        entry.update(state="paused", resumes_in_seconds=max(round(left), 0))
        failures = counted(state.consecutive_failures, "failed scan")
        return entry, (
            f"{code} is paused by its circuit breaker for {spoken(left)} more after {failures} "
            "in a row (see Source states in the admin)"
        )
    if code not in settings.SCRAPING_SOURCES:
        return entry, ""
    # A poller's cycle is its interval; below a minute, three cycles would be too quick
    # to call a source late after a slow page or a retry.
    interval = max(interval_for(code), 60)
    if last_success is None:
        entry["state"] = "never"
        return entry, f"{code} has never scanned successfully"
    if now - last_success > timedelta(seconds=STALE_CYCLES * interval):
        entry["state"] = "late"
        ago = spoken((now - last_success).total_seconds())
        return entry, (
            f"{code} last scanned successfully {ago} ago, though it scans every {spoken(interval)}"
        )
    return entry, ""


def check_sources(states: dict[str, SourceState], now: datetime) -> Check:
    paused_elsewhere = sorted(
        code
        for code, state in states.items()
        if state.is_paused and code not in settings.SCRAPING_SOURCES
    )
    found: Check = {}
    problems = []
    for code in [*settings.SCRAPING_SOURCES, *paused_elsewhere]:
        found[code], problem = _source_entry(code, states.get(code), now)
        if problem:
            problems.append(problem)
    if problems:
        return {"status": DEGRADED, "reason": "; ".join(problems) + ".", **found}
    return {"status": OK, **found}


def check_delivery(now: datetime) -> Check:
    return {"status": OK, "last_sent_seconds": _seconds_since(Alert.objects.last_sent_at(), now)}


def _guarded(check: Callable[[], Check]) -> Check:
    """A check that reads the database, reported as unknown if its query fails midway."""
    try:
        return check()
    except DatabaseError as error:
        log.error("health: a check's query failed: %s", error)
        return {
            "status": UNKNOWN,
            "reason": f"The database failed this check's query ({type(error).__name__}).",
        }


def run_checks(now: datetime | None = None) -> dict[str, Any]:
    """Every check, and the overall status (the worst of theirs)."""
    now = now or timezone.now()
    checks: dict[str, Check] = {"database": check_database(), "redis": check_redis()}
    if replica_in_use():  # DATABASE_REPLICA_URL: reachable, and how far behind (degraded)
        checks["replica"] = check_replica()
    # Read once for both checks that show it (again by the second if the first failed).
    outbox = functools.cache(lambda: read_outbox(now))
    reading: dict[str, Callable[[], Check]] = {
        "queue": lambda: check_queue(now),
        "outbox": lambda: check_outbox(outbox()),
        "senders": lambda: check_senders(read_capacity(now, outbox().due), outbox()),
        "sources": lambda: check_sources(SourceState.objects.by_source(), now),
        "delivery": lambda: check_delivery(now),
    }
    for name, check in reading.items():
        if checks["database"]["status"] == OK:
            checks[name] = _guarded(check)
        else:
            checks[name] = {
                "status": UNKNOWN,
                "reason": "Not checked: the database does not answer.",
            }
    worst = max(_SEVERITY[check["status"]] for check in checks.values())
    return {"status": _BY_SEVERITY[worst], "checks": checks}


@require_safe
@never_cache
def health(request: HttpRequest) -> JsonResponse:
    report = run_checks()
    return JsonResponse(report, status=503 if report["status"] == FAILING else 200)
