"""`manage.py loaddemo`: the embedded run's demo — a staff login, users with filters, listings.

Idempotent: users and filters are upserted, the first listings are imported
only once, and the demo staff user gets a fresh password that is printed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.core.management.base import BaseCommand
from django_q.models import Schedule

from filters.brands import BrandTable
from filters.imports import import_user_filters
from lib.markets import Market
from lib.text import counted
from listings.models import Listing
from scraping.ingest import ingest_listings
from scraping.sources.demo import next_demo_listings
from users.models import User
from users.services import get_or_create_discord_user, set_destination

DEMO_USERS: list[dict[str, Any]] = [
    {
        "discord_id": "100000000000000001",
        "username": "demo",
        "destination": ("dm", "", ""),
        "filters": [
            {
                "name": "Rick Owens under ¥150k",
                "brands": ["Rick Owens"],
                "exclude": ["風", "キッズ"],
                "price_max": 150000,
            },
            {
                "name": "CDG jackets",
                "brands": ["CDG"],
                "keywords": ["ジャケット"],
                "exclude": ["ジャンク"],
            },
        ],
    },
    {
        "discord_id": "100000000000000002",
        "username": "yohji_fan",
        "destination": ("channel", "200000000000000001", "300000000000000001"),
        "filters": [
            {"name": "Yohji", "brands": ["ヨウジヤマモト"], "price_max": 60000},
            {"name": "Issey pleats", "brands": ["Issey Miyake"], "keywords": ["プリーツ"]},
        ],
    },
    {
        "discord_id": "100000000000000003",
        "username": "archive_hunter",
        "destination": ("channel", "200000000000000001", "300000000000000001"),
        "filters": [
            {"name": "Margiela tabi", "brands": ["margiela"], "keywords": ["足袋"]},
            {"name": "Helmut & Raf", "brands": ["Helmut Lang", "Raf Simons"], "price_min": 10000},
            {
                "name": "Undercover leather",
                "brands": ["Undercover"],
                "keywords": ["レザー"],
            },
        ],
    },
]
FIRST_LISTINGS = 30


class Command(BaseCommand):
    help = "Load the demo: a staff login, three users with filters, the first demo listings."

    def handle(self, *args, **options) -> None:
        brands = BrandTable.load()
        for spec in DEMO_USERS:
            user, _ = get_or_create_discord_user(spec["discord_id"], spec["username"])
            set_destination(user, *spec["destination"])
            outcome = import_user_filters(user, spec["filters"], brands)
            for position, error in outcome.errors:
                self.stderr.write(f"demo filter {position} of {user.username}: {error}")

        password = secrets.token_urlsafe(9)
        staff = User.objects.get(discord_id=DEMO_USERS[0]["discord_id"])
        staff.is_staff = staff.is_superuser = True
        staff.set_password(password)
        staff.save(update_fields=["is_staff", "is_superuser", "password"])

        if not Listing.objects.filter(market=Market.DEMO).exists():
            result = ingest_listings(next_demo_listings(FIRST_LISTINGS))
            self.stdout.write(
                f"demo listings: {result.new} new, {counted(result.alerts, 'alert')} queued"
            )
        Schedule.objects.update_or_create(
            name="demo listings",
            defaults={
                "func": "scraping.tasks.replay_demo_listings",
                "kwargs": {"count": 4},
                "schedule_type": Schedule.MINUTES,
                "minutes": 1,
                "repeats": -1,
            },
        )
        self.stdout.write(
            self.style.SUCCESS(f"demo staff login: username “demo”, password “{password}”")
        )
