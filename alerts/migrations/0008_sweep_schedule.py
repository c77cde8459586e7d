"""The django-q2 schedule that sweeps the outbox every minute.

The task queued after each scan ("send alerts after a scan") may be lost: django-q2's
Redis broker does not hand out again a task whose worker crashed. The outbox keeps the
alerts, and this schedule sends whatever is due, so nothing waits for long behind a lost
task. While a live `sendalerts` holds the sending role, each run returns at once.
"""

from django.db import migrations

SWEEP_SCHEDULE = "alert sweep"


def create_schedule(apps, schema_editor):
    from django.utils import timezone

    Schedule = apps.get_model("django_q", "Schedule")
    # By name, so running it again (or after setup_schedules) never makes a second one.
    Schedule.objects.update_or_create(
        name=SWEEP_SCHEDULE,
        defaults={
            "func": "alerts.tasks.sweep_outbox",
            "schedule_type": "I",  # Schedule.MINUTES
            "minutes": 1,
            "repeats": -1,
            "next_run": timezone.now(),
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP_SCHEDULE).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0007_sender_status"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
