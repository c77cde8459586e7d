"""Matching benchmark: compiled index vs the naive loop over every filter.

    .venv/bin/python bench/matching.py [--filters 100000] [--listings 10000] [--naive-sample 20]

Reports index build time, matching wall time, listings/s, memory, matches, and
the speed-up over the plain per-filter rules on a sample of listings (whose
results must agree with the index). Runs without a database.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django

django.setup()

from bench.workload import Workload  # noqa: E402
from filters.brands import BrandTable  # noqa: E402
from filters.index import FilterIndex  # noqa: E402
from filters.rules import FilterRule, filter_matches  # noqa: E402


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def bar(value: float, scale: float, width: int = 40) -> str:
    return "█" * max(1, round(width * value / scale)) if value else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument(
        "--naive-sample", type=int, default=20, help="listings the naive loop checks"
    )
    parser.add_argument("--profile", choices=["broad", "selective"], default="broad")
    args = parser.parse_args()

    workload = Workload(profile=args.profile)
    brands = BrandTable.from_rows(workload.brand_rows())
    filters = workload.filters(args.filters)
    listings = workload.listings(args.listings)
    gc.collect()

    before = rss_mib()
    started = time.perf_counter()
    index = FilterIndex(filters, brands)
    build_seconds = time.perf_counter() - started
    index_mib = rss_mib() - before

    started = time.perf_counter()
    matched = [index.match_rows(listing) for listing in listings]
    match_seconds = time.perf_counter() - started
    matches = sum(len(rows) for rows in matched)
    alerts = sum(len(set(index.owner_ids[rows].tolist())) for rows in matched)

    rules = [FilterRule.of(f) for f in filters]
    sample = listings[: args.naive_sample]
    started = time.perf_counter()
    naive = [
        [
            f.id
            for f, rule in zip(filters, rules, strict=True)
            if filter_matches(rule, listing, brands)
        ]
        for listing in sample
    ]
    naive_per_listing = (time.perf_counter() - started) / len(sample)
    for listing, expected in zip(sample, naive, strict=True):
        assert sorted(index.match(listing)) == expected, (
            f"index disagrees with the rules on {listing.title!r}"
        )
    naive_total = naive_per_listing * len(listings)

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"workload: {len(filters):,} filters of {filters[-1].owner_id:,} users × {len(listings):,} listings"
    )
    print(f"index build      {build_seconds:8.2f} s")
    print(f"index memory     {index_mib:8.0f} MiB (RSS growth while building)")
    print(
        f"matching         {match_seconds:8.2f} s   {len(listings) / match_seconds:,.0f} listings/s"
    )
    print(
        f"matches          {matches:8,} filter matches, {alerts:,} alerts (one per user and listing)"
    )
    print(
        f"naive loop       {naive_total:8.1f} s   (estimated from {len(sample)} listings × every filter; results agree)"
    )
    print(f"speed-up         {naive_total / match_seconds:8.0f} ×")
    print()
    print("time to match all listings (seconds)")
    scale = max(naive_total, match_seconds)
    print(f"  index {match_seconds:8.2f} {bar(match_seconds, scale)}")
    print(f"  naive {naive_total:8.1f} {bar(naive_total, scale)}")


if __name__ == "__main__":
    main()
