"""An existing database migrates into the listings app and the neutral lease with every row.

Built by real processes on a database of the test's own (PostgreSQL or SQLite, as
the suite runs): the migrations of before the move, users, listings, alerts and
leases stored, then `manage.py migrate` as an operator runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from psycopg import sql

from tests.conftest import ROOT, is_postgresql, postgres_maintenance


def run(database_url: str, *args: str) -> str:
    environment = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_an_existing_database_migrates_forward_with_every_row_and_key(new_database):
    if is_postgresql():
        with postgres_maintenance() as connection:
            name = new_database.rsplit("/", 1)[1]
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    before = json.loads(run(new_database, "-m", "tests.listings.old_database", "build"))

    run(new_database, "manage.py", "migrate", "--no-input")
    after = json.loads(run(new_database, "-m", "tests.listings.old_database", "snapshot"))

    assert len(before["listings"]) == 3 and len(before["alerts"]) == 3
    assert after["listings"] == before["listings"]
    assert after["alerts"] == before["alerts"]  # same ids, same listings through the join
    assert after["leases"] == before["leases"]
    assert after["foreign_key_holds"]
    # The admin's content types and permissions follow the models: nothing stale, no new ids.
    old_types = {(app, model): pk for app, model, pk in before["content_types"]}
    assert after["content_types"] == sorted(
        [
            ["lib", "lease", old_types[("alerts", "senderrole")]],
            ["listings", "listing", old_types[("scraping", "listing")]],
        ]
    )
    assert [pk for pk, _ in after["lease_permissions"]] == [
        pk for pk, _ in before["lease_permissions"]
    ]
    assert sorted(code for _, code in after["lease_permissions"]) == [
        "add_lease",
        "change_lease",
        "delete_lease",
        "view_lease",
    ]
