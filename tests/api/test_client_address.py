"""Anonymous requests are throttled by the client's address, which a client cannot choose by
sending X-Forwarded-For: only TRUSTED_PROXY_COUNT proxies of ours are believed."""

from __future__ import annotations

from django.conf import settings as django_settings
from rest_framework.test import APIClient


def schema_statuses(forwarded_for: list[str], remote_addr: str = "203.0.113.9") -> list[int]:
    client = APIClient()
    return [
        client.get(
            "/api/v1/schema/", REMOTE_ADDR=remote_addr, HTTP_X_FORWARDED_FOR=claimed
        ).status_code
        for claimed in forwarded_for
    ]


def test_a_made_up_forwarded_for_does_not_buy_a_fresh_budget(settings):
    settings.API_THROTTLE_RATE = "3/min"
    claims = [f"198.51.100.{n}" for n in range(5)]
    assert schema_statuses(claims) == [200, 200, 200, 429, 429]


def test_behind_one_proxy_of_ours_its_forwarded_address_is_the_client(settings):
    settings.API_THROTTLE_RATE = "3/min"
    settings.REST_FRAMEWORK = {**django_settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The proxy (127.0.0.1) appends the address it saw; what the client wrote before is ignored.
    one_client = [f"10.9.9.{n}, 198.51.100.7" for n in range(4)]
    assert schema_statuses(one_client, remote_addr="127.0.0.1") == [200, 200, 200, 429]
    assert schema_statuses(["198.51.100.8"], remote_addr="127.0.0.1") == [200]
