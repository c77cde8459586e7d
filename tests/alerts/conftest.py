from __future__ import annotations

from collections.abc import Sequence

import pytest

from alerts.transports import Destination, Transport
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user


class FlakyTransport(Transport):
    """A transport standing in for an unreachable outside service: fails as told, records what it got."""

    name = "flaky"

    def __init__(self, failures: list[Exception] | None = None) -> None:
        self.failures = list(failures or [])
        self.delivered: list[tuple[Destination, list[int]]] = []

    def deliver(self, destination: Destination, alerts: Sequence) -> dict[int, str]:
        if self.failures:
            raise self.failures.pop(0)
        ids = [a.pk for a in alerts]
        self.delivered.append((destination, ids))
        return {pk: f"msg-{pk}" for pk in ids}


@pytest.fixture
def queued_alerts():
    """`count` pending alerts, one per listing, for one user with a Sacai filter."""

    def make(count: int, user=None):
        user = user or make_user()
        make_filter(user, brands=["Sacai"])
        ingest_listings([listing(f"sacai item {n}") for n in range(count)])
        return user

    return make
