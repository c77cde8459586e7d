"""What a filter would have matched among the recent listings, for previews in the bot and the web."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from filters.brands import BrandTable
from filters.models import Filter
from filters.rules import FilterRule, filter_matches
from filters.validation import DEFAULTS, clean_filter_fields
from listings.models import Listing

RECENT_LISTINGS = 2000
# What a preview of unsaved input looks at: the fields that decide matching.
MATCHING_FIELDS = tuple(field.name for field in dataclasses.fields(FilterRule))


def _matches(rule: FilterRule, brands: BrandTable, limit: int) -> list[Listing]:
    matches = []
    for listing in Listing.objects.latest_stored(RECENT_LISTINGS).iterator(chunk_size=500):
        if filter_matches(rule, listing, brands):
            matches.append(listing)
            if len(matches) >= limit:
                break
    return matches


def recent_matches(found: Filter, limit: int = 5) -> list[Listing]:
    """The newest listings among the last RECENT_LISTINGS that the filter matches."""
    return _matches(FilterRule.of(found), BrandTable.load(), limit)


def preview_matches(data: Mapping[str, Any], limit: int = 5) -> list[Listing]:
    """The same for input that is not saved (a form being typed): cleaned as the services
    clean it, so the preview matches what saving would store. Raises ValidationFailed
    with the services' messages; fields that do not decide matching are ignored."""
    brands = BrandTable.load()
    wanted = {key: value for key, value in data.items() if key in MATCHING_FIELDS}
    values = clean_filter_fields(wanted, brands)
    rule = FilterRule.of(
        SimpleNamespace(**{f: values.get(f, DEFAULTS[f]) for f in MATCHING_FIELDS})
    )
    return _matches(rule, brands, limit)
