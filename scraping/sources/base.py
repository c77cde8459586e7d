"""What every marketplace source gives back: a page of listing records, parsed fault-tolerantly.

A source turns one response into a `Page`. Items that are not for sale (sold,
trading, ended) are skipped and counted; an item that cannot be parsed, for
whatever reason (any exception), is skipped, counted and logged, never the
whole page. An id repeated on one page (a promoted card) gives one record. A
response that is not the expected page at all, or on which the parser itself
fails, raises `PageShapeError` naming the source (`page_parser`), so a site
that changed its format is noticed at once. A source whose site answers an
empty search with HTTP 404 and its no-results page also defines
`is_no_results_page(body)`, which the scanner asks before calling that 404 an
error. The sizes, category and condition a parsed item leaves unstated are read from its title
(scraping/title_attributes.py); what the page states is kept.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from listings.records import ListingRecord, parse_listing
from scraping.title_attributes import fill_from_title

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
    """Run `parse_item` on each item; it returns a listing dict (whose market defaults to the
    source's, and whose unstated sizes, category and condition are read from its title) or
    raises NotForSale. Whatever else it raises makes the item unreadable."""
    page = Page(next_page=next_page)
    seen: set[tuple[str, str]] = set()
    for position, item in enumerate(items, start=1):
        try:
            record = parse_listing({"market": source, **fill_from_title(parse_item(item))})
        except NotForSale:
            page.skipped += 1
            continue
        except Exception as error:  # a parser bug or a new card shape costs one item, not the page
            page.broken += 1
            log.warning(
                "%s: item %d skipped, it could not be read: %s: %s",
                source,
                position,
                type(error).__name__,
                error,
            )
            continue
        if (record.market, record.external_id) in seen:
            continue  # a promoted card repeating an item already on the page
        seen.add((record.market, record.external_id))
        page.records.append(record)
    return page


def page_parser(source: str) -> Callable[[Callable[..., Page]], Callable[..., Page]]:
    """Decorate a source's `parse`: any exception escaping it becomes the source's PageShapeError."""

    def decorate(parse: Callable[..., Page]) -> Callable[..., Page]:
        @functools.wraps(parse)
        def guarded(*args: Any, **kwargs: Any) -> Page:
            try:
                return parse(*args, **kwargs)
            except PageShapeError:
                raise
            except Exception as error:
                problem = f"the parser failed ({type(error).__name__}: {error})"
                raise PageShapeError(source, problem) from error

        return guarded

    return decorate


def as_text(body: str | bytes) -> str:
    return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


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
