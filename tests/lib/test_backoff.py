"""The one backoff formula: doubling waits, capped, jittered between half and all."""

from __future__ import annotations

from lib.backoff import backoff_ceiling, jittered_backoff


def test_each_failure_doubles_the_wait_up_to_the_cap():
    waits = [backoff_ceiling(attempt, 5, 3600) for attempt in range(1, 12)]
    assert waits[:5] == [5, 10, 20, 40, 80]
    assert waits[-1] == 3600 and max(waits) == 3600


def test_a_jittered_wait_is_between_half_and_all_of_the_ceiling():
    for attempt in range(1, 8):
        ceiling = backoff_ceiling(attempt, 1, 10)
        waits = [jittered_backoff(attempt, 1, 10) for _ in range(200)]
        assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
        assert max(waits) - min(waits) > 0  # spread out, not one fixed wait


def test_a_huge_count_of_failures_still_waits_the_cap():
    assert backoff_ceiling(10**6, 0.5, 30.0) == 30.0
