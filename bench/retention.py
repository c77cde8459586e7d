"""Retention benchmark: deleting a large outbox's old alerts, in batches and by partitions.

    .venv/bin/python bench/retention.py [--alerts 3000000] [--days 10]

Starts its own PostgreSQL (scripts/with-test-services.sh). Fills the outbox
with `--alerts` delivered alerts spread evenly over `--days` days (written
by SQL, not measured), then removes the older half two ways:

- batched deletes: `scraping.retention.purge_old_records`, the daily retention
  job as it runs in production, while a probe goes on writing fresh alerts
  (what ingest does meanwhile); reported: rows deleted a second, the probe's
  write times before and during the purge, the table and index sizes after;
- time partitions: the same rows copied into a table partitioned by day
  (what a partitioned outbox would be), whose old days are dropped.

The retention choice in docs/benchmarks.md rests on these numbers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if os.environ.get("RETENTION_BENCH_SERVICES") != "1":
    os.environ["RETENTION_BENCH_SERVICES"] = "1"
    wrapper = str(ROOT / "scripts" / "with-test-services.sh")
    os.execv(wrapper, [wrapper, sys.executable, __file__, *sys.argv[1:]])

sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Min  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from bench.ingest import cpu_model  # noqa: E402
from listings.models import Listing  # noqa: E402
from scraping.retention import purge_old_records  # noqa: E402
from users.models import User  # noqa: E402

USERS = 10_000
ALERTS_PER_LISTING = 30
PROBE_ROWS = 1_000  # alerts a probe write adds, as one ingest batch might
PROBE_GAP_SECONDS = 0.5


def sql(statement: str, params: tuple = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def fill(alerts: int, days: int, now: datetime) -> None:
    """Users, listings and delivered alerts, oldest `days` ago, newest now."""
    listings = alerts // ALERTS_PER_LISTING
    start = now - timedelta(days=days)
    step = days * 86400 / alerts
    User.objects.bulk_create(
        User(username=f"retention{n}", discord_id=str(10**17 + n)) for n in range(USERS)
    )
    user_ids = User.objects.aggregate(first=Min("id"))["first"]
    Listing.objects.bulk_create(
        (
            Listing(
                market="mercari",
                external_id=f"m{n}",
                title=f"Rick Owens geobasket {n}",
                price=30000,
                url=f"https://jp.mercari.com/item/m{n}",
                first_seen_at=start + timedelta(seconds=n * step * ALERTS_PER_LISTING),
            )
            for n in range(listings)
        ),
        batch_size=5000,
    )
    listing_ids = Listing.objects.aggregate(first=Min("id"))["first"]
    # Each listing alerts 30 distinct users; the row is what a delivered alert holds.
    sql(
        """INSERT INTO alerts_alert (user_id, listing_id, filter_ids, status, attempts,
               next_attempt_at, lease_owner, sent_at, message_id, last_error, nonce, created_at)
           SELECT %s + (n * 7 + (n / 30) * 13) %% %s, %s + n / 30, '[12345]', 'sent', 1,
                  t, '', t + interval '5 seconds', (1100000000000000000 + n)::text, '',
                  substr(md5(n::text), 1, 24), t
           FROM (SELECT n, %s + n * %s * interval '1 second' AS t
                 FROM generate_series(0, %s - 1) n) rows""",
        (user_ids, USERS, listing_ids, start, step, alerts),
    )
    sql("VACUUM ANALYZE alerts_alert")


def sizes() -> tuple[int, int, int]:
    """Rows, table bytes and index bytes of the outbox."""
    rows = sql("SELECT count(*) FROM alerts_alert")[0][0]
    table, index = sql("SELECT pg_table_size('alerts_alert'), pg_indexes_size('alerts_alert')")[0]
    return rows, table, index


class Probe(threading.Thread):
    """Fresh alerts written in ingest-sized transactions, each write timed."""

    def __init__(self, listing_id: int) -> None:
        super().__init__(daemon=True)
        self.listing_id, self.stopping = listing_id, threading.Event()
        self.times: list[float] = []
        self.round = 0

    def run(self) -> None:
        try:
            while not self.stopping.wait(PROBE_GAP_SECONDS):
                self.round += 1
                started = time.perf_counter()
                # A fresh listing a round, alerting the first PROBE_ROWS users.
                sql(
                    """WITH listing AS (
                           INSERT INTO scraping_listing (market, external_id, title, price,
                               currency, url, image_url, first_seen_at)
                           VALUES ('rakuma', %s, 'probe', 1000, 'JPY', 'https://fril.jp/', '', now())
                           RETURNING id)
                       INSERT INTO alerts_alert (user_id, listing_id, filter_ids, status,
                           attempts, next_attempt_at, lease_owner, message_id, last_error,
                           nonce, created_at)
                       SELECT u.id, listing.id, '[1]', 'pending', 0, now(), '', '', '', '', now()
                       FROM listing, (SELECT id FROM users_user ORDER BY id LIMIT %s) u""",
                    (f"probe-{self.round}-{time.time_ns()}", PROBE_ROWS),
                )
                self.times.append(time.perf_counter() - started)
        finally:
            connections.close_all()


def probe_spread(times: list[float]) -> str:
    if not times:
        return "no writes"
    ordered = sorted(times)
    return (
        f"{len(times)} writes of {PROBE_ROWS:,} alerts: median "
        f"{statistics.median(ordered) * 1000:.0f} ms, slowest {ordered[-1] * 1000:.0f} ms"
    )


def timed_probe(seconds: float) -> list[float]:
    probe = Probe(0)
    probe.start()
    time.sleep(seconds)
    probe.stopping.set()
    probe.join()
    return probe.times


def partitions(days: int, cutoff: datetime) -> tuple[float, float, int]:
    """Copy the outbox into a table partitioned by day and drop the days before `cutoff`:
    seconds to copy, seconds to drop, rows kept."""
    sql(
        "CREATE TABLE alerts_by_day (LIKE alerts_alert INCLUDING DEFAULTS) PARTITION BY RANGE (created_at)"
    )
    first = sql("SELECT date_trunc('day', min(created_at)) FROM alerts_alert")[0][0]
    for day in range(days + 2):
        low, high = first + timedelta(days=day), first + timedelta(days=day + 1)
        sql(
            f"CREATE TABLE alerts_day_{day} PARTITION OF alerts_by_day FOR VALUES FROM (%s) TO (%s)",
            (low, high),
        )
    # The outbox's indexes, each now per partition (the unique one must hold created_at).
    sql("CREATE INDEX ON alerts_by_day (status, next_attempt_at)")
    sql("CREATE INDEX ON alerts_by_day (status, sent_at)")
    sql("CREATE INDEX ON alerts_by_day (listing_id)")
    sql("CREATE UNIQUE INDEX ON alerts_by_day (user_id, listing_id, created_at)")
    started = time.perf_counter()
    sql("INSERT INTO alerts_by_day SELECT * FROM alerts_alert")
    copied = time.perf_counter() - started
    started = time.perf_counter()
    old = [day for day in range(days + 2) if first + timedelta(days=day + 1) <= cutoff]
    for day in old:
        sql(f"DROP TABLE alerts_day_{day}")
    dropped = time.perf_counter() - started
    kept = sql("SELECT count(*) FROM alerts_by_day")[0][0]
    sql("DROP TABLE alerts_by_day")  # the trial is over: the real outbox is purged next
    return copied, dropped, kept


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=3_000_000)
    parser.add_argument("--days", type=int, default=10)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    now = datetime.now(UTC)
    started = time.perf_counter()
    fill(args.alerts, args.days, now)
    rows, table, index = sizes()
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, PostgreSQL "
        f"{connection.pg_version // 10000}, {now:%Y-%m-%d}"
    )
    print(
        f"outbox: {rows:,} delivered alerts over {args.days} days (written in "
        f"{time.perf_counter() - started:.0f} s): table {mib(table)}, indexes {mib(index)}, "
        f"{(table + index) / rows:.0f} bytes an alert"
    )
    before = timed_probe(5)
    print(f"probe alone:          {probe_spread(before)}")

    keep_days = args.days // 2
    cutoff = now - timedelta(days=keep_days)
    copied, dropped, kept = partitions(args.days, cutoff)
    print(
        f"partitions by day:    the rows copied in {copied:.1f} s; the {args.days - keep_days} "
        f"days before the cutoff dropped in {dropped * 1000:.0f} ms, {kept:,} rows kept"
    )
    probe = Probe(0)
    probe.start()
    started = time.perf_counter()
    with override_settings(RETENTION_ALERTS_DAYS=keep_days):
        counts = purge_old_records(now=now)
    purged = time.perf_counter() - started
    probe.stopping.set()
    probe.join()
    print(
        f"batched deletes:      {counts['alerts']:,} alerts in {purged:.1f} s = "
        f"{counts['alerts'] / purged:,.0f}/s (and {counts['listings']:,} listings)"
    )
    print(f"probe during purge:   {probe_spread(probe.times)}")
    started = time.perf_counter()
    sql("VACUUM alerts_alert")
    vacuumed = time.perf_counter() - started
    rows, table, index = sizes()
    print(
        f"after VACUUM ({vacuumed:.1f} s): {rows:,} rows, table {mib(table)}, indexes "
        f"{mib(index)} (the space is reused by new rows, not returned)"
    )


if __name__ == "__main__":
    main()
