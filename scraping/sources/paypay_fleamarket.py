"""PayPay Fleamarket: the newest listings from the anonymous JSON search (`/api/v1/search`).

Parsing is tested on real search pages of 2026-08 (a results page and the
no-results page, read from ../shared/fixtures/marketplaces/real/ when it is
present; the project's own small fixtures copy their structure) and on a
fixture of the JSON API built from the documented format. The real pages are
server-rendered HTML holding the result in `<script id="__NEXT_DATA__">` at
`props.initialState.searchState.search.result`, the same object as the JSON
API returns; `parse` reads either form. We keep asking the JSON API for open
items only; anything else that comes back is skipped. `openTime` is read as
an ISO 8601 time or as Unix seconds, whichever the site sends.

The results can hold Yahoo! Auctions items: their ids do not begin with
PayPay's `z` (`h…`, `u…`, or digits), and their price is the current bid.
They are recorded as `yahoo_auctions` listings with their auction URL, so they
are the same listings as Yahoo! Auctions' own scan finds and alert once.

A search with no results is answered with HTTP 404 and the no-results page
(so its recorder notes; whether the JSON API does the same is not recorded).
A 404 whose body is a result with no items and none available, as a page or
as JSON, is read as no items; any other 404 stays an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lib.markets import item_url
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import (
    NotForSale,
    Page,
    PageShapeError,
    as_text,
    from_unix,
    json_results,
    page_parser,
    parse_items,
    query,
)

CODE = "paypay_fleamarket"
CROSSOVER = "yahoo_auctions"  # where a Yahoo! Auctions item in the results is recorded
_NEXT_DATA = re.compile(r'<script[^>]*\bid="__NEXT_DATA__"[^>]*>(.*?)</script>', re.DOTALL)
_RESULT_PATH = ("props", "initialState", "searchState", "search", "result")


def following_page(token: str | None, page: Page) -> str | None:
    return page.next_page


def search_request(search: Search, base_url: str, page: str | None = None) -> FetchRequest:
    """The newest 100 open items for the words (the default would include sold ones)."""
    params = {"query": search.keyword, "results": 100, "offset": int(page or 0)}
    params["itemStatus"] = "open"
    params |= {"sort": "openTime", "order": "desc"}
    params |= {"minPrice": search.price_min, "maxPrice": search.price_max}
    return FetchRequest(f"{base_url}/api/v1/search?{query(params)}", search.keyword or "newest")


def parse_item(item: dict[str, Any]) -> dict[str, Any]:
    if str(item.get("itemStatus", "OPEN")).upper() != "OPEN":
        raise NotForSale
    item_id = item["id"]
    market = CODE if str(item_id).startswith("z") else CROSSOVER
    opened = item.get("openTime")
    brand = item.get("brand") or {}
    return {
        "market": market,
        "external_id": item_id,
        "title": item["title"],
        "price": int(item["price"]),
        "url": item_url(market, item_id),
        "image_url": item.get("thumbnailImageUrl") or "",
        "brand": brand.get("name") or None,
        "listed_at": from_unix(opened) if str(opened).isdigit() else opened,
    }


def search_result(body: str | bytes) -> dict[str, Any]:
    """The search result object, from the JSON API or from a server-rendered search page."""
    text = as_text(body)
    if not text.lstrip().startswith("<"):
        return json_results(CODE, text)
    found = _NEXT_DATA.search(text)
    if found is None:
        raise PageShapeError(CODE, "an HTML page without the __NEXT_DATA__ script")
    try:
        result: Any = json.loads(found.group(1))
    except ValueError as error:
        raise PageShapeError(CODE, f"__NEXT_DATA__ is not JSON ({error})") from None
    for key in _RESULT_PATH:
        result = result.get(key) if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("items"), list):
        raise PageShapeError(CODE, f"no result with `items` at {'.'.join(_RESULT_PATH)}")
    return result


def is_no_results_page(body: str | bytes) -> bool:
    """Whether the body is the site's answer to a search with no results (served with HTTP 404)."""
    try:
        result = search_result(body)
    except (PageShapeError, ValueError):
        return False
    return result["items"] == [] and not result.get("totalResultsAvailable")


@page_parser(CODE)
def parse(body: str | bytes) -> Page:
    data = search_result(body)
    returned = int(data.get("totalResultsReturned") or len(data["items"]))
    offset = int(data.get("offset") or 0)
    more = offset + returned < int(data.get("totalResultsAvailable") or 0)
    return parse_items(CODE, data["items"], parse_item, str(offset + returned) if more else None)
