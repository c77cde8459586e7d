"""The operations door: health, metrics, the staff dashboard, the admin's sign-in and the
moderation of accounts, which reach across every app."""

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations"
