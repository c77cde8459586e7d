"""Ingest benchmark: `import_listings` of 10,000 listings without and with 100,000 filters.

    make bench       # runs this and bench/matching.py on a throwaway PostgreSQL server
    DATABASE_URL=… .venv/bin/python bench/ingest.py [--filters 100000] [--listings 10000]

Needs an empty database (it migrates it). Both runs go through the command's
code path (parse, validate, upsert, match, queue); the first with no filters
is the bare ingest, the second adds matching and queueing the alerts. It also
times a full rebuild of the filter index from the database, what every
process pays once after a filter changes.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
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
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from bench.workload import Workload  # noqa: E402
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


def load_filters(workload: Workload, count: int) -> None:
    """Users and filters straight into the tables (setup, not what is measured)."""
    for name, aliases in workload.brand_rows():
        brand, _ = Brand.objects.get_or_create(normalized=normalize(name), defaults={"name": name})
        for alias in aliases:
            if normalize(alias) != brand.normalized:
                BrandAlias.objects.get_or_create(
                    normalized=normalize(alias), defaults={"brand": brand, "alias": alias}
                )
    specs = workload.filters(count)
    users = [
        User(username=f"bench{n}", discord_id=str(10**17 + n))
        for n in range(1, specs[-1].owner_id + 1)
    ]
    User.objects.bulk_create(users, batch_size=5000)
    ids = dict(User.objects.filter(username__startswith="bench").values_list("discord_id", "id"))
    Filter.objects.bulk_create(
        [
            Filter(
                owner_id=ids[str(10**17 + f.owner_id)],
                name=f"filter {f.id}",
                brands=list(f.brands),
                keywords=list(f.keywords),
                exclude=list(f.exclude),
                price_min=f.price_min,
                price_max=f.price_max,
                markets=list(f.markets),
            )
            for f in specs
        ],
        batch_size=5000,
    )
    # Filters exist for a while before a scan; freshly loaded ones would all look
    # edited to the index patcher, which looks back a minute for clock skew.
    Filter.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    bump_index_version()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--filters", type=int, default=100_000)
    parser.add_argument("--listings", type=int, default=10_000)
    parser.add_argument("--profile", choices=["broad", "selective"], default="broad")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if connection.vendor != "postgresql":
        print(f"note: running on {connection.vendor}, not PostgreSQL")
    workload = Workload(profile=args.profile)
    tmp = Path(tempfile.mkdtemp())
    write_listings(tmp / "bare.jsonl", workload.listings(args.listings), "bare")
    write_listings(tmp / "matched.jsonl", workload.listings(args.listings), "match")

    bare_seconds, bare_summary = timed_import(tmp / "bare.jsonl")
    started = time.perf_counter()
    load_filters(workload, args.filters)
    setup_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index = current_index()  # builds and caches, as the first match after a change does
    rebuild_seconds = time.perf_counter() - started
    edited = Filter.objects.order_by("?").first()
    update_filter(edited.owner, edited.pk, {"price_max": 12345})
    started = time.perf_counter()
    current_index()  # one filter changed: patched in
    patch_seconds = time.perf_counter() - started
    matched_seconds, matched_summary = timed_import(tmp / "matched.jsonl")

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor} {connection.pg_version if connection.vendor == 'postgresql' else ''}, {datetime.now(UTC):%Y-%m-%d}"
    )
    print(
        f"setup: {args.filters:,} filters of {User.objects.count():,} users loaded in {setup_seconds:.1f} s"
    )
    print(
        f"index rebuild    {rebuild_seconds:7.2f} s   ({len(index):,} filters read from the database and compiled)"
    )
    print(f"index patch      {patch_seconds:7.2f} s   (after one filter edit)")
    print(f"bare ingest      {bare_seconds:7.2f} s   {bare_summary}")
    print(f"with filters     {matched_seconds:7.2f} s   {matched_summary}")
    print(
        f"ratio            {matched_seconds / bare_seconds:7.2f} ×   ({Alert.objects.count():,} alerts in the outbox)"
    )


if __name__ == "__main__":
    main()
