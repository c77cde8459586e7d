"""PayPay Fleamarket: the newest listings from the anonymous JSON search (`/api/v1/search`).

No real recorded response was available: the fixture in
tests/fixtures/marketplaces/paypay_fleamarket/ is built from the documented
format (../shared/marketplaces.md). The search is asked for open items only;
anything else that comes back is skipped. `openTime` is read as an ISO 8601
time or as Unix seconds, whichever the site sends.
"""

from __future__ import annotations

from typing import Any

from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import NotForSale, Page, from_unix, json_results, parse_items, query

CODE = "paypay_fleamarket"
ITEM_URL = "https://paypayfleamarket.yahoo.co.jp/item/{id}"


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
    opened = item.get("openTime")
    brand = item.get("brand") or {}
    return {
        "external_id": item["id"],
        "title": item["title"],
        "price": int(item["price"]),
        "url": ITEM_URL.format(id=item["id"]),
        "image_url": item.get("thumbnailImageUrl") or "",
        "brand": brand.get("name") or None,
        "listed_at": from_unix(opened) if str(opened).isdigit() else opened,
    }


def parse(body: str | bytes) -> Page:
    data = json_results(CODE, body)
    returned = int(data.get("totalResultsReturned") or len(data["items"]))
    offset = int(data.get("offset") or 0)
    more = offset + returned < int(data.get("totalResultsAvailable") or 0)
    return parse_items(CODE, data["items"], parse_item, str(offset + returned) if more else None)
