"""Listings seen on the marketplaces, one row per market + external id."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Market(models.TextChoices):
    MERCARI = "mercari", "Mercari"
    YAHOO_AUCTIONS = "yahoo_auctions", "Yahoo! Auctions"
    RAKUMA = "rakuma", "Rakuma"
    PAYPAY_FLEAMARKET = "paypay_fleamarket", "PayPay Fleamarket"
    DEMO = "demo", "Demo"


class Listing(models.Model):
    market = models.CharField(max_length=32, choices=Market.choices)
    external_id = models.CharField(max_length=128)
    title = models.CharField(max_length=500)
    # Null = the source gave no brand (distinct from an empty string); part of the import format.
    brand = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001
    price = models.PositiveBigIntegerField(help_text="Whole yen.")
    currency = models.CharField(max_length=3, default="JPY")
    url = models.URLField(max_length=1000)
    image_url = models.URLField(max_length=1000, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["market", "external_id"], name="listing_unique_per_market"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_market_display()} {self.external_id}: {self.title}"
