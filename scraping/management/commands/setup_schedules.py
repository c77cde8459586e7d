"""`manage.py setup_schedules`: install the django-q2 schedules, idempotently, by name.

A daily "retention" schedule purges old records; the hourly "alert digests"
schedule comes with the migrations. The markets are not scheduled: each one
is read by its poller in `qcluster` (scraping/pollers.py), at an even pace and
without holding a worker, so any "scan <source>" schedule left from before is
removed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django_q.models import Schedule

PREFIX = "scan "
RETENTION = "retention"


class Command(BaseCommand):
    help = "Install or update the django-q2 schedules (retention); remove old scan schedules."

    def handle(self, *args, **options) -> None:
        _, created = Schedule.objects.update_or_create(
            name=RETENTION,
            defaults={
                "func": "scraping.tasks.purge_old_records",
                "schedule_type": Schedule.DAILY,
                "repeats": -1,
            },
        )
        self.stdout.write(f"{'installed' if created else 'updated'} “{RETENTION}”, daily")
        stale = Schedule.objects.filter(name__startswith=PREFIX)
        for name in stale.values_list("name", flat=True):
            self.stdout.write(f"removed “{name}”: the pollers of qcluster read the markets")
        stale.delete()
