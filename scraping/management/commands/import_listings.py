"""`manage.py import_listings FILE`: store listings from JSON Lines, match the new ones, queue alerts.

FILE may be `-` (or /dev/stdin) for a pipe. Every bad line is reported as
`line N: field: problem` and the good ones around it are still imported. Each
batch is one transaction, so when the database gives out (locked, gone) the
batches before it stay stored, and running the same command again is safe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.core.management.base import CommandError
from django.db import OperationalError

from lib.commands import JsonLinesCommand
from lib.errors import ValidationFailed
from lib.jsonl import LineError
from lib.refusals import refused_line
from lib.text import counted
from listings.records import ListingRecord, parse_listing
from scraping.ingest import ingest_listings

BATCH = 1000

Key = tuple[str, str]


@dataclass
class _Import:
    """What one run has done so far, for the summary line."""

    read: int = 0
    last_line: int = 0
    new: int = 0
    seen: int = 0
    duplicates: int = 0
    alerts: int = 0
    rejected: list[LineError] = field(default_factory=list)
    #: The batch each (market, id) of this file was first read in: a later line with the
    #: same key is a duplicate, and across batches the database sees it as already stored.
    first_batch: dict[Key, int] = field(default_factory=dict)
    batches: int = 0
    #: The batch being filled, by key, with its line numbers: within it the last line wins.
    batch: dict[Key, tuple[int, ListingRecord]] = field(default_factory=dict)

    def add(self, number: int, record: ListingRecord) -> None:
        key = (record.market, record.external_id)
        if key in self.first_batch:
            self.duplicates += 1
        else:
            self.first_batch[key] = self.batches
        self.batch.pop(key, None)  # the later line's details win, as a re-import's would
        self.batch[key] = (number, record)

    def flush(self) -> None:
        if not self.batch:
            return
        lines = list(self.batch.values())
        result = ingest_listings([record for _, record in lines])
        # Keys first read in an earlier batch were stored by it: here they are "seen"
        # by the database but are duplicates in the file, already counted as such.
        carried = sum(1 for key in self.batch if self.first_batch[key] < self.batches)
        self.new += result.new
        self.seen += result.seen - carried
        self.alerts += result.alerts
        for position, words in result.refused:
            number, record = lines[position]
            self.rejected.append(refused_line(number, words))
            self.first_batch.pop((record.market, record.external_id), None)
        self.batch.clear()
        self.batches += 1

    def summary(self, seconds: float) -> str:
        rejected = len({error.line for error in self.rejected})
        return (
            f"read {counted(self.read, 'line')}: {self.new:,} new, {self.seen:,} already seen, "
            f"{counted(self.duplicates, 'duplicate')} in the file, {rejected:,} rejected, "
            f"{counted(self.alerts, 'alert')} queued, {seconds:.2f}s"
        )


class Command(JsonLinesCommand):
    help = (
        "Import listings from a JSON Lines file (or - for standard input); "
        "new ones are matched and their alerts queued."
    )
    line_help = "one listing object a line"
    unit = "listing"

    def handle(self, *args, file: str, **options) -> None:
        started = time.perf_counter()
        run = _Import()
        stopped: str | None = None
        status = 1
        opened = True
        try:
            for number, item in self.lines(file):
                run.read, run.last_line = run.read + 1, number
                if isinstance(item, LineError):
                    run.rejected.append(item)
                    continue
                try:
                    run.add(number, parse_listing(item))
                except ValidationFailed as failed:
                    run.rejected.extend(
                        LineError(number, e.field, e.message) for e in failed.errors
                    )
                    continue
                if len(run.batch) >= BATCH:
                    run.flush()
            run.flush()
        except OperationalError as error:
            # Nothing of the failed batch was stored (it is one transaction), nor anything after.
            first = min((number for number, _ in run.batch.values()), default=None)
            state = "busy" if "lock" in str(error).lower() else "unavailable"
            lost = (
                f"nothing from line {first:,} on was imported" if first else "the rest was not read"
            )
            stopped = (
                f"the database was {state} ({str(error).strip()}); {lost} — running the same "
                "command again is safe: listings already stored are not alerted twice"
            )
        except KeyboardInterrupt:
            status = 130  # the shell's code for Ctrl-C
            first = min((number for number, _ in run.batch.values()), default=run.last_line + 1)
            stopped = (
                f"interrupted; nothing from line {first:,} on was imported — running the same "
                "command again is safe: listings already stored are not alerted twice"
            )
        except CommandError:  # the file can't be opened: there is nothing to sum up
            opened = False
            raise
        finally:
            # The summary is printed however the run ends, a crash included.
            if opened:
                for rejection in sorted(run.rejected, key=lambda rejection: rejection.line):
                    self.stderr.write(str(rejection))
                self.stdout.write(run.summary(time.perf_counter() - started))
        if stopped:
            raise CommandError(stopped, returncode=status)
        rejected = len({error.line for error in run.rejected})
        if rejected:
            raise CommandError(f"{counted(rejected, 'line')} rejected", returncode=1)
