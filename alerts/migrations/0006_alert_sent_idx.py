"""An index for the newest sent alert, read by /health on every probe."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0005_discord_hours"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="alert",
            index=models.Index(fields=["status", "sent_at"], name="alert_sent_idx"),
        ),
    ]
