"""Stops that stop: `qcluster` and `make run` end within 10 s of SIGTERM, as real processes,
and Ctrl-C on `make run` says so once, without make's error line.

`sendalerts` and `runbot` have the same test beside their own features
(tests/alerts/test_sendalerts.py, tests/bot/test_runbot.py).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, subprocess_database_url

# serialized_rollback like every transactional test here: a plain flush would recreate the
# content types that the next serialized test restores.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def start_in_own_group(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """A process leading its own process group, as a terminal or a service manager starts it."""
    return subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def read_until(process: subprocess.Popen, text: str, timeout: float) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while text not in seen:
        if time.monotonic() > deadline or process.poll() is not None:
            if group_alive(process.pid):
                os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"never saw {text!r}; output was:\n{seen}{process.stdout.read()}")
        seen += process.stdout.readline()
    return seen


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def seconds_until_group_gone(process: subprocess.Popen, limit: float = 15.0) -> float:
    """Seconds until the process has exited and no process of its group is left."""
    started = time.monotonic()
    while process.poll() is None or group_alive(process.pid):
        if time.monotonic() - started > limit:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"still running {limit:.0f}s after SIGTERM")
        time.sleep(0.05)
    return time.monotonic() - started


def qcluster() -> subprocess.Popen:
    env = {"DATABASE_URL": subprocess_database_url(), "Q_WORKERS": "2"}
    process = start_in_own_group([sys.executable, "manage.py", "qcluster"], env)
    read_until(process, "cluster running", timeout=60)
    time.sleep(2)  # its processes are all up, as a service running for a while has them
    return process


def test_qcluster_stops_within_seconds_when_its_whole_process_group_gets_sigterm():
    # The way `make run`, systemd and container runtimes stop it: django-q2's own command hung here.
    cluster = qcluster()
    os.killpg(cluster.pid, signal.SIGTERM)
    assert seconds_until_group_gone(cluster) < 10
    assert "cluster stopped" in cluster.stdout.read()


def test_qcluster_stops_within_seconds_on_sigterm_even_with_a_long_task_running():
    from django_q.models import OrmQ
    from django_q.tasks import async_task

    cluster = qcluster()
    async_task("time.sleep", 120, task_name="a task that would outlast any stop")
    deadline = time.monotonic() + 30
    while OrmQ.objects.filter(lock__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # a worker has taken it when the broker's row is locked
    time.sleep(0.5)
    os.kill(cluster.pid, signal.SIGTERM)
    assert seconds_until_group_gone(cluster) < 10
    assert "killing" in cluster.stdout.read()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(
    not Path(ROOT, ".venv/bin/python").exists(), reason="make run's .venv is absent"
)
def test_make_run_stops_all_its_processes_within_ten_seconds_of_sigterm(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "PORT": str(free_port()),
        "SECRET_KEY": "a-key-for-this-test-only",
    }
    run = start_in_own_group(["scripts/run.sh"], env)
    read_until(run, "serving on", timeout=120)
    time.sleep(3)  # the cluster, the sender and the web server are all up
    os.killpg(run.pid, signal.SIGTERM)
    assert seconds_until_group_gone(run) < 10


@pytest.mark.skipif(
    not Path(ROOT, ".venv/bin/python").exists(), reason="make run's .venv is absent"
)
def test_ctrl_c_on_make_run_stops_it_quietly(tmp_path):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
        "SECRET_KEY": "a-key-for-this-test-only",
    }
    # The venv is the suite's own: -o keeps make from rebuilding it, whatever its timestamps.
    make_run = ["make", "-o", ".venv/bin/activate", "run", f"PORT={free_port()}"]
    run = start_in_own_group(make_run, env)
    started = read_until(run, "serving on", timeout=180)
    started += read_until(run, "cluster running", timeout=60)
    time.sleep(3)
    os.killpg(run.pid, signal.SIGINT)  # what a terminal sends its foreground group on Ctrl-C
    assert seconds_until_group_gone(run) < 10
    stopping = run.stdout.read()
    assert "make: ***" not in stopping  # no "[Makefile: run] Interrupt"
    for line in (
        "received SIGINT, stopping the cluster",
        "received SIGINT, finishing the requests in flight",
        "cluster stopped",
    ):
        assert stopping.count(line) == 1, stopping
    assert "django-q:" not in started + stopping  # the cluster's processes, one line each
