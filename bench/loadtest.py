"""Load test: the whole pipeline at size on PostgreSQL + Redis, and a capacity model from it.

    .venv/bin/python bench/loadtest.py [--users 10000] [--filters 30000] [--listings 20000]
        [--minutes 10] [--drain-minutes 15] [--model-users 100000] [--real-rate 2]

Not a test: a measurement, reported in docs/benchmarks.md. It starts its own
PostgreSQL and Redis on loopback (scripts/with-test-services.sh --redis),
imports `--users` users with `--filters` filters (bench/workload.py: brands
with Zipf popularity), their DM channels known, and runs the production
processes as separate hosts would: two `qcluster` (the market pollers, one
lease per market, and django-q2's workers on the Redis broker) and two
`sendalerts` (shared Discord budget and buckets in Redis), against the fake
marketplace (bench/marketplace_server.py), which publishes `--listings`
listings evenly over `--minutes` on the four markets, and the Discord API
emulator (tests/emulators/discord.py, in a process of its own) answering
after 50-150 ms, as Discord does from a nearby host (10-30 ms of that on the
way there). After publishing, it waits for the outbox to drain, at most
`--drain-minutes`.

Reported: the minute-by-minute flow (queued, delivered, backlog), matching time
per ingest batch (the processes' own histogram, METRICS_DIR), alerts queued
and delivered per second, latency per alert from publication to Discord
accepting its message (p50/p95/p99), Discord requests a second and 429s,
CPU time and peak memory per process kind, the database's table and index
sizes; then a capacity model for `--model-users` users whose listings arrive at
`--real-rate` a second (what the four markets publish that filters look at),
built from the per-unit costs just measured.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("LOADTEST_SERVICES") != "1":
    # Its own PostgreSQL and Redis, torn down whatever happens: re-run inside the wrapper.
    os.environ["LOADTEST_SERVICES"] = "1"
    wrapper = str(ROOT / "scripts" / "with-test-services.sh")
    os.execv(wrapper, [wrapper, "--redis", sys.executable, __file__, *sys.argv[1:]])

sys.path.insert(0, str(ROOT))
os.environ["METRICS_DIR"] = tempfile.mkdtemp(prefix="loadtest-metrics-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from prometheus_client import CollectorRegistry  # noqa: E402
from prometheus_client.multiprocess import MultiProcessCollector  # noqa: E402

from alerts.claim import claim_due  # noqa: E402
from alerts.models import Alert  # noqa: E402
from bench.freshness import (  # noqa: E402
    open_dm_channels,
    production_env,
    start,
    stop,
    titles,
    wait_for_pollers,
)
from bench.ingest import cpu_model, load_brands, timed_filter_import  # noqa: E402
from bench.marketplace_server import MARKETS, FakeMarketplace  # noqa: E402
from bench.workload import Workload, user_lines  # noqa: E402
from filters.matching import bump_index_version  # noqa: E402
from filters.models import Filter  # noqa: E402
from lib.processes import descendants  # noqa: E402
from listings.models import Listing  # noqa: E402
from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator  # noqa: E402

LOGS = "/tmp/loadtest-*.log"
SAMPLE_SECONDS = 2.0
IDLE_SECONDS = 30  # measured before publishing: what each process costs doing nothing
SETTLE_SECONDS = 30
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = 4096


# -- Discord -------------------------------------------------------------------------
@dataclass
class DiscordRecord:
    """What the emulator saw, as the report needs it."""

    accepted_at: dict[str, float]  # message id -> wall time Discord accepted it
    request_times: list[float]
    rate_limited: dict[str, int]
    rate_limited_at: list[float]
    max_requests_in_a_second: int


class EmulatorProcess:
    """The Discord emulator served from a forked process, so the driver (the fake
    marketplace, the sampling, the database polls) never delays its answers: a
    100 ms stall of a shared process would count 1.1 s of requests in one second
    and answer 429s the senders did not earn."""

    def __init__(self, emulator: DiscordEmulator) -> None:
        context = multiprocessing.get_context("fork")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=self._serve, args=(emulator, child), daemon=True)
        self.base_url = ""

    def __enter__(self) -> EmulatorProcess:
        self._process.start()
        self.base_url = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)

    @staticmethod
    def _serve(emulator: DiscordEmulator, conn) -> None:
        with RunningEmulator(emulator) as running:
            conn.send(running.base_url)
            while (ask := conn.recv()) != "stop":
                if ask == "messages":
                    conn.send(len(emulator.messages))
                else:
                    conn.send(
                        DiscordRecord(
                            {m["id"]: m["accepted_at"] for m in emulator.messages},
                            emulator.request_times,
                            dict(emulator.rate_limited),
                            emulator.rate_limited_at,
                            emulator.max_requests_in_a_second,
                        )
                    )

    def messages(self) -> int:
        self._conn.send("messages")
        return self._conn.recv()

    def record(self) -> DiscordRecord:
        self._conn.send("record")
        return self._conn.recv()


class Rollback(Exception):
    pass


def timed_claims(backlog: int, tries: int = 5) -> str:
    """A sender's claim at the current backlog, timed, its leases rolled back (the
    senders wait on the claim lock meanwhile): what one claim costs at size."""
    seconds, queries = [], 0
    for _ in range(tries):
        with CaptureQueriesContext(connection) as captured:
            try:
                with transaction.atomic():
                    began = time.perf_counter()
                    claimed = claim_due("loadtest-probe", settings.ALERTS_BATCH_SIZE)
                    seconds.append(time.perf_counter() - began)
                    raise Rollback
            except Rollback:
                pass
        queries = len(captured)
        time.sleep(1)
    return (
        f"a claim at a backlog of {backlog:,}: median {percentile(seconds, 0.5) * 1000:.0f} ms, "
        f"slowest {max(seconds) * 1000:.0f} ms, {queries} queries, {len(claimed)} alerts"
    )


# -- what the processes cost ------------------------------------------------------
@dataclass
class Group:
    """A process and its descendants: CPU seconds (of the live ones, at their last sample)
    and peak memory. Memory is resident private memory summed over the group plus its
    largest shared segment once (PostgreSQL's shared buffers are one mapping in every
    backend); `biggest` is the largest single process's peak (VmHWM)."""

    name: str
    root: int
    cpu: dict[int, float] = field(default_factory=dict)
    peak: int = 0
    biggest: int = 0
    marks: list[tuple[float, float]] = field(default_factory=list)  # (time, CPU seconds)

    def sample(self) -> None:
        private, shared = 0, 0
        for pid in [self.root, *descendants(self.root)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue  # it ended meanwhile
            self.cpu[pid] = (int(stat[11]) + int(stat[12])) / TICKS
            fields = dict(
                (line.split(":")[0], int(line.split()[1]) * 1024)
                for line in status.splitlines()
                if line.startswith(("RssAnon", "RssFile", "RssShmem", "VmHWM"))
            )
            private += fields.get("RssAnon", 0) + fields.get("RssFile", 0)
            shared = max(shared, fields.get("RssShmem", 0))
            self.biggest = max(self.biggest, fields.get("VmHWM", 0))
        self.peak = max(self.peak, private + shared)

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def mark(self) -> None:
        self.sample()
        self.marks.append((time.time(), self.cpu_seconds))

    @property
    def idle_rate(self) -> float:
        """CPU seconds a second before publishing (polling empty feeds, idle workers)."""
        (t0, c0), (t1, c1) = self.marks[:2]
        return (c1 - c0) / (t1 - t0)

    @property
    def busy_seconds(self) -> float:
        """CPU seconds from publishing to the end, less what the group spends idle."""
        (_, _), (t1, c1), (t2, c2) = self.marks[:3]
        return max(0.0, c2 - c1 - self.idle_rate * (t2 - t1))


class Watch(threading.Thread):
    """Samples every group every SAMPLE_SECONDS."""

    def __init__(self, groups: list[Group]) -> None:
        super().__init__(daemon=True)
        self.groups, self.stopping = groups, threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(SAMPLE_SECONDS):
            for group in self.groups:
                group.sample()


def server_pids() -> dict[str, int]:
    """The PostgreSQL postmaster's and redis-server's pids, from the servers themselves."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data = Path(cursor.fetchone()[0])
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    return {
        "PostgreSQL": int((data / "postmaster.pid").read_text().split()[0]),
        "Redis": int(client.info("server")["process_id"]),
    }


# -- what the processes measured themselves -------------------------------------------
def histogram(name: str) -> tuple[int, float, list[tuple[float, float]]]:
    """Count, sum and cumulative buckets of one histogram over every process's file."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=os.environ["METRICS_DIR"])
    count, total, buckets = 0, 0.0, []
    for metric in registry.collect():
        if metric.name != name:
            continue
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                count = int(sample.value)
            elif sample.name.endswith("_sum"):
                total = sample.value
            elif sample.name.endswith("_bucket"):
                buckets.append((float(sample.labels["le"]), sample.value))
    return count, total, sorted(buckets)


def bucket_at(buckets: list[tuple[float, float]], count: int, q: float) -> float:
    """The upper bound of the bucket holding the q-quantile."""
    return next((le for le, seen in buckets if seen >= q * count), math.inf)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else math.nan


def table_sizes() -> list[tuple[str, int, int, int]]:
    """(table, rows, table bytes, index bytes) of the biggest tables, largest first."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(
            """SELECT c.relname, c.reltuples::bigint, pg_table_size(c.oid), pg_indexes_size(c.oid)
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind = 'r' AND n.nspname = 'public'
               ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 6"""
        )
        return cursor.fetchall()


def database_bytes() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


# -- presenting ---------------------------------------------------------------------
def bar(value: float, largest: float, width: int = 24) -> str:
    cells = round(width * value / largest) if largest else 0
    return "█" * cells + " " * (width - cells)


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def flow_chart(
    created: list[float], sent: list[float], limited: list[float], start_at: float, end_at: float
) -> None:
    """Per minute: alerts queued and delivered a second, the backlog at the minute's end,
    and Discord's 429s."""
    minutes = max(1, math.ceil((end_at - start_at) / 60))
    queued, delivered, refused = Counter(), Counter(), Counter()
    for at in limited:
        refused[int((at - start_at) // 60)] += 1
    for at in created:
        queued[int((at - start_at) // 60)] += 1
    for at in sent:
        delivered[int((at - start_at) // 60)] += 1
    largest = max([*queued.values(), *delivered.values(), 1]) / 60
    backlog = 0
    print(f"\nminute  {'queued/s':<32} {'delivered/s':<32} backlog  429s")
    for minute in range(minutes):
        backlog += queued[minute] - delivered[minute]
        q, d = queued[minute] / 60, delivered[minute] / 60
        print(
            f"{minute:>6}  {bar(q, largest)}{q:>7,.0f}  {bar(d, largest)}{d:>7,.0f}  {backlog:>9,}"
            f"  {refused[minute] or ''}"
        )


# -- the run -------------------------------------------------------------------------
def seed(args: argparse.Namespace, workload: Workload) -> float:
    """The users and their filters through `import_filters`; returns its seconds."""
    load_brands(workload)
    path = Path(tempfile.mkdtemp()) / "users.jsonl"
    specs = workload.filters(args.filters, filters_per_user=math.ceil(args.filters / args.users))
    with open(path, "w", encoding="utf-8") as handle:
        for line in user_lines(specs):
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    seconds, summary = timed_filter_import(path)
    print(f"import_filters: {summary} ({seconds:.1f} s)", flush=True)
    # As in the steady state, the filters are older than the index patcher's look-back.
    Filter.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    bump_index_version()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--filters", type=int, default=30_000)
    parser.add_argument("--listings", type=int, default=20_000)
    parser.add_argument("--minutes", type=float, default=10.0, help="publishing time")
    parser.add_argument("--drain-minutes", type=float, default=15.0)
    parser.add_argument("--model-users", type=int, default=100_000)
    parser.add_argument(
        "--real-rate", type=float, default=2.0, help="listings a second filters look at, live"
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    workload = Workload()
    seed(args, workload)
    # 10-30 ms on the wire, then 40-120 ms at Discord: 50-150 ms a request, as from a near host.
    emulator = DiscordEmulator(EmulatorConfig(latency=(0.01, 0.03), processing=(0.04, 0.12)))
    open_dm_channels(emulator)  # before the fork: the emulator process knows them
    with EmulatorProcess(emulator) as discord:
        rate = args.listings / (args.minutes * 60)
        market = FakeMarketplace(titles(Workload(seed=7)), rate, limit=args.listings)
        market.start(publish=False)
        env = production_env(market, emulator, discord)
        call_command("setup_schedules", verbosity=0)
        commands = [("qcluster", 1), ("qcluster", 2), ("sendalerts", 1), ("sendalerts", 2)]
        processes = [
            start([name], env, Path(f"/tmp/loadtest-{name}-{n}.log")) for name, n in commands
        ]
        groups = [
            Group(f"{name} {n}", p.pid) for (name, n), p in zip(commands, processes, strict=True)
        ]
        groups += [Group(name, pid) for name, pid in server_pids().items()]
        watch = Watch(groups)
        watch.start()
        try:
            wait_for_pollers(processes, LOGS)
            time.sleep(SETTLE_SECONDS)  # the first cycles build the filter index and plan
            for group in groups:
                group.mark()
            time.sleep(IDLE_SECONDS)
            for group in groups:
                group.mark()
            print(f"publishing {args.listings:,} listings at {rate:.1f}/s", flush=True)
            started = time.time()
            market.start_publishing()
            deadline = None
            while True:
                time.sleep(10)
                pending = Alert.objects.filter(status=Alert.Status.PENDING).count()
                done = market.finished.is_set()
                print(
                    f"{time.time() - started:>5.0f} s · published {len(market.published):,} · "
                    f"queued {Alert.objects.count():,} · backlog {pending:,} · "
                    f"Discord messages {discord.messages():,}",
                    flush=True,
                )
                if done and deadline is None:
                    published_for = time.time() - started
                    deadline = time.time() + args.drain_minutes * 60
                    claims = timed_claims(pending)  # at the largest backlog
                if done and (pending == 0 or time.time() > deadline):
                    break
            ended = time.time()
            for group in groups:
                group.mark()
            record = discord.record()
        finally:
            watch.stopping.set()
            stop(processes)
            market.close()
    report(args, market, record, groups, started, published_for, ended, claims)


@dataclass
class Measured:
    listings: int
    alerts: int
    sent: int
    alerts_per_listing_filter: float
    alerts_per_message: float
    ingest_cpu_per_alert: float
    sender_cpu_per_request: float
    database_cpu_per_alert: float
    bytes_per_alert: float
    bytes_per_listing: float
    memory: dict[str, int]


def report(
    args: argparse.Namespace,
    market: FakeMarketplace,
    discord: DiscordRecord,
    groups: list[Group],
    started: float,
    published_for: float,
    ended: float,
    claims: str,
) -> None:
    accepted = discord.accepted_at
    published = {key: at for key, at in market.published.items()}
    created, sent, latencies = [], [], []
    rows = Alert.objects.values_list(
        "created_at", "status", "message_id", "listing__market", "listing__external_id"
    )
    for created_at, status, message_id, code, external_id in rows.iterator(chunk_size=20_000):
        created.append(created_at.timestamp())
        at = accepted.get(message_id) if status == Alert.Status.SENT else None
        if at is None:
            continue
        sent.append(at)
        if (code, external_id) in published:
            latencies.append(at - published[(code, external_id)])
    listings = Listing.objects.count()
    flow_chart(created, sent, discord.rate_limited_at, started, ended)

    print(
        f"\nmachine: {cpu_model()}, {os.cpu_count()} cores, {platform.python_version()}, "
        f"PostgreSQL {connection.pg_version // 10000} + Redis, {datetime.now(UTC):%Y-%m-%d}"
    )
    users, filters = args.users, Filter.objects.count()
    print(
        f"{users:,} users, {filters:,} filters; {len(market.published):,} listings published "
        f"over {published_for / 60:.1f} min ({len(market.published) / published_for:.1f}/s), "
        f"{listings:,} scanned"
    )
    scanned = Counter(Listing.objects.values_list("market", flat=True))
    out = Counter(code for code, _ in market.published)
    print("scanned of published: " + ", ".join(f"{c} {scanned[c]:,}/{out[c]:,}" for c in MARKETS))
    count, total, buckets = histogram("marketalerts_matching_seconds")
    if count:
        print(
            f"matching: {count:,} ingest batches, {listings / count:.1f} listings each, "
            f"mean {total / count * 1000:.1f} ms, p95 ≤ {bucket_at(buckets, count, 0.95) * 1000:.0f} ms"
        )
    print(claims)
    queued_for = max(created) - min(created) if created else 0
    print(
        f"alerts: {len(created):,} queued ({len(created) / max(queued_for, 1):,.0f}/s while "
        f"listings arrived), {len(sent):,} delivered ({delivered_rate(sent):,.0f}/s while "
        f"the backlog lasted), {len(created) - len(sent):,} left when the run ended"
    )
    print(
        f"publication → Discord accepted, per alert: p50 {percentile(latencies, 0.5):.1f} s, "
        f"p95 {percentile(latencies, 0.95):.1f} s, p99 {percentile(latencies, 0.99):.1f} s"
    )
    requests = discord.request_times
    busy = (max(requests) - min(requests)) if len(requests) > 1 else 1
    limited = {kind: n for kind, n in discord.rate_limited.items() if n}
    print(
        f"Discord: {len(requests):,} requests, {len(requests) / busy:.1f}/s (busiest second "
        f"{discord.max_requests_in_a_second}), {len(accepted):,} messages, "
        f"{len(sent) / max(len(accepted), 1):.2f} alerts a message; 429s: {limited or 0}"
    )
    print("\nprocess         CPU s busy  idle CPU/s  peak memory  largest process")
    for group in groups:
        print(
            f"{group.name:<15} {group.busy_seconds:>10.0f}  {group.idle_rate:>10.3f}  "
            f"{mib(group.peak):>11}  {mib(group.biggest):>15}"
        )
    sizes = table_sizes()
    print(f"\ndatabase: {mib(database_bytes())}")
    for name, rows_count, table, index in sizes:
        print(
            f"  {name:<28} {rows_count:>10,} rows  table {mib(table):>9}  indexes {mib(index):>9}"
        )
    by_name = {name: (table + index) / max(n, 1) for name, n, table, index in sizes}
    cpu, memory = defaultdict(float), defaultdict(int)
    for group in groups:
        kind = group.name.split()[0]
        cpu[kind] += group.busy_seconds
        memory[kind] = max(memory[kind], group.peak)
    measured = Measured(
        listings=listings,
        alerts=len(created),
        sent=len(sent),
        alerts_per_listing_filter=len(created) / max(listings, 1) / filters,
        alerts_per_message=len(sent) / max(len(accepted), 1),
        ingest_cpu_per_alert=cpu["qcluster"] / max(len(created), 1),
        sender_cpu_per_request=cpu["sendalerts"] / max(len(requests), 1),
        database_cpu_per_alert=cpu["PostgreSQL"] / max(len(created), 1),
        bytes_per_alert=by_name.get("alerts_alert", 0),
        bytes_per_listing=by_name.get("scraping_listing", 0),
        memory=dict(memory),
    )
    capacity_model(args, measured, filters / users)


def delivered_rate(sent: list[float]) -> float:
    """Delivered alerts a second over the minutes with a full backlog: from the first
    delivery to the 95th percentile of deliveries (the tail drains the last few users)."""
    if len(sent) < 20:
        return 0.0
    ordered = sorted(sent)
    last = ordered[int(0.95 * len(ordered))]
    return 0.95 * len(ordered) / max(last - ordered[0], 1)


def capacity_model(args: argparse.Namespace, m: Measured, filters_per_user: float) -> None:
    """What `--model-users` users need, from the per-unit costs measured in this run.

    Alerts grow with listings × filters (each listing matches a fixed share of the
    filters); ingest CPU with listings and alerts; sending with Discord requests;
    the database with the rows written. One token makes 50 requests a second. Packing
    is read from this run's backlog, so the model needs a run that saturates the token,
    as the default one does; fixed costs make a small run's per-alert costs high."""
    users = args.model_users
    filters = users * filters_per_user
    alerts_per_second = args.real_rate * m.alerts_per_listing_filter * filters
    per_day = alerts_per_second * 86400
    ingest_cores = alerts_per_second * m.ingest_cpu_per_alert  # alerts dominate
    # A message per alert while the sender keeps up; packed messages (up to 10) only build
    # up from a backlog, which is latency. The model asks for fresh delivery.
    requests_fresh = alerts_per_second
    sender_cores = requests_fresh * m.sender_cpu_per_request
    database_cores = alerts_per_second * m.database_cpu_per_alert
    # Packed as the backlog packed them: up to 10 embeds, but at most 6,000 characters.
    packed = 50 * m.alerts_per_message
    per_user = args.real_rate * m.alerts_per_listing_filter * filters_per_user
    token_fresh, token_packed = 50 / per_user, packed / per_user
    retention = settings.RETENTION_ALERTS_DAYS
    print(
        f"\ncapacity model: {users:,} users, {filters:,.0f} filters, {args.real_rate}/s "
        f"listings live ({m.alerts_per_listing_filter * 1e6:.1f} alerts per listing per "
        f"million filters, as measured)"
    )
    print(
        f"  alerts: {alerts_per_second:,.0f}/s, {per_day / 1e6:,.1f} million a day; "
        f"Discord at a message per alert: {requests_fresh:,.0f} requests/s = "
        f"{math.ceil(requests_fresh / 50)} tokens' worth "
        f"(or {math.ceil(alerts_per_second / packed)} at {m.alerts_per_message:.1f} alerts a "
        "message, as the backlog packed them, with the wait that takes)"
    )
    print(
        f"  one token (50 requests/s) keeps up with {token_fresh:,.0f} users at a message per "
        f"alert, and saturates at {token_packed:,.0f} users ({packed:,.0f} alerts/s) with "
        "every message packed"
    )
    print(
        f"  cores: ingest {ingest_cores:.2f}, senders {sender_cores:.2f}, "
        f"PostgreSQL {database_cores:.2f} (measured {m.ingest_cpu_per_alert * 1e6:.0f} µs "
        f"ingest and {m.database_cpu_per_alert * 1e6:.0f} µs database per alert, "
        f"{m.sender_cpu_per_request * 1e3:.1f} ms sender per request)"
    )
    print(
        "  memory: "
        + ", ".join(f"{name} {mib(size)}" for name, size in m.memory.items())
        + " measured at this size; the filter index grows ~27 MiB per 100,000 filters"
    )
    print(
        f"  database: {m.bytes_per_alert:.0f} bytes an alert with its indexes → "
        f"{per_day * m.bytes_per_alert / 2**30:,.1f} GiB a day, "
        f"{per_day * m.bytes_per_alert * retention / 2**40:,.1f} TiB at {retention} days' retention; "
        f"listings {args.real_rate * 86400 * m.bytes_per_listing / 2**30:,.2f} GiB a day"
    )


if __name__ == "__main__":
    main()
