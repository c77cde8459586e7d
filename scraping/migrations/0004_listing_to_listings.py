"""The scraping app forgets `Listing`, now the listings app's (listings 0001): state only, the
table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("scraping", "0003_source_choices"),
        ("alerts", "0011_listing_in_listings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Listing")],
            database_operations=[],
        ),
    ]
