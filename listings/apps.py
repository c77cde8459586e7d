"""The listings app: what the marketplaces offer, as every app above it reads it."""

from django.apps import AppConfig


class ListingsConfig(AppConfig):
    name = "listings"
    verbose_name = "Listings"
