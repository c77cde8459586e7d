"""The web's per-user limit reads API_THROTTLE_RATE as DRF does, and counts a window."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from lib.throttle import parse_rate, wait_seconds


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("120/min", (120, 60)),
        ("120/minute", (120, 60)),
        ("5/s", (5, 1)),
        ("1000/day", (1000, 86400)),
    ],
)
def test_rates_are_read_as_drf_reads_them(rate, parsed):
    assert parse_rate(rate) == parsed


def test_past_the_rate_a_request_waits_about_the_window():
    cache.clear()
    assert [wait_seconds("test-throttle", "2/min") for _ in range(2)] == [0.0, 0.0]
    assert 59 < wait_seconds("test-throttle", "2/min") <= 60
    cache.clear()
