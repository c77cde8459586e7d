"""SenderStatus: each running sender's measured rates, for the capacity in /health and /metrics."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('alerts', '0006_alert_sent_idx'),
    ]

    operations = [
        migrations.CreateModel(
            name='SenderStatus',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('owner', models.CharField(help_text="The sender's lease owner.", max_length=64, unique=True)),
                ('heartbeat_at', models.DateTimeField()),
                ('alerts_per_second', models.FloatField(default=0.0, help_text='Alerts sent, recently.')),
                ('requests_per_second', models.FloatField(default=0.0, help_text='Requests made to Discord (or the console), recently.')),
                ('alerts_per_request', models.FloatField(default=1.0, help_text='Alerts sent per request recently (up to 10 embeds share a message; a DM open or a 429 is a request without one); the last measured value while idle, 1 before the first send.')),
                ('request_budget', models.FloatField(blank=True, help_text='Requests a second this sender may make now: DISCORD_REQUESTS_PER_SECOND while it may send, 0 while it waits for the sending role; empty for the console, which has no limit.', null=True)),
            ],
            options={
                'verbose_name_plural': 'sender statuses',
            },
        ),
    ]
