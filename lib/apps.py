"""The shared layer as a Django app, for the one model every app above it may use: the lease."""

from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "lib"
    verbose_name = "Coordination"
