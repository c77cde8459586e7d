"""Freshness benchmark: how soon a newly published listing becomes a queued alert.

    make bench       # runs this with the other benchmarks on a throwaway PostgreSQL server
    DATABASE_URL=… .venv/bin/python bench/freshness.py [--minutes 3] [--rate 2] [--users 1000]

A fake marketplace (bench/marketplace_server.py) publishes listings on the four
markets at `--rate` per second in all, with titles from the benchmark workload.
1,000 users keep 5 filters each. Four `manage.py scan --source …` processes run
side by side, as django-q2's workers run the scheduled scans, with the
production defaults (60 s cycles, at most 30 requests a minute per market).
Publishing stops after `--minutes`; the scanners get one more cycle to catch
up. Reported: publication → alert queued (p50/p95 over listings that alerted),
requests per minute per market, and alerts queued.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Min  # noqa: E402

from alerts.models import Alert  # noqa: E402
from bench.ingest import load_filters  # noqa: E402
from bench.marketplace_server import MARKETS, FakeMarketplace  # noqa: E402
from bench.workload import Workload  # noqa: E402
from scraping.models import Listing  # noqa: E402

CATCH_UP_SECONDS = 75


def titles(workload: Workload):
    while True:
        for item in workload.listings(1000):
            yield item.title


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2.0, help="new listings per second, in all")
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    workload = Workload()
    load_filters(workload, args.users * 5)
    market = FakeMarketplace(titles(Workload(seed=7)), args.rate)
    market.start()
    env = {
        **os.environ,
        "MARKETPLACE_BASE_URLS": ",".join(f"{code}={market.url}" for code in MARKETS),
        "LOG_LEVEL": "WARNING",
    }
    scanners = [
        subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "scan", "--source", code],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        for code in MARKETS
    ]
    started = time.time()
    try:
        time.sleep(args.minutes * 60)
        market.stop_publishing()
        time.sleep(CATCH_UP_SECONDS)
    finally:
        for scanner in scanners:
            scanner.send_signal(signal.SIGKILL)
            scanner.wait()
        market.close()
    elapsed_minutes = (time.time() - started) / 60

    first_alert = dict(
        Alert.objects.values("listing_id")
        .annotate(first=Min("created_at"))
        .values_list("listing_id", "first")
    )
    delays = []
    for listing_id, code, external_id in Listing.objects.values_list("id", "market", "external_id"):
        published = market.published.get((code, external_id))
        if published is not None and listing_id in first_alert:
            delays.append(first_alert[listing_id].timestamp() - published)
    found = Listing.objects.filter(market__in=MARKETS).count()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor}, "
        f"{datetime.now(UTC):%Y-%m-%d}; {args.users:,} users, {args.users * 5:,} filters, "
        f"{args.rate}/s published for {args.minutes} min"
    )
    print(f"published {len(market.published):,}, scanned {found:,}, alerted {len(delays):,}")
    print(f"alerts queued {Alert.objects.count():,}")
    if delays:
        print(
            f"publication → alert queued: p50 {percentile(delays, 50):.1f} s, "
            f"p95 {percentile(delays, 95):.1f} s, max {max(delays):.1f} s"
        )
    rates = ", ".join(f"{code} {market.requests[code] / elapsed_minutes:.1f}" for code in MARKETS)
    print(f"requests per minute: {rates}")


if __name__ == "__main__":
    main()
