"""`manage.py setup_schedules`: install the django-q2 schedules, idempotently, by name.

One "scan <source>" schedule per source in SCRAPING_SOURCES, every
SCRAPING_INTERVAL_SECONDS or the source's own SCRAPING_INTERVALS entry
(django-q2 counts in whole minutes, so at least one); schedules of sources no longer configured are removed. A daily
"retention" schedule purges old records. The hourly "alert digests" schedule
comes with the migrations.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand
from django_q.models import Schedule

from scraping.scanner import interval_for

PREFIX = "scan "
RETENTION = "retention"


class Command(BaseCommand):
    help = "Install or update the django-q2 schedules of the marketplace scans."

    def handle(self, *args, **options) -> None:
        wanted = {f"{PREFIX}{code}": code for code in settings.SCRAPING_SOURCES}
        for name, code in wanted.items():
            minutes = max(1, round(interval_for(code) / 60))
            _, created = Schedule.objects.update_or_create(
                name=name,
                defaults={
                    "func": "scraping.tasks.scan_market",
                    "args": repr((code,)),
                    "schedule_type": Schedule.MINUTES,
                    "minutes": minutes,
                    "repeats": -1,
                },
            )
            self.stdout.write(
                f"{'installed' if created else 'updated'} “{name}”, every {minutes} min"
            )
        Schedule.objects.update_or_create(
            name=RETENTION,
            defaults={
                "func": "scraping.tasks.purge_old_records",
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
            },
        )
        stale = Schedule.objects.filter(name__startswith=PREFIX).exclude(name__in=wanted)
        for name in stale.values_list("name", flat=True):
            self.stdout.write(f"removed “{name}”")
        stale.delete()
