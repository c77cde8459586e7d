"""Listings seen on the marketplaces, one row per market + external id, and how they are read
and stored.

The table keeps the name it had when listings lived in the scraping app
(`scraping_listing`): the model moved, no row did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, models
from django.utils import timezone

from lib.formatting import format_price
from lib.markets import Market, market_label
from lib.vocabulary import CATEGORIES, CONDITIONS, SALE_TYPES, SELLER_TYPES
from listings.records import ATTRIBUTES, ListingRecord

INSERT_CHUNK = 500
STORED_FIELDS = (
    "market",
    "external_id",
    "title",
    "brand",
    "price",
    "currency",
    "url",
    "image_url",
    "listed_at",
    *ATTRIBUTES,
    "first_seen_at",
)
# What a marketplace may change on a listing already seen (a price drop, a new title).
UPDATABLE_FIELDS = ("title", "brand", "price", "url", "image_url")


class ListingQuerySet(models.QuerySet):
    def newest_first(self) -> ListingQuerySet:
        """As the API lists them: the most recently found first."""
        return self.order_by("-first_seen_at", "-id")

    def latest_stored(self, count: int) -> ListingQuerySet:
        """The last `count` listings stored, the newest first (what previews look through)."""
        return self.order_by("-id")[:count]

    def unreferenced_before(self, when: datetime) -> ListingQuerySet:
        """Listings first seen before `when` that no alert quotes (retention may delete them)."""
        return self.filter(first_seen_at__lt=when, alerts__isnull=True)

    def insert_new(
        self, records: Sequence[ListingRecord], now: datetime
    ) -> dict[tuple[str, str], int]:
        """Insert the listings that are not stored yet; return {(market, id): pk} of those
        inserted. A listing is new exactly when this INSERT … ON CONFLICT DO NOTHING created
        its row, so two processes storing the same listing never both count it new."""
        meta = self.model._meta
        quote = connection.ops.quote_name
        fields = [meta.get_field(name) for name in STORED_FIELDS]
        columns = ", ".join(quote(f.column) for f in fields)
        inserted: dict[tuple[str, str], int] = {}
        for start in range(0, len(records), INSERT_CHUNK):
            chunk = records[start : start + INSERT_CHUNK]
            params: list = []
            for record in chunk:
                values = {**record.__dict__, "first_seen_at": now}
                params.extend(f.get_db_prep_save(values[f.name], connection) for f in fields)
            row = "(" + ", ".join(["%s"] * len(fields)) + ")"
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row] * len(chunk))} "
                f"ON CONFLICT ({quote('market')}, {quote('external_id')}) DO NOTHING "
                f"RETURNING {quote('id')}, {quote('market')}, {quote('external_id')}"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                for pk, market, external_id in cursor.fetchall():
                    inserted[(market, external_id)] = pk
        return inserted

    def refresh_details(self, records: Sequence[ListingRecord]) -> None:
        """Keep already-stored listings' details current (UPDATABLE_FIELDS) as the records say."""
        if not records:
            return
        by_key = {(r.market, r.external_id): r for r in records}
        stored = self.filter(
            market__in={r.market for r in records},
            external_id__in={r.external_id for r in records},
        )
        changed = []
        for listing in stored:
            record = by_key.get((listing.market, listing.external_id))
            if record is None:
                continue
            # The attributes a record states replace the stored ones; one it doesn't state
            # (a search page may say less than the item page did) keeps what was known.
            stated = [f for f in ATTRIBUTES if getattr(record, f) not in (None, ())]
            fields = [*UPDATABLE_FIELDS, *stated]
            if any(getattr(listing, f) != _stored(getattr(record, f)) for f in fields):
                for f in fields:
                    setattr(listing, f, _stored(getattr(record, f)))
                changed.append(listing)
        if changed:
            self.bulk_update(changed, [*UPDATABLE_FIELDS, *ATTRIBUTES], batch_size=500)


def _stored(value: object) -> object:
    """A record's value as the model holds it: sizes as a list."""
    return list(value) if isinstance(value, tuple) else value


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
    # What the marketplace says of the item; null (or no sizes): not stated. The values are
    # lib/vocabulary.py's.
    condition = models.CharField(  # noqa: DJ001
        max_length=16, choices=list(CONDITIONS.items()), null=True, blank=True
    )
    sizes = models.JSONField(default=list, blank=True, help_text="Normalized size labels.")
    category = models.CharField(  # noqa: DJ001
        max_length=16, choices=list(CATEGORIES.items()), null=True, blank=True
    )
    sale_type = models.CharField(  # noqa: DJ001
        max_length=16, choices=list(SALE_TYPES.items()), null=True, blank=True
    )
    seller_type = models.CharField(  # noqa: DJ001
        max_length=16, choices=list(SELLER_TYPES.items()), null=True, blank=True
    )
    seller_id = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001
    ends_at = models.DateTimeField("auction ends", null=True, blank=True)
    bids = models.PositiveIntegerField(null=True, blank=True)
    buy_now_price = models.PositiveBigIntegerField(null=True, blank=True, help_text="Whole yen.")
    shipping_included = models.BooleanField(null=True, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = ListingQuerySet.as_manager()

    class Meta:
        db_table = "scraping_listing"
        constraints = [
            models.UniqueConstraint(
                fields=["market", "external_id"], name="listing_unique_per_market"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_market_display()} {self.external_id}: {self.title}"

    @property
    def price_text(self) -> str:
        """The price as people read it: `¥68,000`."""
        return format_price(self.price)

    @property
    def market_text(self) -> str:
        return market_label(self.market)
