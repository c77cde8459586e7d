"""`manage.py import_listings FILE`: store listings from JSON Lines, match the new ones, queue alerts."""

from __future__ import annotations

import time

from django.core.management.base import CommandError

from filters.errors import ValidationFailed
from lib.commands import JsonLinesCommand
from lib.jsonl import LineError
from scraping.ingest import IngestResult, ingest_listings
from scraping.records import ListingRecord, parse_listing

BATCH = 1000


class Command(JsonLinesCommand):
    help = "Import listings from a JSON Lines file; new ones are matched and their alerts queued."
    line_help = "one listing object a line"
    unit = "listing"

    def handle(self, *args, file: str, **options) -> None:
        started = time.perf_counter()
        read = 0
        rejected: list[LineError] = []
        totals = IngestResult()
        batch: list[ListingRecord] = []

        def flush() -> None:
            if batch:
                totals.add(ingest_listings(batch))
                batch.clear()

        for number, item in self.lines(file):
            read += 1
            if isinstance(item, LineError):
                rejected.append(item)
                continue
            try:
                batch.append(parse_listing(item))
            except ValidationFailed as failed:
                rejected.extend(LineError(number, e.field, e.message) for e in failed.errors)
                continue
            if len(batch) >= BATCH:
                flush()
        flush()

        for error in rejected:
            self.stderr.write(str(error))
        rejected_lines = len({error.line for error in rejected})
        self.stdout.write(
            f"read {read}, new {totals.new}, already seen {totals.seen}, rejected {rejected_lines}, "
            f"alerts queued {totals.alerts}, {time.perf_counter() - started:.2f}s"
        )
        if rejected_lines:
            raise CommandError(f"{rejected_lines} line(s) rejected", returncode=1)
