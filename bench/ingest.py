"""Ingest benchmark: `import_filters` of 100,000 filters for 20,000 users, and
`import_listings` of 10,000 listings without and with those filters.

    make bench       # runs this and bench/matching.py on a throwaway PostgreSQL server
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/ingest.py   # SQLite
    DATABASE_URL=… .venv/bin/python bench/ingest.py [--filters 100000] [--listings 10000]

Needs an empty database (it migrates it; for SQLite, a file that does not exist
yet). Everything goes through the commands' code paths: the filters are loaded
by `import_filters` (timed for new users, then again when nothing changed), the
listings by `import_listings`, first with no filters (the bare ingest), then
with them (matching, and queueing the alerts: alerts/s for the whole import and
for the outbox writes alone). It also times a full rebuild of the filter index
from the database, what every process pays once after filters change, and the
patch after one edit.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

import scraping.ingest  # noqa: E402
from alerts import outbox  # noqa: E402
from alerts.models import Alert  # noqa: E402
from bench.workload import Workload, user_lines  # noqa: E402
from filters.matching import bump_index_version, current_index  # noqa: E402
from filters.models import Brand, BrandAlias, Filter  # noqa: E402
from filters.services import update_filter  # noqa: E402
from filters.text import normalize  # noqa: E402
from users.models import User  # noqa: E402


def write_listings(path: Path, listings, prefix: str) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for n, item in enumerate(listings):
            external_id = f"{prefix}{n:08d}"
            row = {
                "market": item.market,
                "external_id": external_id,
                "title": item.title,
                "brand": item.brand,
                "price": item.price,
                "currency": "JPY",
                "url": f"https://example.com/{item.market}/{external_id}",
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def timed_import(path: Path) -> tuple[float, str]:
    out = io.StringIO()
    started = time.perf_counter()
    call_command("import_listings", str(path), stdout=out, stderr=io.StringIO())
    return time.perf_counter() - started, out.getvalue().strip()


def load_brands(workload: Workload) -> None:
    """The workload's brands and aliases, so its filters' brands are known (setup)."""
    for name, aliases in workload.brand_rows():
        brand, _ = Brand.objects.get_or_create(normalized=normalize(name), defaults={"name": name})
        for alias in aliases:
            if normalize(alias) != brand.normalized:
                BrandAlias.objects.get_or_create(
                    normalized=normalize(alias), defaults={"brand": brand, "alias": alias}
                )


def write_users(path: Path, workload: Workload, count: int) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        for line in user_lines(workload.filters(count)):
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")


def timed_filter_import(path: Path) -> tuple[float, str]:
    """Seconds and the summary line of `import_filters`; any refused line is printed."""
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    try:
        call_command("import_filters", str(path), stdout=out, stderr=err)
    except CommandError as error:
        print(f"import_filters: {error}; the first problems:")
        print("\n".join(err.getvalue().splitlines()[:5]))
    return time.perf_counter() - started, out.getvalue().strip()


class OutboxTimer:
    """Stands in for `enqueue` in scraping.ingest, timing the outbox writes alone."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.alerts = 0

    def __call__(self, alerts, now) -> int:
        started = time.perf_counter()
        count = outbox.enqueue(alerts, now)
        # The matches are made as the writer reads them: their time is not the write's.
        self.seconds += time.perf_counter() - started - getattr(alerts, "seconds", 0.0)
        self.alerts += count
        return count


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def database_label() -> str:
    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.pg_version // 10000}"
    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def per_second(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--profile", choices=["broad", "selective"], default="broad")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    workload = Workload(profile=args.profile)
    tmp = Path(tempfile.mkdtemp())
    write_listings(tmp / "bare.jsonl", workload.listings(args.listings), "bare")
    write_listings(tmp / "matched.jsonl", workload.listings(args.listings), "match")
    write_users(tmp / "users.jsonl", workload, args.filters)

    bare_seconds, bare_summary = timed_import(tmp / "bare.jsonl")
    load_brands(workload)
    users_seconds, users_summary = timed_filter_import(tmp / "users.jsonl")
    again_seconds, again_summary = timed_filter_import(tmp / "users.jsonl")
    # Filters exist for a while before a scan; freshly loaded ones would all look
    # edited to the index patcher, which looks back a minute for clock skew.
    Filter.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    bump_index_version()
    started = time.perf_counter()
    index = current_index()  # builds and caches, as the first match after a change does
    rebuild_seconds = time.perf_counter() - started
    edited = Filter.objects.filter(price_min__isnull=True).order_by("?").first()
    update_filter(edited.owner, edited.pk, {"price_max": 12345})
    started = time.perf_counter()
    current_index()  # one filter changed: patched in
    patch_seconds = time.perf_counter() - started
    writes = OutboxTimer()
    scraping.ingest.enqueue = writes
    matched_seconds, matched_summary = timed_import(tmp / "matched.jsonl")

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} "
        f"{platform.release()}; {database_label()}; {datetime.now(UTC):%Y-%m-%d}"
    )
    users, filters = User.objects.count(), Filter.objects.count()
    print(f"import_filters   {users_seconds:7.2f} s   {filters:,} filters of {users:,} users, new")
    print(f"                 {'':7}     {users_summary}")
    print(f"  again          {again_seconds:7.2f} s   nothing changed: {again_summary}")
    print(
        f"index rebuild    {rebuild_seconds:7.2f} s   ({len(index):,} filters read from the database and compiled)"
    )
    print(f"index patch      {patch_seconds:7.2f} s   (after one filter edit)")
    print(f"bare ingest      {bare_seconds:7.2f} s   {bare_summary}")
    print(f"with filters     {matched_seconds:7.2f} s   {matched_summary}")
    alerts = Alert.objects.count()
    print(
        f"alerts           {alerts:,} in the outbox: {per_second(alerts, matched_seconds)} over the "
        f"whole import, outbox writes {writes.seconds:.2f} s = "
        f"{per_second(writes.alerts, writes.seconds)}"
    )
    print(f"ratio            {matched_seconds / bare_seconds:7.2f} ×   (with filters / bare)")


if __name__ == "__main__":
    main()
