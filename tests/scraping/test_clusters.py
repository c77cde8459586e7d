"""Several qcluster processes on one database: each due schedule runs once, whoever finds it.

django-q2 1.11's scheduler claims due schedules in one transaction with
SELECT … FOR UPDATE and moves next_run (or deletes a one-off) before committing. On
PostgreSQL a second scheduler waits for those row locks, then re-checks its filter and
skips the schedules already moved; on SQLite our IMMEDIATE transactions let one scheduler
at a time in, so the second reads what the first committed. The brokers then hand each
task to one worker (the ORM broker by a conditional UPDATE of the row's lock, Redis by
BLPOP).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.signing import SignedPackage

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ONE_OFFS = 20
REPEATING = 20
# The sentinel runs the scheduler 30 s after it starts, then every 30 s.
FIRST_PASS_SECONDS = 30


def due_schedules(path: str, prefix: str, due_at) -> set[str]:
    """One-off and repeating schedules of tests.qtasks.record_run, all due at `due_at`."""
    names = set()
    for n in range(ONE_OFFS + REPEATING):
        name = f"{prefix} {n}"
        repeating = n >= ONE_OFFS
        Schedule.objects.create(
            name=name,
            func="tests.qtasks.record_run",
            args=repr((path, name)),
            # An hour apart, so a repeating schedule is due exactly once in the test.
            schedule_type=Schedule.MINUTES if repeating else Schedule.ONCE,
            minutes=60 if repeating else None,
            repeats=-1,
            next_run=due_at,
        )
        names.add(name)
    return names


def runs_in(path) -> Counter[str]:
    if not path.exists():
        return Counter()
    return Counter(line.rsplit(" ", 1)[0] for line in path.read_text().splitlines())


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return err


def test_two_clusters_run_each_due_schedule_once(manage_py, tmp_path):
    runs = tmp_path / "runs.txt"
    names = due_schedules(str(runs), "cheap", timezone.now() - timedelta(seconds=1))
    clusters = [manage_py("qcluster", env={"Q_WORKERS": "2"}) for _ in range(2)]
    started = time.monotonic()
    try:
        # Both sentinels make their first pass ~30 s in, within a second of each other.
        deadline = started + FIRST_PASS_SECONDS + 90
        while sum(runs_in(runs).values()) < len(names) and time.monotonic() < deadline:
            assert all(c.poll() is None for c in clusters), [stop(c) for c in clusters]
            time.sleep(0.5)
        # Let the later of the two first passes finish, and anything it queued run.
        while time.monotonic() < started + FIRST_PASS_SECONDS + 10 or OrmQ.objects.exists():
            assert time.monotonic() < deadline, "tasks were left in the queue"
            time.sleep(0.5)
    finally:
        errors = [stop(c) for c in clusters]

    assert runs_in(runs) == Counter(dict.fromkeys(names, 1)), errors
    # The one-offs are gone; each repeating schedule moved on by one period.
    left = Schedule.objects.filter(name__startswith="cheap ")
    assert left.count() == REPEATING
    assert all(s.next_run > timezone.now() + timedelta(minutes=55) for s in left)


def queued_groups(broker: str, redis_url: str | None) -> Counter[str]:
    """The schedule name of every task waiting in the broker's queue."""
    if broker == "orm":
        return Counter(queued.task["group"] for queued in OrmQ.objects.all())
    import redis

    client = redis.Redis.from_url(redis_url)
    raw = client.lrange("django_q:market-alerts:q", 0, -1)
    return Counter(SignedPackage.loads(item)["group"] for item in raw)


@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_two_schedulers_at_the_same_instant_queue_each_due_schedule_once(
    broker, manage_py, tmp_path, request
):
    """The schedulers' passes forced to overlap: two processes run django-q2's scheduler at
    the same instants, over schedules falling due just before each instant."""
    env = {}
    redis_url = None
    if broker == "redis":
        redis_url = request.getfixturevalue("redis_url")
        import redis

        redis.Redis.from_url(redis_url).delete("django_q:market-alerts:q")
        env["REDIS_URL"] = redis_url
    rounds, gap = 4, 1.5
    start_at = time.time() + 10  # both processes are ready by then, even on a busy machine
    names = set()
    for n in range(rounds):
        due_at = timezone.now() + timedelta(seconds=start_at + n * gap - 0.5 - time.time())
        names |= due_schedules(str(tmp_path / "unused"), f"round {n}", due_at)
    code = f"from tests.qtasks import scheduler_at; scheduler_at({start_at}, {rounds}, {gap})"
    schedulers = [manage_py("shell", "-c", code, env=env) for _ in range(2)]
    for process in schedulers:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err

    queued = queued_groups(broker, redis_url)
    ours = Counter({group: count for group, count in queued.items() if group in names})
    assert ours == Counter(dict.fromkeys(names, 1))
