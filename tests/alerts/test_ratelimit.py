"""The global budget: evenly spaced slots, never more than the rate in any sliding second."""

from __future__ import annotations

import asyncio
import itertools
import json
import subprocess
import sys
import threading
import time

from alerts.ratelimit import RedisBudget
from lib.pacing import LocalBudget, take_slot
from tests.conftest import ROOT


def busiest_second(times: list[float]) -> int:
    times = sorted(times)
    start, busiest = 0, 0
    for end, moment in enumerate(times):
        while times[start] <= moment - 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def slots_from(budget, count: int, threads: int = 4) -> list[float]:
    """Reserve `count` slots from several threads; return when each slot falls (wall clock)."""
    slots: list[float] = []
    lock = threading.Lock()

    def reserve(n: int) -> None:
        for _ in range(n):
            delay = budget.reserve()
            with lock:
                slots.append(time.time() + delay)

    workers = [threading.Thread(target=reserve, args=(count // threads,)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sorted(slots)


# The pacers run a little under Discord's 50/s so that clock jitter never reaches it.
RATE = 48


def test_local_slots_are_evenly_spaced_under_discords_limit():
    slots = slots_from(LocalBudget(rate=RATE), 200)
    assert busiest_second(slots) <= 50
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert min(gaps) > 0.019  # no bursts: every request about 21 ms after the last
    assert slots[-1] - slots[0] >= 199 / RATE - 0.05


def test_requests_that_wake_together_after_a_stall_still_leave_a_slot_apart():
    budget = LocalBudget(rate=10)  # a slot every 100 ms
    budget.reserve()  # the slot of now is taken

    async def scenario() -> tuple[list[int], list[float]]:
        sent: list[float] = []

        async def request() -> int:
            missed = await take_slot(budget)
            sent.append(time.monotonic())
            return missed

        waiters = [asyncio.create_task(request()) for _ in range(3)]
        await asyncio.sleep(0)  # each waiter has its slot: 100, 200 and 300 ms ahead
        time.sleep(0.45)  # the event loop is busy past all three
        return list(await asyncio.gather(*waiters)), sorted(sent)

    missed, sent = asyncio.run(scenario())
    assert missed == [1, 1, 1]  # each gave up the slot it woke too late for
    gaps = [b - a for a, b in itertools.pairwise(sent)]
    assert min(gaps) >= 0.09  # and took a fresh one: not three requests at once


def test_redis_slots_are_shared_by_threads(redis_url):
    slots = slots_from(RedisBudget(redis_url, rate=RATE, key="test:threads"), 120)
    assert busiest_second(slots) <= 50
    assert slots[-1] - slots[0] >= 119 / RATE - 0.05


SENDER = """
import json, sys, time
from alerts.ratelimit import RedisBudget
budget = RedisBudget(sys.argv[1], rate=48, key="test:processes")
print(json.dumps([time.time() + budget.reserve() for _ in range(100)]))
"""


def test_two_processes_share_one_redis_budget(redis_url):
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", SENDER, redis_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    slots = sorted(t for p in processes for t in json.loads(p.communicate(timeout=30)[0]))
    assert len(slots) == 200
    assert busiest_second(slots) <= 50
    assert slots[-1] - slots[0] >= 199 / RATE - 0.05
