"""Delivery benchmark: `sendalerts --drain` against the Discord API emulator, compared with
the fastest delivery Discord's limits allow for the same alerts.

    make bench       # runs this with the other benchmarks on a throwaway PostgreSQL server
    DATABASE_URL=… .venv/bin/python bench/delivery.py [--alerts 5000] [--cold]

300 users: half get their alerts by DM, half share 50 channels (three to a
channel). The alerts are spread over the users at random, queued at once, and
drained by one real `sendalerts` process; the emulator answers each request
after 20-60 ms and enforces Discord's limits. The lower bound is the largest of
all requests at 50/s, the busiest channel at 5 messages per 5 s and, when DM
channels must be opened, the DM opens at our DM-open pace. The warm run has
every DM channel opened before (the steady state); `--cold` adds a run where
each DM user is new and their DM channel is opened first, paced at
DISCORD_DM_OPENS_PER_SECOND (Discord publishes no number for it).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", os.urandom(32).hex())  # a throwaway key for the run

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from alerts import outbox  # noqa: E402
from alerts.batching import pack  # noqa: E402
from alerts.embeds import AlertView  # noqa: E402
from alerts.models import Alert  # noqa: E402
from listings.models import Listing  # noqa: E402
from tests.emulators.discord import DiscordEmulator, EmulatorConfig, RunningEmulator  # noqa: E402
from users.models import User  # noqa: E402

DM_USERS = 150
CHANNEL_USERS = 150
CHANNELS = 50
GLOBAL_LIMIT = 50
CHANNEL_LIMIT, CHANNEL_WINDOW = 5, 5.0


def reset() -> None:
    Alert.objects.all().delete()
    Listing.objects.all().delete()
    User.objects.filter(username__startswith="bench").delete()


def make_users(emulator: DiscordEmulator, cold: bool) -> list[User]:
    users = []
    for n in range(DM_USERS + CHANNEL_USERS):
        user = User(username=f"bench{n}", discord_id=str(10**17 + n))
        if n >= DM_USERS:
            channel = str(5 * 10**17 + (n - DM_USERS) % CHANNELS)
            emulator.add_channel(channel, guild_id="42")
            user.destination_kind = "channel"
            user.destination_channel_id, user.destination_guild_id = channel, "42"
        elif not cold:
            user.dm_channel_id = emulator.add_dm(user.discord_id)
        users.append(user)
    User.objects.bulk_create(users)
    return list(User.objects.filter(username__startswith="bench").order_by("pk"))


def queue_alerts(users: list[User], count: int) -> None:
    rng = random.Random(7)
    listings = Listing.objects.bulk_create(
        Listing(
            market="mercari",
            external_id=f"b{n:07d}",
            title=f"Rick Owens ジオバスケット DRKSHDW sneakers size {40 + n % 6} #{n}",
            price=rng.randrange(5_000, 120_000),
            url=f"https://jp.mercari.com/item/b{n:07d}",
            image_url=f"https://static.mercdn.net/item/b{n:07d}.jpg",
        )
        for n in range(count)
    )
    owners = [rng.choice(users).pk for _ in listings]
    outbox.enqueue(
        ((owner, item.pk, []) for owner, item in zip(owners, listings, strict=True)),
        timezone.now(),
    )


def lower_bound(cold: bool) -> tuple[float, int]:
    """The fastest drain the limits allow, and the requests it takes. Discord publishes no
    rate for opening DMs; a cold run is bound by our own DM-open pace as well."""
    alerts = list(Alert.objects.select_related("user", "listing"))
    outbox.attach_filter_names(alerts)
    by_route: dict[str, list] = {}
    for alert in alerts:
        user = alert.user
        key = user.destination_channel_id if user.destination_kind == "channel" else str(user.pk)
        by_route.setdefault(key, []).append(
            (alert.pk, AlertView.of(alert, mention=user.destination_kind == "channel"))
        )
    messages = {route: len(pack(items)) for route, items in by_route.items()}
    requests = sum(messages.values()) + (DM_USERS if cold else 0)
    busiest = max((n - 1) // CHANNEL_LIMIT * CHANNEL_WINDOW for n in messages.values())
    dm_opens = DM_USERS / settings.DISCORD_DM_OPENS_PER_SECOND if cold else 0.0
    return max(requests / GLOBAL_LIMIT, busiest, dm_opens), requests


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def sparkline(per_second: list[int]) -> str:
    bars = " ▁▂▃▄▅▆▇█"
    return "".join(bars[min(8, round(n / GLOBAL_LIMIT * 8))] for n in per_second)


def run(alerts: int, cold: bool) -> None:
    reset()
    emulator = DiscordEmulator(EmulatorConfig(latency=(0.02, 0.06)))
    with RunningEmulator(emulator) as running:
        users = make_users(emulator, cold)
        queue_alerts(users, alerts)
        bound, needed = lower_bound(cold)
        env = {
            **os.environ,
            "DISCORD_BOT_TOKEN": emulator.config.token,
            "DISCORD_API_BASE": running.base_url,
            "LOG_LEVEL": "WARNING",
        }
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(ROOT / "manage.py"), "sendalerts", "--drain"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.monotonic() - started
    first, last = emulator.request_times[0], emulator.request_times[-1]
    drain = last - first
    per_second = Counter(int(t - first) for t in emulator.request_times)
    accepted = {m["id"]: m["accepted_at"] for m in emulator.messages}
    latencies = [
        accepted[message_id] - created.timestamp()
        for message_id, created in Alert.objects.values_list("message_id", "created_at")
    ]
    sent = Alert.objects.filter(status="sent").count()
    label = "cold (every DM opened first)" if cold else "warm (DM channels known)"
    print(f"\n{label}: {alerts:,} alerts for {len(users)} users")
    print(f"  {result.stdout.strip().splitlines()[-1]}; {sent:,} alerts sent")
    print(
        f"  drain {drain:6.2f} s (first to last request; process {wall:.2f} s)  "
        f"lower bound {bound:6.2f} s  ratio {drain / bound:.3f}"
    )
    print(
        f"  requests {emulator.requests:,} (at least {needed:,})  "
        f"{emulator.requests / drain:.1f}/s  busiest second {emulator.max_requests_in_a_second}"
    )
    scopes = ", ".join(f"{scope} {emulator.rate_limited[scope]}" for scope in ("global", "user"))
    print(f"  429s: {scopes}, shared {emulator.rate_limited['shared']}")
    print(f"  messages {len(emulator.messages):,}: {len(emulator.messages) / alerts:.3f} per alert")
    print(
        f"  created → accepted: p50 {percentile(latencies, 50):.2f} s, "
        f"p95 {percentile(latencies, 95):.2f} s, p99 {percentile(latencies, 99):.2f} s"
    )
    print(f"  requests per second: {sparkline([per_second[s] for s in range(int(drain) + 1)])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=5000)
    parser.add_argument("--cold", action="store_true", help="also run with no DM channel known")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {connection.vendor}, "
        f"{datetime.now(UTC):%Y-%m-%d}; pace {settings.DISCORD_REQUESTS_PER_SECOND}/s, "
        f"{settings.DISCORD_MAX_IN_FLIGHT} in flight, emulator latency 20-60 ms"
    )
    run(args.alerts, cold=False)
    if args.cold:
        run(args.alerts, cold=True)


if __name__ == "__main__":
    main()
