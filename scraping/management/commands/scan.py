"""`manage.py scan [--source CODE] --once`: scan the marketplaces in the foreground.

With `--once`, one cycle per source, with a progress bar on a terminal and a
summary line per source. Without it, cycles repeat every source's interval,
the sources taking turns and each one's searches spread over its share,
until SIGTERM or Ctrl-C, which skip the searches not started yet. In production django-q2 runs the scans instead
(`setup_schedules`).
"""

from __future__ import annotations

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lib.progress import progress_bar
from scraping.models import Scan, paused_summary
from scraping.scanner import SCANNABLE, interval_for, scan_source


def describe(scan: Scan | None, source: str) -> str:
    return scan.summary() if scan else paused_summary(source)


class Command(BaseCommand):
    help = "Scan marketplaces for new listings: one cycle with --once, else repeatedly."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", choices=SCANNABLE, help="one source only")
        parser.add_argument("--once", action="store_true", help="one cycle, then exit")

    def handle(self, *args, source: str | None = None, once: bool = False, **options) -> None:
        sources = [source] if source else settings.SCRAPING_SOURCES
        if not sources:
            raise CommandError(
                "No source to scan: set SCRAPING_SOURCES (e.g. mercari,rakuma) or use --source."
            )
        unknown = sorted(set(sources) - set(SCANNABLE))
        if unknown:
            raise CommandError(f"Unknown sources in SCRAPING_SOURCES: {', '.join(unknown)}.")
        if once:
            for code in sources:
                with progress_bar(None, "requests", self.stderr) as bar:

                    def planned(total: int, bar=bar) -> None:
                        bar.total = total
                        bar.refresh()

                    scan = scan_source(code, progress=bar.update, planned=planned)
                self.stdout.write(describe(scan, code))
            return
        stopping = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.set())
        while not stopping.is_set():
            for code in sources:
                spread = interval_for(code) * 0.9 / len(sources)
                scan = scan_source(code, spread_seconds=spread, stopping=stopping)
                self.stdout.write(describe(scan, code))
            stopping.wait(min(interval_for(code) for code in sources) * 0.1)
