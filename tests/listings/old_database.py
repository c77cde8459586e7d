"""A database as it stood before listings had an app of their own, and what must survive.

Run as a process on a database of its own (`python -m tests.listings.old_database
build|snapshot`): `build` migrates an empty database to the migrations of that time
and stores users, listings, alerts and leases in it; `snapshot` prints, as JSON,
what the current code reads back. Both print the same shape, so a test can
compare the two across `manage.py migrate`.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import django

django.setup()

from django.apps.registry import Apps  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import IntegrityError, connection, transaction  # noqa: E402
from django.db.migrations.loader import MigrationLoader  # noqa: E402

# Each app's latest migration before listings moved out of the scraping app.
BEFORE = {
    "users": "0003_api_tokens",
    "scraping": "0003_source_choices",
    "filters": "0003_index_brands_version",
    "alerts": "0010_alert_user_due_idx",
}
NEW_APPS = {"lib", "listings"}  # no migration of theirs existed then
EXPIRES = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def historical_apps() -> Apps:
    loader = MigrationLoader(connection)
    return loader.project_state(nodes=sorted(loader.applied_migrations), at_end=True).apps


def build() -> None:
    for app, name in BEFORE.items():
        call_command("migrate", app, name, verbosity=0)
    loader = MigrationLoader(connection)
    for app in sorted(loader.migrated_apps - BEFORE.keys() - NEW_APPS):
        call_command("migrate", app, verbosity=0)
    apps = historical_apps()
    user = apps.get_model("users", "User").objects.create(username="kenji", discord_id="4001")
    other = apps.get_model("users", "User").objects.create(username="mika", discord_id="4002")
    listing_model = apps.get_model("scraping", "Listing")
    listings = [
        listing_model.objects.create(
            market="mercari",
            external_id=f"m{n}",
            title=f"Sacai knit {n}",
            brand="Sacai" if n else None,
            price=12_000 + n,
            url=f"https://jp.mercari.com/item/m{n}",
        )
        for n in range(3)
    ]
    alert_model = apps.get_model("alerts", "Alert")
    alert_model.objects.create(user=user, listing=listings[0], filter_ids=[1], status="sent")
    alert_model.objects.create(user=user, listing=listings[1], filter_ids=[1, 2])
    alert_model.objects.create(user=other, listing=listings[1], filter_ids=[3])
    role = apps.get_model("alerts", "SenderRole")
    role.objects.create(name="console", owner="host:1", expires_at=EXPIRES)
    role.objects.create(name="poller:rakuma")
    print(json.dumps(read(listing_model, alert_model, role, ("alerts", "senderrole"))))


def read(listing_model, alert_model, lease_model, lease_type: tuple[str, str]) -> dict[str, Any]:
    """What must survive, in names that do not depend on which app holds the models."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    types = ContentType.objects.filter(model__in=["listing", "senderrole", "lease"])
    return {
        "listings": list(
            listing_model.objects.order_by("pk").values_list(
                "pk", "market", "external_id", "title", "brand", "price", "url"
            )
        ),
        "alerts": list(
            alert_model.objects.order_by("pk").values_list(
                "pk", "user__username", "listing_id", "listing__title", "filter_ids", "status"
            )
        ),
        "leases": [
            [name, owner, expires.isoformat() if expires else None]
            for name, owner, expires in lease_model.objects.order_by("name").values_list(
                "name", "owner", "expires_at"
            )
        ],
        "content_types": sorted([row.app_label, row.model, row.pk] for row in types),
        "lease_permissions": sorted(
            Permission.objects.filter(
                content_type__app_label=lease_type[0], content_type__model=lease_type[1]
            ).values_list("pk", "codename")
        ),
    }


def snapshot() -> None:
    from alerts.models import Alert
    from lib.models import Lease
    from listings.models import Listing

    found = read(Listing, Alert, Lease, ("lib", "lease"))
    # The foreign key still holds in the database: a listing an alert quotes can't go.
    quoted = Alert.objects.order_by("pk").values_list("listing_id", flat=True).first()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {Listing._meta.db_table} WHERE id = %s", [quoted])
        found["foreign_key_holds"] = False
    except IntegrityError:
        found["foreign_key_holds"] = True
    print(json.dumps(found))


if __name__ == "__main__":
    {"build": build, "snapshot": snapshot}[sys.argv[1]]()
