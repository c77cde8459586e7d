"""What every marketplace source gives back: a page of listing records, parsed fault-tolerantly.

A source turns one response into a `Page`. Items that are not for sale (sold,
trading, ended) are skipped and counted; an item that cannot be parsed is
skipped, counted and logged, never the whole page. A response that is not the
expected page at all raises `PageShapeError` naming the source, so a site that
changed its format is noticed at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from filters.errors import ServiceError
from scraping.records import ListingRecord, parse_listing

log = logging.getLogger(__name__)


class PageShapeError(Exception):
    """The response does not have the shape the source's parser knows."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: the page changed shape: {problem}")
        self.source = source


class NotForSale(Exception):
    """The item is sold, trading, ended or has no price: skip it quietly."""


@dataclass
class Page:
    records: list[ListingRecord] = field(default_factory=list)
    skipped: int = 0  # not for sale
    broken: int = 0  # could not be parsed
    next_page: str | None = None  # where the next (older) page starts; None at the end


def parse_items(
    source: str, items: Iterable[Any], parse_item: Callable[[Any], dict], next_page: str | None
) -> Page:
    """Run `parse_item` on each item; it returns a listing dict or raises NotForSale."""
    page = Page(next_page=next_page)
    for position, item in enumerate(items, start=1):
        try:
            page.records.append(parse_listing({"market": source, **parse_item(item)}))
        except NotForSale:
            page.skipped += 1
        except (ServiceError, KeyError, TypeError, ValueError, AttributeError) as error:
            page.broken += 1
            log.warning("%s: item %d skipped, it could not be read: %s", source, position, error)
    return page


def json_results(source: str, body: str | bytes) -> dict[str, Any]:
    """A JSON search response with its `items` list, or PageShapeError."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise PageShapeError(source, f"not JSON ({error})") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise PageShapeError(source, "no `items` list in the search response")
    return data


def query(params: dict[str, Any]) -> str:
    """A URL query string of the parameters that have a value."""
    return urlencode({key: value for key, value in params.items() if value is not None})


def from_unix(seconds: Any) -> str | None:
    """An ISO 8601 UTC time from Unix seconds (as a number or a string), or None."""
    if seconds in (None, "", "0", 0):
        return None
    return datetime.fromtimestamp(int(seconds), tz=UTC).isoformat()
