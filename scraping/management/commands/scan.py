"""`manage.py scan [--source CODE] [--once]`: scan the marketplaces in the foreground.

With `--once`, one cycle per source, with a progress bar on a terminal and a
summary line per source. Without it, the same pollers as `qcluster` runs
(scraping/pollers.py), one per source, each reading its market at an even pace
and printing a summary line per cycle, until SIGTERM or Ctrl-C, which skip
the fetches not started yet. A market another live poller (a `qcluster`)
holds is left to it. In production `qcluster` runs the pollers.
"""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lib.progress import progress_bar
from scraping.jobs import SCANNABLE
from scraping.models import Scan, paused_summary
from scraping.pollers import Pollers
from scraping.scanner import scan_source


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
        pollers = Pollers(
            sources, on_cycle=lambda code, scan: self.stdout.write(describe(scan, code))
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: pollers.stopping.set())
        pollers.start()
        pollers.wait()  # each ends between fetches once stopping is set
