"""The parts of a scan cycle on their own: its schedule, and what taking one page does."""

from __future__ import annotations

import pytest

from scraping.cycle import ScanCycle
from scraping.jobs import Job
from scraping.sources.base import Page
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


class RecordingWaker:
    """Delivery's side of a cycle, as the cycle sees it: told of each page's alerts."""

    def __init__(self) -> None:
        self.stored_alerts: list[int] = []

    def stored(self, alerts: int) -> None:
        self.stored_alerts.append(alerts)

    def flush_due(self) -> None:
        pass

    def flush(self) -> None:
        pass


def test_a_cycle_spreads_its_fetches_evenly_and_numbers_its_reads():
    cycle = ScanCycle("rakuma", RecordingWaker(), spread_seconds=60)
    schedule = cycle.schedule([Job(), Job(), Job(), Job()], started=100.0)
    assert [at for at, _ in schedule] == [100.0, 115.0, 130.0, 145.0]
    assert [job.read for _, job in schedule] == [0, 1, 2, 3]
    assert ScanCycle("rakuma", RecordingWaker()).schedule([Job(), Job()], 5.0)[1][0] == 5.0


def test_taking_a_page_counts_it_and_tells_the_waker_of_its_alerts_only_when_there_are_some():
    make_filter(make_user(), brands=["Sacai"])
    waker = RecordingWaker()
    cycle = ScanCycle("rakuma", waker)
    page = Page(records=[listing("sacai coat"), listing("kapital scarf")], broken=1)

    assert cycle.take(Job(), page) is None  # a search's page has no next page to read
    assert (cycle.scan.items_seen, cycle.scan.new_items, cycle.scan.alerts) == (2, 2, 1)
    assert cycle.scan.broken_items == 1
    cycle.take(Job(), page)  # the same listings again: seen, nothing new
    assert (cycle.scan.items_seen, cycle.scan.new_items) == (4, 2)
    assert waker.stored_alerts == [1]
