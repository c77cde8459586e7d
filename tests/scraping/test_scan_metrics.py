"""What a scan cycle counts: its duration, the items and new listings it read, a failed cycle,
and the time matching took.

Every process of the test run counts into one METRICS_DIR, so each test compares
the host's totals before and after.
"""

from __future__ import annotations

import pytest

from scraping.scanner import scan_source
from tests.builders import make_filter, make_user
from tests.prometheus import grew, host_metrics
from tests.scraping.conftest import Reply
from tests.scraping.test_scan import RAKUMA_PAGE, quick_client

pytestmark = pytest.mark.django_db


def test_a_scan_counts_what_it_read_and_found_and_how_long_it_took(marketplace):
    make_filter(make_user(), brands=["Sacai"], markets=["rakuma"])  # two spellings: two searches
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    before = host_metrics()
    scan = scan_source("rakuma", client=quick_client("rakuma"))
    after = host_metrics()

    assert (scan.items_seen, scan.new_items) == (4, 2)
    assert grew(before, after, "marketalerts_scan_items_total", source="rakuma") == 4
    assert grew(before, after, "marketalerts_scan_new_listings_total", source="rakuma") == 2
    assert grew(before, after, "marketalerts_scan_duration_seconds_count", source="rakuma") == 1
    assert grew(before, after, "marketalerts_scan_failures_total", source="rakuma") == 0
    # The first page brought the new listings: one batch matched; the second had none new.
    assert grew(before, after, "marketalerts_matching_seconds_count") == 1
    assert grew(before, after, "marketalerts_scan_items_total", source="mercari") == 0


def test_a_cycle_whose_every_fetch_fails_counts_one_failure(marketplace):
    make_filter(make_user(), brands=["Sacai"], markets=["rakuma"])
    marketplace.serve("/s", Reply("down", 503))
    before = host_metrics()
    scan = scan_source("rakuma", client=quick_client("rakuma"))
    after = host_metrics()

    assert scan.errors == 2
    assert grew(before, after, "marketalerts_scan_failures_total", source="rakuma") == 1
    assert grew(before, after, "marketalerts_scan_duration_seconds_count", source="rakuma") == 1
    assert grew(before, after, "marketalerts_scan_items_total", source="rakuma") == 0
