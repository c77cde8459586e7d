"""The per-user limits read API_THROTTLE_RATE as DRF does, and count a window."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from lib.throttle import WebFormThrottle
from tests.builders import make_user


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
    assert WebFormThrottle().parse_rate(rate) == parsed


@pytest.mark.django_db
def test_past_the_rate_a_request_waits_about_the_window(settings):
    cache.clear()
    settings.API_THROTTLE_RATE = "2/min"
    request = RequestFactory().post("/filters/preview/")
    request.user = make_user()
    allowed = [WebFormThrottle().allow_request(request, None) for _ in range(3)]
    assert allowed == [True, True, False]
    throttle = WebFormThrottle()
    assert not throttle.allow_request(request, None)
    assert 59 < throttle.wait() <= 60
    cache.clear()
