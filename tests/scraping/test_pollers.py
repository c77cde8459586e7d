"""The market pollers: real `qcluster` processes reading a local marketplace at an even pace,
one poller per market across processes, the django-q2 worker left free."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from alerts.models import Alert
from lib.models import Lease
from tests.builders import make_filter, make_user
from tests.conftest import ROOT, subprocess_database_url
from tests.scraping.conftest import Reply

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "marketplaces"
RAKUMA_PAGE = (FIXTURES / "rakuma" / "search_built_from_docs.html").read_text(encoding="utf-8")
PAYPAY_PAGE = (FIXTURES / "paypay_fleamarket" / "search_built_from_docs.json").read_text()
RAKUMA_EMPTY = "<div>該当する商品が見つかりません</div>"
PAYPAY_EMPTY = json.dumps(
    {"totalResultsAvailable": 0, "totalResultsReturned": 0, "offset": 0, "items": []}
)
PATHS = {"rakuma": "/s", "paypay_fleamarket": "/api/v1/search"}
INTERVAL, POLLS = 4, 4  # a feed read every second per market
LEASE = 3


class Cluster:
    """A `manage.py qcluster` leading its own process group, its output in a file."""

    def __init__(self, marketplace_url: str, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": subprocess_database_url(),
            "Q_WORKERS": "1",
            "LOG_LEVEL": "INFO",
            "SCRAPING_SOURCES": ",".join(PATHS),
            "MARKETPLACE_BASE_URLS": ",".join(f"{code}={marketplace_url}" for code in PATHS),
            "SCRAPING_INTERVAL_SECONDS": str(INTERVAL),
            "SCRAPING_FEED_THRESHOLD": "1",  # sacai and サカイ are two searches: read the feed
            "SCRAPING_FEED_POLLS": str(POLLS),
            "SCRAPING_REQUESTS_PER_MINUTE": "600",
            "SCRAPING_TIMEOUT_SECONDS": "2",
            "SCRAPING_LEASE_SECONDS": str(LEASE),
        }
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: "cluster running" in self.output(), 60, "the cluster never started", self)

    @property
    def owner_suffix(self) -> str:
        return f":{self.process.pid}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def group_alive(self) -> bool:
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        if self.group_alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def seconds_to_stop(self, limit: float = 15.0) -> float:
        """SIGTERM to the process group; seconds until no process of it is left."""
        os.killpg(self.process.pid, signal.SIGTERM)
        started = time.monotonic()
        while self.process.poll() is None or self.group_alive():
            if time.monotonic() - started > limit:
                self.kill()
                pytest.fail(f"still running {limit:.0f}s after SIGTERM:\n{self.output()}")
            time.sleep(0.05)
        return time.monotonic() - started


def wait_for(condition, timeout: float, message: str, *clusters: Cluster) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            logs = "\n".join(c.output() for c in clusters)
            for cluster in clusters:
                cluster.kill()
            pytest.fail(f"{message}; output:\n{logs}")
        time.sleep(0.2)


def lease_owners() -> dict[str, str]:
    rows = Lease.objects.filter(name__startswith="poller:").values_list("name", "owner")
    return {name.removeprefix("poller:"): owner for name, owner in rows}


def held_by(cluster: Cluster) -> bool:
    owners = lease_owners()
    return all(owners.get(code, "").endswith(cluster.owner_suffix) for code in PATHS)


def reads(marketplace) -> Counter:
    by_path = Counter(path for path, _, _ in list(marketplace.requests))
    return Counter({code: by_path[path] for code, path in PATHS.items()})


def reads_during(marketplace, seconds: float) -> Counter:
    before = reads(marketplace)
    time.sleep(seconds)
    return reads(marketplace) - before


@pytest.fixture
def fans_on_both_markets(marketplace):
    for market in PATHS:
        make_filter(make_user(), brands=["Sacai"], markets=[market])
    marketplace.serve(PATHS["rakuma"], Reply(RAKUMA_EMPTY))
    marketplace.serve(PATHS["paypay_fleamarket"], Reply(PAYPAY_EMPTY))
    return marketplace


def test_qcluster_polls_each_market_evenly_and_leaves_its_worker_free(
    fans_on_both_markets, tmp_path
):
    from django_q.tasks import async_task, result

    marketplace = fans_on_both_markets
    cluster = Cluster(marketplace.url, tmp_path / "qcluster.log")
    try:
        wait_for(lambda: held_by(cluster), 30, "the pollers never took their leases", cluster)
        window = 8.0
        seen = reads_during(marketplace, window)
        expected = window * POLLS / INTERVAL  # 8 reads per market
        for code in PATHS:
            # Every market read all along (not half the time), and paced, not in bursts.
            assert expected / 2 <= seen[code] <= expected + 3, (code, seen)

        # With its one worker, the cluster still runs a task at once: no scan holds it.
        task = async_task("math.floor", 2.5)
        assert result(task, wait=15_000) == 2

        marketplace.serve(PATHS["rakuma"], Reply(RAKUMA_PAGE))
        marketplace.serve(PATHS["paypay_fleamarket"], Reply(PAYPAY_PAGE))
        wait_for(
            lambda: set(Alert.objects.values_list("listing__market", flat=True)) == set(PATHS),
            30,
            "new listings never became alerts",
            cluster,
        )
        assert cluster.seconds_to_stop() < 10
        assert "cluster stopped" in cluster.output()
        assert lease_owners() == {"rakuma": "", "paypay_fleamarket": ""}  # handed back
    finally:
        cluster.kill()


def test_one_poller_per_market_across_processes_and_a_dead_holders_markets_are_taken_over(
    fans_on_both_markets, tmp_path
):
    marketplace = fans_on_both_markets
    first = Cluster(marketplace.url, tmp_path / "first.log")
    second = None
    try:
        wait_for(lambda: held_by(first), 30, "the first cluster never polled", first)
        second = Cluster(marketplace.url, tmp_path / "second.log")
        window = 8.0
        seen = reads_during(marketplace, window)
        assert held_by(first)  # the second one stands by
        for code in PATHS:
            assert seen[code] <= window * POLLS / INTERVAL + 3, (code, seen)  # not read twice

        first.kill()  # SIGKILL: no lease handed back
        wait_for(lambda: held_by(second), LEASE * 5, "the standby never took over", first, second)
        seen = reads_during(marketplace, 4.0)
        assert all(seen[code] >= 1 for code in PATHS), seen
        assert second.seconds_to_stop() < 10
    finally:
        first.kill()
        if second is not None:
            second.kill()
