"""`manage.py import_listings FILE`: store listings from JSON Lines, match the new ones, queue alerts."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from filters.errors import ValidationFailed
from lib.jsonl import LineError, count_lines, read_jsonl
from lib.progress import progress_bar
from scraping.ingest import IngestResult, ingest_listings
from scraping.records import ListingRecord, parse_listing

BATCH = 1000


class Command(BaseCommand):
    help = "Import listings from a JSON Lines file; new ones are matched and their alerts queued."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="JSON Lines, one listing object a line")

    def handle(self, *args, file: str, **options) -> None:
        started = time.perf_counter()
        try:
            total_lines = count_lines(file)
        except OSError as error:
            raise CommandError(f"can't read {file}: {error.strerror}") from None
        read = 0
        rejected: list[LineError] = []
        totals = IngestResult()
        batch: list[ListingRecord] = []

        def flush() -> None:
            if batch:
                totals.add(ingest_listings(batch))
                batch.clear()

        with progress_bar(total_lines, "listing") as bar:
            for number, item in read_jsonl(file):
                read += 1
                bar.update(1)
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
