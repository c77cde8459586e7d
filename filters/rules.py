"""The matching rules applied one filter at a time, as plainly as docs/architecture.md
(Matching rules) writes them.

This is the reference the compiled index (filters/index.py) must agree with; it
also serves the places where one filter meets a few listings, such as previews.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from filters.brands import BrandTable
from filters.text import normalize, occurs


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


@dataclass(frozen=True)
class FilterRule:
    brands: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    markets: tuple[str, ...] = ()

    @classmethod
    def of(cls, obj) -> FilterRule:
        return cls(
            brands=tuple(obj.brands),
            keywords=tuple(obj.keywords),
            exclude=tuple(obj.exclude),
            price_min=obj.price_min,
            price_max=obj.price_max,
            markets=tuple(obj.markets),
        )


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
        if any(occurs(spelling, title) for spelling in brands.spellings(key)):
            return True
    return False


def filter_matches(rule: FilterRule, listing: ListingLike, brands: BrandTable) -> bool:
    if rule.markets and listing.market not in rule.markets:
        return False
    if rule.price_min is not None and listing.price < rule.price_min:
        return False
    if rule.price_max is not None and listing.price > rule.price_max:
        return False
    keywords = _words(rule.keywords)
    if not keywords and not _words(rule.brands):
        return False
    title = normalize(listing.title)
    if not all(occurs(word, title) for word in keywords):
        return False
    if any(occurs(word, title) for word in _words(rule.exclude)):
        return False
    return brand_matches(rule, listing, title, brands)
