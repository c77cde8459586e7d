"""The restore drill: `manage.py backup`, then `manage.py restore` into a new database.

Real processes on the suite's database (PostgreSQL or SQLite): the restored outbox
keeps its pending alerts with their nonces, and a sender on it posts each once.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from alerts.models import Alert
from filters.models import Filter
from lib import backup
from listings.models import Listing
from tests.conftest import is_postgresql
from users.models import User


def outbox_snapshot() -> dict:
    """What a restore must bring back, comparable across databases (run in both)."""
    snapshot = {
        "users": sorted(User.objects.values_list("username", "discord_id", "dm_channel_id")),
        "filters": sorted(Filter.objects.values_list("owner__username", "name")),
        "listings": sorted(Listing.objects.values_list("url", flat=True)),
        "alerts": sorted(
            Alert.objects.values_list(
                "user__username", "listing__url", "status", "nonce", "message_id", "lease_owner"
            )
        ),
    }
    return json.loads(json.dumps(snapshot))  # tuples as lists, like the subprocess's


SNAPSHOT = (
    "import json; from tests.alerts.test_backup_restore import outbox_snapshot; "
    "print(json.dumps(outbox_snapshot()))"
)


@pytest.fixture
def run(manage_py):
    """Run `manage.py ARGS` to the end as a real process; (exit status, stdout, stderr)."""

    def finish(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        process = manage_py(*args, env=env)
        out, err = process.communicate(timeout=90)
        return process.returncode, out, err

    return finish


def populate(emulator) -> dict[int, str]:
    """Four users with DMs and a filter, five listings each: two alerts sent, three pending
    and packed by a sender that died before posting (their nonce fixed); the last user's
    still leased to that sender. Returns the pending alerts' nonces by id."""
    from alerts.batching import nonce_for
    from alerts.outbox import fix_nonce
    from scraping.ingest import ingest_listings
    from tests.alerts.conftest import open_dm
    from tests.builders import listing, make_filter, make_user

    users = [make_user(f"drill{n}") for n in range(4)]
    for user in users:
        open_dm(emulator, user)
        make_filter(user, f"Sacai for {user.username}", brands=["Sacai"])
    ingest_listings([listing(f"sacai drill coat {n}") for n in range(5)])
    now = timezone.now()
    nonces = {}
    for user in users:
        ids = list(
            Alert.objects.filter(user=user).order_by("listing_id").values_list("pk", flat=True)
        )
        for pk in ids[:2]:
            Alert.objects.filter(pk=pk).update(status="sent", sent_at=now, message_id=f"sent-{pk}")
        pending = ids[2:]
        fix_nonce(pending, nonce_for(pending))
        nonces.update(dict.fromkeys(pending, nonce_for(pending)))
    Alert.objects.filter(user=users[-1], status="pending").update(
        lease_owner="sender-that-died", lease_expires_at=now - timedelta(seconds=5)
    )
    return nonces


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_backup_restored_into_a_new_database_sends_each_pending_alert_once(
    discord, run, new_database, tmp_path
):
    emulator = discord(latency=(0.01, 0.03))
    nonces = populate(emulator)
    original = outbox_snapshot()
    assert len(original["alerts"]) == 20 and len(nonces) == 12
    dump = tmp_path / "market-alerts.dump"

    status, out, err = run("backup", str(dump))
    assert status == 0, err
    engine = "PostgreSQL" if is_postgresql() else "SQLite"
    assert re.fullmatch(
        rf"backed up {engine} database \S+ to {re.escape(str(dump))} \([\d.]+ MB\) in [\d.]+ s\n",
        out,
    )
    assert not Path(f"{dump}.tmp").exists()

    restored = {"DATABASE_URL": new_database}
    status, out, err = run("restore", str(dump), env=restored)
    assert status == 0, err
    assert out.startswith(f"restored {engine} new database ")
    status, out, err = run("shell", "--no-imports", "-c", SNAPSHOT, env=restored)
    assert status == 0, err
    assert json.loads(out) == original

    # A database that holds data is replaced only when asked to.
    delete_alerts = "from alerts.models import Alert; Alert.objects.all().delete()"
    status, _, err = run("shell", "--no-imports", "-c", delete_alerts, env=restored)
    assert status == 0, err
    status, out, err = run("restore", str(dump), env=restored)
    assert status != 0
    name = new_database.rsplit("/", 1)[1] if is_postgresql() else new_database.split("///")[1]
    assert f"database {name} already holds data" in err
    assert "--force" in err
    status, out, err = run("restore", "--force", str(dump), env=restored)
    assert status == 0, err
    status, out, err = run("shell", "--no-imports", "-c", SNAPSHOT, env=restored)
    assert json.loads(out) == original  # the deleted alerts are back

    env = {
        **restored,
        "DISCORD_BOT_TOKEN": emulator.config.token,
        "DISCORD_API_BASE": emulator.base_url,
    }
    status, out, err = run("sendalerts", "--drain", env=env)
    assert status == 0, err
    assert "sendalerts done: sent 12, retrying 0, failed 0, skipped 0" in out
    pending = Alert.objects.filter(pk__in=nonces).select_related("user", "listing")
    posted = Counter(
        (message["channel_id"], embed["url"])
        for message in emulator.messages
        for embed in message["embeds"]
    )
    assert posted == Counter((alert.user.dm_channel_id, alert.listing.url) for alert in pending)
    # Under the nonces the dead sender fixed, so Discord would have recognised a repeat.
    assert {message["nonce"] for message in emulator.messages} == set(nonces.values())
    # The sender worked on the restored database: the suite's own is untouched.
    assert outbox_snapshot() == original


def test_restore_refuses_a_backup_of_the_other_database_kind(run_command, tmp_path):
    if is_postgresql():
        other = tmp_path / "market-alerts.sqlite3"
        with sqlite3.connect(other) as connection:
            connection.execute("CREATE TABLE django_migrations (id INTEGER)")
        expected = f"{other} is a SQLite database; this installation uses PostgreSQL"
    else:
        other = tmp_path / "market-alerts.dump"
        other.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
        expected = f"{other} is a PostgreSQL dump; this installation uses SQLite"
    status, _, err = run_command("restore", "--force", str(other))
    assert status != 0
    assert expected in err

    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup")
    status, _, err = run_command("restore", str(junk))
    assert status != 0
    assert "is neither a PostgreSQL custom-format dump nor a SQLite database" in err


def test_pg_tools_are_taken_from_path_else_the_newest_installed_version(tmp_path):
    for version in ("9.6", "15", "16"):
        binary = tmp_path / "postgresql" / version / "bin" / "pg_dump"
        binary.parent.mkdir(parents=True)
        binary.write_text("#!/bin/sh\n")
        binary.chmod(0o755)
    root = tmp_path / "postgresql"
    on_path = str(root / "15" / "bin")
    assert backup.find_pg_tool("pg_dump", on_path, root) == str(root / "15" / "bin" / "pg_dump")
    assert backup.find_pg_tool("pg_dump", "", root) == str(root / "16" / "bin" / "pg_dump")
    with pytest.raises(backup.BackupError, match="pg_restore not found on PATH or under"):
        backup.find_pg_tool("pg_restore", "", root)


def test_the_password_reaches_pg_dump_in_its_environment_never_its_command_line(
    monkeypatch,
):
    monkeypatch.setattr(backup, "find_pg_tool", lambda name: f"/usr/bin/{name}")
    database = {
        "NAME": "market_alerts",
        "HOST": "db.internal",
        "PORT": 5433,
        "USER": "alerts",
        "PASSWORD": "s3cret-Pa55",
    }
    argv, env = backup.pg_command("pg_dump", database, "--format=custom")
    assert argv[:4] == [
        "/usr/bin/pg_dump",
        "--host=db.internal",
        "--port=5433",
        "--username=alerts",
    ]
    assert not any("s3cret" in arg for arg in argv)
    assert env["PGPASSWORD"] == "s3cret-Pa55"
