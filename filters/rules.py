"""The matching rules applied one filter at a time, as plainly as docs/architecture.md
(Matching rules) writes them.

This is the reference the compiled index (filters/index.py) must agree with; it
also serves the places where one filter meets a few listings, such as previews.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from filters.brands import BrandTable
from filters.text import normalize, occurs, occurs_as_brand
from lib.vocabulary import CHOICES, normalize_size


class ListingLike(Protocol):
    """What matching reads of a listing (a Listing row or a frozen ListingRecord)."""

    @property
    def market(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def brand(self) -> str | None: ...
    @property
    def price(self) -> int: ...
    @property
    def condition(self) -> str | None: ...
    @property
    def sizes(self) -> Sequence[str]: ...
    @property
    def category(self) -> str | None: ...
    @property
    def sale_type(self) -> str | None: ...
    @property
    def seller_type(self) -> str | None: ...


@dataclass(frozen=True)
class FilterRule:
    brands: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    markets: tuple[str, ...] = ()
    keywords_any: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    sale_types: tuple[str, ...] = ()
    seller_types: tuple[str, ...] = ()
    unknown_ok: bool = True

    @classmethod
    def of(cls, obj) -> FilterRule:
        """The rule of anything with a filter's fields (a Filter row, an IndexedFilter)."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = getattr(obj, field.name)
            values[field.name] = tuple(value) if isinstance(value, list | tuple) else value
        return cls(**values)

    def attribute_conditions(
        self, listing: ListingLike
    ) -> list[tuple[tuple[str, ...], str | None]]:
        """Each single-valued attribute the filter constrains: (allowed values, the listing's)."""
        return [
            (allowed, getattr(listing, choice.listing_field))
            for choice in CHOICES
            if (allowed := getattr(self, choice.filter_field))
        ]


def _words(words: tuple[str, ...]) -> list[str]:
    return [norm for norm in map(normalize, words) if norm]


def brand_matches(rule: FilterRule, listing: ListingLike, title: str, brands: BrandTable) -> bool:
    wanted = _words(rule.brands)
    if not wanted:
        return True
    listing_brand = brands.canonical(listing.brand) if listing.brand else None
    for brand in wanted:
        key = brands.canonical(brand)
        if key == listing_brand:
            return True
        # A spelling followed by 風, "style" and the like names a style, not the brand.
        if any(occurs_as_brand(spelling, title) for spelling in brands.spellings(key)):
            return True
    return False


def attributes_match(rule: FilterRule, listing: ListingLike) -> bool:
    """Condition, category, sale and seller type, sizes: each constrained one must be among
    the filter's; a listing that doesn't state one matches only when `unknown_ok`."""
    for allowed, value in rule.attribute_conditions(listing):
        if value is None:
            if not rule.unknown_ok:
                return False
        elif value not in allowed:
            return False
    if rule.sizes:
        if not listing.sizes:
            return rule.unknown_ok
        wanted = {normalize_size(size) for size in rule.sizes}
        if wanted.isdisjoint(listing.sizes):
            return False
    return True


def filter_matches(rule: FilterRule, listing: ListingLike, brands: BrandTable) -> bool:
    if rule.markets and listing.market not in rule.markets:
        return False
    if rule.price_min is not None and listing.price < rule.price_min:
        return False
    if rule.price_max is not None and listing.price > rule.price_max:
        return False
    keywords = _words(rule.keywords)
    any_of = _words(rule.keywords_any)
    if not keywords and not any_of and not _words(rule.brands):
        return False
    if not attributes_match(rule, listing):
        return False
    title = normalize(listing.title)
    if not all(occurs(word, title) for word in keywords):
        return False
    if any_of and not any(occurs(word, title) for word in any_of):
        return False
    if any(occurs(word, title) for word in _words(rule.exclude)):
        return False
    return brand_matches(rule, listing, title, brands)
