"""`SenderRole` is now `lib.Lease` (lib 0001 renamed its table): the alerts app forgets it."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0011_listing_in_listings"),
        ("lib", "0001_lease"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="SenderRole")],
            database_operations=[],
        ),
    ]
