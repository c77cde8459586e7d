"""Listings move from the scraping app to this one: state only, the table and its rows stay.

The model keeps its table (`scraping_listing`), its index and its constraint, so
nothing is written but the admin's content type, renamed so that permissions
and the admin's history follow the model. Alerts' foreign key follows in
alerts 0011; the scraping app forgets the model in scraping 0004.
"""

import django.utils.timezone
from django.db import migrations, models


def rename_content_type(apps, schema_editor, old: str, new: str) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    db = schema_editor.connection.alias
    if not content_type.objects.using(db).filter(app_label=new, model="listing").exists():
        content_type.objects.using(db).filter(app_label=old, model="listing").update(app_label=new)


def forwards(apps, schema_editor) -> None:
    rename_content_type(apps, schema_editor, "scraping", "listings")


def backwards(apps, schema_editor) -> None:
    rename_content_type(apps, schema_editor, "listings", "scraping")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("scraping", "0003_source_choices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Listing",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "market",
                            models.CharField(
                                choices=[
                                    ("mercari", "Mercari"),
                                    ("yahoo_auctions", "Yahoo! Auctions"),
                                    ("rakuma", "Rakuma"),
                                    ("paypay_fleamarket", "PayPay Fleamarket"),
                                    ("demo", "Demo"),
                                ],
                                max_length=32,
                            ),
                        ),
                        ("external_id", models.CharField(max_length=128)),
                        ("title", models.CharField(max_length=500)),
                        ("brand", models.CharField(blank=True, max_length=200, null=True)),
                        ("price", models.PositiveBigIntegerField(help_text="Whole yen.")),
                        ("currency", models.CharField(default="JPY", max_length=3)),
                        ("url", models.URLField(max_length=1000)),
                        ("image_url", models.URLField(blank=True, max_length=1000)),
                        ("listed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "first_seen_at",
                            models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                        ),
                    ],
                    options={
                        "db_table": "scraping_listing",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("market", "external_id"), name="listing_unique_per_market"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
