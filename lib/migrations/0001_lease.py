"""The sending role's table becomes the neutral lease: `alerts.SenderRole` (table
`alerts_senderrole`) is now `lib.Lease` (table `lib_lease`). The table is renamed,
so every row stays; alerts 0012 forgets the old model."""

from django.db import migrations, models


def rename_content_type(apps, schema_editor, old: tuple[str, str], new: tuple[str, str]) -> None:
    content_type = apps.get_model("contenttypes", "ContentType")
    permission = apps.get_model("auth", "Permission")
    db = schema_editor.connection.alias
    if content_type.objects.using(db).filter(app_label=new[0], model=new[1]).exists():
        return
    found = content_type.objects.using(db).filter(app_label=old[0], model=old[1]).first()
    if found is None:
        return
    found.app_label, found.model = new
    found.save(update_fields=["app_label", "model"])
    for row in permission.objects.using(db).filter(content_type=found):
        row.codename = row.codename.replace(old[1], new[1])
        row.name = row.name.replace("sender role", "lease")
        row.save(update_fields=["codename", "name"])


def forwards(apps, schema_editor) -> None:
    rename_content_type(apps, schema_editor, ("alerts", "senderrole"), ("lib", "lease"))


def backwards(apps, schema_editor) -> None:
    rename_content_type(apps, schema_editor, ("lib", "lease"), ("alerts", "senderrole"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("alerts", "0011_listing_in_listings"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Lease",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=64, unique=True)),
                        ("owner", models.CharField(blank=True, db_default="", max_length=64)),
                        ("expires_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={"db_table": "alerts_senderrole"},
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="lease", table=None),
        migrations.RunPython(forwards, backwards),
    ]
