"""The quota holds when one user's creates race each other (each in its own thread and connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from filters.models import Filter
from filters.services import create_filter
from lib.errors import QuotaExceeded
from tests.builders import make_filter, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

RACERS = 8


def race(target, count: int) -> list[object]:
    """Run `target(n)` in `count` threads released at once; return each result or exception."""
    start = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(n: int) -> None:
        try:
            start.wait()
            results[n] = target(n)
        except Exception as error:
            results[n] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_creates_for_the_last_slot_make_exactly_one_filter():
    owner = make_user(filter_quota=3)
    make_filter(owner, "one")
    make_filter(owner, "two")

    results = race(
        lambda n: create_filter(owner, {"name": f"racer {n}", "keywords": ["x"]}), RACERS
    )

    made = [result for result in results if isinstance(result, Filter)]
    refused = [result for result in results if isinstance(result, QuotaExceeded)]
    assert len(made) == 1, results
    assert len(refused) == RACERS - 1, results
    assert "You have 3 of your 3 filters" in refused[0].message
    assert Filter.objects.filter(owner=owner).count() == 3
