"""Code that tests run inside real django-q2 processes (a `qcluster`'s workers, a `manage.py
shell`): importable there because those processes start in the project root."""

from __future__ import annotations

import os
import time


def record_run(path: str, name: str) -> None:
    """A scheduled task that only notes that it ran: one line per run, appended to `path`
    (a write of one short line with O_APPEND is atomic, so two clusters never mix lines)."""
    with open(path, "a", encoding="utf-8") as runs:
        runs.write(f"{name} {os.getpid()}\n")


def scheduler_at(start_at: float, rounds: int, gap: float) -> None:
    """Run django-q2's scheduler once at each of `start_at + n × gap` (epoch seconds), as a
    cluster's sentinel does every 30 s, so two processes calling this race each other."""
    from django_q.scheduler import scheduler

    for n in range(rounds):
        time.sleep(max(start_at + n * gap - time.time(), 0))
        scheduler()
