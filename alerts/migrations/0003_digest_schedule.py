"""The django-q2 schedule that sends digests at the top of every hour."""

from django.db import migrations

DIGEST_SCHEDULE = "alert digests"


def create_schedule(apps, schema_editor):
    from datetime import timedelta

    from django.utils import timezone

    Schedule = apps.get_model("django_q", "Schedule")
    next_hour = timezone.now().replace(minute=0, second=5, microsecond=0) + timedelta(hours=1)
    Schedule.objects.update_or_create(
        name=DIGEST_SCHEDULE,
        defaults={
            "func": "alerts.tasks.send_due_alerts",
            "schedule_type": "H",
            "repeats": -1,
            "next_run": next_hour,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=DIGEST_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0002_delivery_state"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
