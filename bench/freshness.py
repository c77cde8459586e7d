"""Freshness benchmark: how soon a newly published listing reaches Discord, through the
production path.

    make bench       # runs this with the other benchmarks on a throwaway PostgreSQL server
    DATABASE_URL=… .venv/bin/python bench/freshness.py [--minutes 3] [--rate 2] [--users 1000]

A fake marketplace (bench/marketplace_server.py) publishes listings on the four
markets at `--rate` per second in all, with titles from the benchmark workload.
1,000 users keep 5 filters each and get their alerts by DM, their DM channels
known. The production processes run with the embedded defaults (Q_WORKERS,
60 s cycles, SCRAPING_FEED_POLLS reads of each market's feed a cycle, at most
30 requests a minute per market): `setup_schedules`, then `qcluster` (its
pollers read the markets) and `sendalerts` against the Discord API emulator
(tests/emulators/discord.py, 20-60 ms a request). Publishing starts once every
market has its poller and stops after `--minutes`; the processes get
CATCH_UP_SECONDS more. Reported: publication → Discord accepted (the
emulator's receive time of the first message holding the listing) and
publication → alert queued, p50/p95/max over the listings that alerted, and
requests per minute per market.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
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
from django.utils import timezone  # noqa: E402

from alerts.models import Alert  # noqa: E402
from bench.ingest import load_brands, timed_filter_import, write_users  # noqa: E402
from bench.marketplace_server import MARKETS, FakeMarketplace  # noqa: E402
from bench.workload import Workload  # noqa: E402
from filters.matching import bump_index_version  # noqa: E402
from filters.models import Filter  # noqa: E402
from lib.models import Lease  # noqa: E402
from listings.models import Listing  # noqa: E402
from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator  # noqa: E402
from users.models import User  # noqa: E402

CATCH_UP_SECONDS = 30  # a market is read every few seconds: enough to deliver the last ones
STARTUP_SECONDS = 120


def titles(workload: Workload):
    while True:
        for item in workload.listings(1000):
            yield item.title


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def spread(values: list[float]) -> str:
    if not values:
        return "nothing"
    return (
        f"p50 {percentile(values, 50):.1f} s, p95 {percentile(values, 95):.1f} s, "
        f"max {max(values):.1f} s"
    )


def load_filters(workload: Workload, count: int) -> None:
    """The users and their filters, through `import_filters` (setup, not what is measured)."""
    load_brands(workload)
    path = Path(tempfile.mkdtemp()) / "users.jsonl"
    write_users(path, workload, count)
    timed_filter_import(path)
    # Filters exist for a while before a scan; freshly loaded ones would all look
    # edited to the index patcher, which looks back a minute for clock skew.
    Filter.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    bump_index_version()


def open_dm_channels(emulator: DiscordEmulator) -> int:
    """Every bench user's DM channel known, as in the steady state."""
    users = list(User.objects.filter(username__startswith="bench"))
    for user in users:
        user.destination_kind = "dm"
        user.dm_channel_id = emulator.add_dm(user.discord_id)
    User.objects.bulk_update(users, ["destination_kind", "dm_channel_id"], batch_size=1000)
    return len(users)


def production_env(
    market: FakeMarketplace, emulator: DiscordEmulator, discord: RunningEmulator
) -> dict[str, str]:
    """The production processes' environment: every market read from the fake
    marketplace, Discord at the emulator."""
    return {
        **os.environ,
        "SCRAPING_SOURCES": ",".join(MARKETS),
        "MARKETPLACE_BASE_URLS": ",".join(f"{code}={market.url}" for code in MARKETS),
        "DISCORD_BOT_TOKEN": emulator.config.token,
        "DISCORD_API_BASE": discord.base_url,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *command],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the cluster's processes are stopped with it
    )


def wait_for_pollers(processes: list[subprocess.Popen], logs: str = "/tmp/freshness-*.log") -> None:
    names = [f"poller:{code}" for code in MARKETS]
    deadline = time.monotonic() + STARTUP_SECONDS
    while Lease.objects.filter(name__in=names).exclude(owner="").count() < len(names):
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise SystemExit(f"the pollers never started: see the logs in {logs}")
        time.sleep(0.5)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=2.0, help="new listings per second, in all")
    parser.add_argument("--users", type=int, default=1000)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    workload = Workload()
    load_filters(workload, args.users * 5)
    emulator = DiscordEmulator(EmulatorConfig(latency=(0.02, 0.06)))
    market = FakeMarketplace(titles(Workload(seed=7)), args.rate)
    market.start(publish=False)
    with RunningEmulator(emulator) as discord:
        dm_users = open_dm_channels(emulator)
        env = production_env(market, emulator, discord)
        call_command("setup_schedules", stdout=io.StringIO())
        processes = [
            start(["qcluster"], env, Path("/tmp/freshness-qcluster.log")),
            start(["sendalerts"], env, Path("/tmp/freshness-sendalerts.log")),
        ]
        try:
            wait_for_pollers(processes)
            before = dict(market.requests)
            started = time.time()
            market.start_publishing()
            time.sleep(args.minutes * 60)
            market.stop_publishing()
            published_for = time.time() - started
            time.sleep(CATCH_UP_SECONDS)
            elapsed_minutes = (time.time() - started) / 60
        finally:
            stop(processes)
            market.close()
    accepted = {m["id"]: m["accepted_at"] for m in emulator.messages}

    first_alert = dict(
        Alert.objects.values("listing_id")
        .annotate(first=Min("created_at"))
        .values_list("listing_id", "first")
    )
    first_message: dict[int, float] = {}
    for listing_id, message_id in Alert.objects.exclude(message_id="").values_list(
        "listing_id", "message_id"
    ):
        at = accepted.get(message_id)
        if at is not None:
            first_message[listing_id] = min(at, first_message.get(listing_id, at))
    queued, delivered = [], []
    for listing_id, code, external_id in Listing.objects.values_list("id", "market", "external_id"):
        published = market.published.get((code, external_id))
        if published is None:
            continue
        if listing_id in first_alert:
            queued.append(first_alert[listing_id].timestamp() - published)
        if listing_id in first_message:
            delivered.append(first_message[listing_id] - published)
    found = Listing.objects.filter(market__in=MARKETS).count()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor}, "
        f"{datetime.now(UTC):%Y-%m-%d}; {args.users:,} users ({dm_users:,} by DM, channels "
        f"known), {args.users * 5:,} filters, {args.rate}/s published for {published_for / 60:.1f} min"
    )
    print(
        f"published {len(market.published):,}, scanned {found:,}, alerted {len(queued):,}, "
        f"reached Discord {len(delivered):,}"
    )
    sent = Alert.objects.filter(status="sent").count()
    print(
        f"alerts queued {Alert.objects.count():,}, sent {sent:,}; "
        f"Discord messages {len(emulator.messages):,}, 429s {sum(emulator.rate_limited.values())}"
    )
    print(f"publication → alert queued:      {spread(queued)}")
    print(f"publication → Discord accepted:  {spread(delivered)}")
    rates = ", ".join(
        f"{code} {(market.requests[code] - before[code]) / elapsed_minutes:.1f}" for code in MARKETS
    )
    print(f"requests per minute per market: {rates}")


if __name__ == "__main__":
    main()
