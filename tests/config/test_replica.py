"""DATABASE_REPLICA_URL: read-only pages, API calls and the staff dashboard read the replica;
writes, transactions, the sender and a client that has just written use the primary.

tests/settings.py gives the test run a "replica" alias mirroring the test database (a second
connection to it, as a standby is a second server with the same rows); these tests install
the router that DATABASE_REPLICA_URL would, and watch which connection each query takes.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import OperationalError, connections, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.claim import claim_due
from config import replica
from filters.models import Filter
from lib import db_router
from tests.builders import make_filter, make_user
from tests.conftest import ROOT
from users.services import create_token

pytestmark = pytest.mark.django_db(
    databases=["default", "replica"], transaction=True, serialized_rollback=True
)

FORM = {
    "name": "Sacai knits",
    "brands": "sacai",
    "markets": ["mercari"],
    "active": "on",
    "action": "save",
}


@pytest.fixture(autouse=True)
def replica_router(settings, monkeypatch):
    """The router and middleware DATABASE_REPLICA_URL installs, a fresh cache, no skipping."""
    settings.DATABASE_ROUTERS = [db_router.ROUTER]
    settings.REPLICA_STICKY_SECONDS = 10.0
    monkeypatch.setattr(db_router, "_replica_skipped_until", 0.0)
    cache.clear()
    yield
    cache.clear()
    # Django closes only the primary before dropping the test database at the end.
    connections["replica"].close()


@dataclass
class Seen:
    primary: CaptureQueriesContext
    replica: CaptureQueriesContext

    def on_primary(self) -> list[str]:
        return [query["sql"] for query in self.primary.captured_queries]

    def on_replica(self) -> list[str]:
        return [query["sql"] for query in self.replica.captured_queries]

    def primary_beyond_sessions(self) -> list[str]:
        """The primary's queries other than reading the session, which always reads it."""
        return [sql for sql in self.on_primary() if "django_session" not in sql]


@contextmanager
def watching():
    with (
        CaptureQueriesContext(connections["default"]) as primary,
        CaptureQueriesContext(connections["replica"]) as on_replica,
    ):
        yield Seen(primary, on_replica)


def later(monkeypatch, seconds: float) -> None:
    """Set the middleware's clock `seconds` ahead of the real one."""
    monkeypatch.setattr(replica, "clock", lambda: time.time() + seconds)


def signed_in_client(user=None) -> Client:
    client = Client()
    client.force_login(user or make_user())
    return client


def test_the_dashboard_reads_the_replica_and_only_the_session_the_primary():
    user = make_user()
    make_filter(user, "Rick Owens boots")
    client = signed_in_client(user)

    with watching() as seen:
        answer = client.get("/")

    assert answer.status_code == 200
    assert "Rick Owens boots" in answer.content.decode()
    assert any("filters_filter" in sql for sql in seen.on_replica())
    assert seen.on_primary(), "the session is read on the primary"
    assert seen.primary_beyond_sessions() == []


def test_the_api_and_the_staff_dashboard_read_the_replica():
    user = make_user()
    make_filter(user, "Kapital denim")
    client = signed_in_client(user)
    staff = signed_in_client(make_user("moderator", is_staff=True))

    with watching() as seen:
        answer = client.get("/api/v1/filters/")
    assert [found["name"] for found in answer.json()["results"]] == ["Kapital denim"]
    assert any("filters_filter" in sql for sql in seen.on_replica())
    assert seen.primary_beyond_sessions() == []

    with watching() as seen:
        answer = staff.get(reverse("staff-operations"))
    assert answer.status_code == 200
    assert any("alerts_alert" in sql for sql in seen.on_replica())
    assert seen.primary_beyond_sessions() == []


def test_the_admin_and_the_sign_in_read_the_primary_even_for_a_get():
    staff = signed_in_client(make_user("moderator", is_staff=True, is_superuser=True))
    make_filter(make_user(), "Sacai")

    with watching() as seen:
        answer = staff.get(reverse("admin:filters_filter_changelist"))
        assert answer.status_code == 200
        assert "Sacai" in answer.content.decode()
        # allauth's pages: its GET callback signs the user in (reads, then writes).
        assert Client().get("/accounts/discord/login/").status_code < 500

    assert seen.on_replica() == []
    assert any("filters_filter" in sql for sql in seen.on_primary())


def test_a_post_writes_on_the_primary_and_its_client_reads_the_primary_until_the_window_ends(
    monkeypatch,
):
    user = make_user()
    client = signed_in_client(user)

    with watching() as seen:
        answer = client.post("/filters/new/", FORM)
    assert answer.status_code == 302
    assert any(sql.startswith("INSERT") and "filters_filter" in sql for sql in seen.on_primary())
    assert seen.on_replica() == []

    # Its next page shows the new filter from the primary, whatever the replica's lag.
    with watching() as seen:
        answer = client.get("/")
    assert "Sacai knits" in answer.content.decode()
    assert seen.on_replica() == []
    assert any("filters_filter" in sql for sql in seen.on_primary())

    # Another browser of the same user did not write: it reads the replica at once.
    with watching() as seen:
        signed_in_client(user).get("/")
    assert any("filters_filter" in sql for sql in seen.on_replica())

    later(monkeypatch, 9)
    with watching() as seen:
        client.get("/")
    assert seen.on_replica() == []

    later(monkeypatch, 11)
    with watching() as seen:
        answer = client.get("/")
    assert "Sacai knits" in answer.content.decode()
    assert any("filters_filter" in sql for sql in seen.on_replica())
    assert seen.primary_beyond_sessions() == []


def test_an_api_token_that_wrote_reads_the_primary_without_cookies(monkeypatch):
    user = make_user()
    _, secret = create_token(user, "script")
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    answer = script.post("/api/v1/filters/", {"name": "Sacai", "brands": ["sacai"]}, format="json")
    assert answer.status_code == 201, answer.json()

    script.cookies.clear()  # a script keeps no cookies: the token itself is remembered
    with watching() as seen:
        answer = script.get("/api/v1/filters/")
    assert [found["name"] for found in answer.json()["results"]] == ["Sacai"]
    assert seen.on_replica() == []

    later(monkeypatch, 11)
    with watching() as seen:
        answer = script.get("/api/v1/filters/")
    assert answer.json()["count"] == 1
    assert any("filters_filter" in sql for sql in seen.on_replica())
    # The token itself is always checked on the primary: a revoked one stops at once.
    assert all("filters_filter" not in sql for sql in seen.on_primary())
    assert any("users_apitoken" in sql for sql in seen.on_primary())


def test_a_get_that_writes_reads_the_rest_of_the_request_from_the_primary():
    user = make_user()
    make_filter(user, "Sacai")
    _, secret = create_token(user, "script")
    script = APIClient()
    script.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    # A token's first use notes when it was used: a write, before the filters are read.
    with watching() as seen:
        answer = script.get("/api/v1/filters/")

    assert answer.json()["count"] == 1
    assert any(sql.startswith("UPDATE") and "users_apitoken" in sql for sql in seen.on_primary())
    assert any("filters_filter" in sql for sql in seen.on_primary())
    assert seen.on_replica() == []
    assert replica.STICKY_COOKIE in answer.cookies


def test_reads_after_a_write_and_inside_a_transaction_use_the_primary():
    user = make_user()
    with db_router.request_reads(replica=True), watching() as seen:
        Filter.objects.count()
        assert len(seen.on_replica()) == 1
        with transaction.atomic():
            Filter.objects.count()
        assert len(seen.on_replica()) == 1, "the transaction read the primary"
        Filter.objects.count()
        assert len(seen.on_replica()) == 2

        user.first_name = "Aiko"
        user.save(update_fields=["first_name"])
        Filter.objects.count()
        list(Filter.objects.owned_by(user))
    assert len(seen.on_replica()) == 2, "after its write the request reads the primary"


def test_the_sender_and_everything_outside_a_request_read_the_primary():
    user = make_user()
    make_filter(user, "Sacai")

    with watching() as seen:
        assert claim_due("sender-1", limit=10) == []
        assert Filter.objects.owned_by(user).count() == 1

    assert seen.on_replica() == []
    assert len(seen.on_primary()) >= 2


def test_an_unreachable_replica_leaves_the_reads_to_the_primary_and_health_says_so(
    client, monkeypatch
):
    user = make_user()
    make_filter(user, "Sacai")
    tries = []

    def refuse(*args, **kwargs):
        tries.append(1)
        raise OperationalError("connection refused")

    monkeypatch.setattr(connections["replica"], "ensure_connection", refuse)
    browser = signed_in_client(user)

    for _ in range(2):
        answer = browser.get("/")
        assert answer.status_code == 200
        assert "Sacai" in answer.content.decode()
    assert len(tries) == 1, "the replica is left alone for a while after a refusal"

    answer = client.get("/health")
    body = answer.json()
    assert (answer.status_code, body["status"]) == (200, "degraded")
    assert body["checks"]["replica"] == {
        "status": "degraded",
        "reason": "The read replica (DATABASE_REPLICA_URL) does not answer "
        "(OperationalError): the primary serves every read meanwhile.",
    }


def test_health_reports_a_reachable_replica(client):
    body = client.get("/health").json()
    # The test run's replica is the primary's own database, not a standby: no lag to measure.
    assert body["checks"]["replica"] == {"status": "ok", "lag_seconds": None}


def test_without_a_replica_nothing_is_routed_and_health_has_no_replica_check(settings, client):
    settings.DATABASE_ROUTERS = []
    make_filter(make_user(), "Sacai")
    with watching() as seen:
        assert "replica" not in client.get("/health").json()["checks"]
        signed_in_client().get("/")
    assert seen.on_replica() == []


# A real PostgreSQL hot standby of the test server: streaming replication, a real lag.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def hot_standby():
    """A hot standby of the test server (pg_basebackup, streaming), as the "replica" alias."""
    primary = connections["default"].settings_dict
    if primary["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a hot standby is PostgreSQL's streaming replication (SQLite has none)")
    binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[4]))
    if not binaries:
        pytest.skip("PostgreSQL's server binaries are not installed")
    pg_bin = Path(binaries[-1])
    workdir = Path(tempfile.mkdtemp(prefix="market-alerts-standby-"))
    as_pg = []
    if os.geteuid() == 0:  # the server refuses to run as root
        shutil.chown(workdir, "postgres")
        as_pg = ["runuser", "-u", "postgres", "--"]
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW max_connections")  # a standby needs at least the primary's
        max_connections = cursor.fetchone()[0]
    data, log, port = workdir / "data", workdir / "server.log", _free_port()

    def run(*args: str) -> None:
        done = subprocess.run([*as_pg, *args], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            server_log = log.read_text() if log.exists() else ""
            pytest.fail(f"{args[0]} failed: {done.stderr}{server_log}")

    replica = connections["replica"]
    saved = {key: replica.settings_dict[key] for key in ("HOST", "PORT")}
    try:
        run(
            str(pg_bin / "pg_basebackup"),
            *("-h", primary["HOST"], "-p", str(primary["PORT"]), "-U", primary["USER"]),
            *("-D", str(data), "-R", "-X", "stream", "-c", "fast"),
        )
        options = f"-h 127.0.0.1 -p {port} -k {workdir} -c max_connections={max_connections}"
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-o", options, "start")
        replica.close()
        replica.settings_dict.update(HOST="127.0.0.1", PORT=str(port))
        yield replica
    finally:
        replica.close()
        replica.settings_dict.update(saved)
        stop = [str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run([*as_pg, *stop], capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def wait_for(condition, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:g} s for {what}")
        time.sleep(0.1)
    return found


def test_on_a_hot_standby_pages_read_it_and_health_measures_its_lag(hot_standby, settings, client):
    user = make_user()
    browser, other_browser = signed_in_client(user), signed_in_client(user)
    caught_up = {"status": "ok", "lag_seconds": 0}
    wait_for(lambda: db_router.check_replica() == caught_up, "the standby to catch up")

    with CaptureQueriesContext(hot_standby) as on_standby:
        assert browser.get("/").status_code == 200
    assert any("users_user" in query["sql"] for query in on_standby.captured_queries)

    # Replay paused, the standby falls behind: the writer still sees its filter, others not yet.
    with hot_standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()")
    assert browser.post("/filters/new/", FORM).status_code == 302
    assert "Sacai knits" in browser.get("/").content.decode()
    assert "Sacai knits" not in other_browser.get("/").content.decode()

    settings.REPLICA_STICKY_SECONDS = 1
    behind = wait_for(
        lambda: (
            (check := client.get("/health").json()["checks"]["replica"])["status"] == "degraded"
            and check
        ),
        "/health to see the lag",
    )
    assert behind["lag_seconds"] >= 1
    assert behind["reason"].startswith(f"The read replica is {behind['lag_seconds']} s behind")

    with hot_standby.cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_resume()")
    wait_for(lambda: db_router.check_replica() == caught_up, "the standby to catch up again")
    assert "Sacai knits" in other_browser.get("/").content.decode()


# The settings, as a process reads them from the environment.


def settings_of(**env: str) -> subprocess.CompletedProcess:
    environment = {
        **{key: value for key, value in os.environ.items() if key != "DATABASE_REPLICA_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "ENV_FILE": "/nonexistent/.env",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "sqlite:////tmp/never-created.sqlite3",
        **env,
    }
    show = (
        "import json; from django.conf import settings; "
        "print(json.dumps({'routers': settings.DATABASE_ROUTERS, "
        "'databases': {alias: {key: db.get(key) for key in ('ENGINE', 'HOST', 'NAME', 'TEST')} "
        "for alias, db in settings.DATABASES.items()}}))"
    )
    return subprocess.run(
        [sys.executable, "-c", show],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.django_db(databases=[])
def test_without_database_replica_url_there_is_no_router_and_one_database():
    result = settings_of()
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["routers"] == []
    assert list(found["databases"]) == ["default"]


@pytest.mark.django_db(databases=[])
def test_a_replica_of_postgresql_is_routed_and_mirrors_the_primary_in_tests():
    result = settings_of(
        DATABASE_URL="postgres://app@primary.internal:5432/alerts",
        DATABASE_REPLICA_URL="postgres://app@standby.internal:5432/alerts",
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["routers"] == ["lib.db_router.ReplicaRouter"]
    assert found["databases"]["replica"] == {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "standby.internal",
        "NAME": "alerts",
        "TEST": {"MIRROR": "default"},
    }


@pytest.mark.django_db(databases=[])
def test_a_replica_of_sqlite_is_refused_naming_the_setting():
    result = settings_of(DATABASE_REPLICA_URL="postgres://app@standby.internal:5432/alerts")
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_REPLICA_URL needs PostgreSQL" in result.stderr
