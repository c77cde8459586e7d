"""Users' filters, the brand/alias table, and the matching index's version stamp."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from filters.text import normalize


class FilterQuerySet(models.QuerySet):
    def owned_by(self, user) -> FilterQuerySet:
        return self.filter(owner=user)

    def names_like(self, text: str, limit: int = 25) -> list[str]:
        """Names containing `text` (any case), alphabetically: for autocompletion."""
        found = self.filter(name__icontains=text.strip()).order_by("name")
        return list(found.values_list("name", flat=True)[:limit])

    def matchable(self) -> FilterQuerySet:
        """Filters that take part in matching: active, of users who are not banned."""
        return self.filter(active=True, owner__is_banned=False)


class Filter(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="filters"
    )
    name = models.CharField(max_length=64)
    brands = models.JSONField(default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    exclude = models.JSONField(default=list, blank=True)
    price_min = models.PositiveIntegerField(
        null=True, blank=True, help_text="Yen; empty = no minimum."
    )
    price_max = models.PositiveIntegerField(
        null=True, blank=True, help_text="Yen; empty = no maximum."
    )
    markets = models.JSONField(
        default=list, blank=True, help_text="Market codes; empty = all markets."
    )
    keywords_any = models.JSONField(
        "any of these words", default=list, blank=True, help_text="At least one must occur."
    )
    # What the listing must be, from lib/vocabulary.py's values; empty = any.
    conditions = models.JSONField(default=list, blank=True)
    sizes = models.JSONField(default=list, blank=True, help_text="Normalized size labels.")
    categories = models.JSONField(default=list, blank=True)
    sale_types = models.JSONField(default=list, blank=True)
    seller_types = models.JSONField(default=list, blank=True)
    unknown_ok = models.BooleanField(
        "listings that don't say match",
        default=True,
        help_text="A listing that doesn't state a constrained attribute still matches.",
    )
    include_old = models.BooleanField(
        "old listings and relists too",
        default=False,
        help_text="Also alert on listings listed long before we saw them, and relists.",
    )
    price_drops = models.BooleanField(
        default=True, help_text="Alert when a listing seen before drops into range."
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = FilterQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint("owner", Lower("name"), name="filter_name_unique_per_owner")
        ]
        ordering = ["owner_id", "name"]

    def __str__(self) -> str:
        return self.name


class Brand(models.Model):
    """A canonical brand; its aliases are the other ways sellers write it."""

    name = models.CharField(max_length=100, unique=True)
    normalized = models.CharField(max_length=100, unique=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.normalized = normalize(self.name)
        super().save(*args, **kwargs)


class BrandAlias(models.Model):
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="aliases")
    alias = models.CharField(max_length=100)
    normalized = models.CharField(max_length=100, unique=True, editable=False)

    class Meta:
        verbose_name_plural = "brand aliases"
        ordering = ["alias"]

    def __str__(self) -> str:
        return self.alias

    def save(self, *args, **kwargs) -> None:
        self.normalized = normalize(self.alias)
        super().save(*args, **kwargs)


class IndexVersion(models.Model):
    """One row whose counter moves whenever anything that matching reads changes.

    Every process holding a compiled filter index compares its version with this
    row before matching and rebuilds when it moved, so a change is seen everywhere
    at the next match.
    """

    version = models.BigIntegerField(default=0)
    # Brand edits change how every filter reads, so they force a full rebuild
    # where filter edits are patched in.
    brands_version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"filter index v{self.version}"
