"""What a filter would have matched among the recent listings, for previews in the bot and the web."""

from __future__ import annotations

from filters.brands import BrandTable
from filters.models import Filter
from filters.rules import FilterRule, filter_matches
from scraping.models import Listing

RECENT_LISTINGS = 2000


def recent_matches(found: Filter, limit: int = 5) -> list[Listing]:
    """The newest listings among the last RECENT_LISTINGS that the filter matches."""
    rule, brands = FilterRule.of(found), BrandTable.load()
    matches = []
    for listing in Listing.objects.order_by("-id")[:RECENT_LISTINGS].iterator(chunk_size=500):
        if filter_matches(rule, listing, brands):
            matches.append(listing)
            if len(matches) >= limit:
                break
    return matches
