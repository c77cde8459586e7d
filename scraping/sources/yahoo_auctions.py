"""Yahoo! Auctions: the newest listings from the search results page (HTML, `s1=new&o1=d`).

Parsing is tested on a real results page recorded in 2022
(tests/fixtures/marketplaces/yahoo_auctions/, see ../shared/fixtures). Each
`li.Product` carries its data in attributes: id, title, price and end time on
`div.Product__bonus` and the links; the start time is the `st:` entry of the
link's `data-ylk`. Ended auctions are skipped. URLs are rewritten to the
current `auctions.yahoo.co.jp/jp/auction/{id}` form.
"""

from __future__ import annotations

import re
import time
from typing import Any

from scraping.html import Element, parse_html
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import NotForSale, Page, PageShapeError, from_unix, parse_items, query

CODE = "yahoo_auctions"
ITEM_URL = "https://auctions.yahoo.co.jp/jp/auction/{id}"
NO_RESULTS = "条件に一致する商品は見つかりませんでした"
_START = re.compile(r"(?:^|;)st:(\d+)")


PAGE_SIZE = 50


def following_page(token: str | None, page: Page) -> str | None:
    """The next offset (`b`, 1-based) when this page was full."""
    full = len(page.records) + page.skipped + page.broken >= PAGE_SIZE
    return str(int(token or 1) + PAGE_SIZE) if full else None


def search_request(search: Search, base_url: str, page: str | None = None) -> FetchRequest:
    """The newest 50 results for the words, buy-now and auctions alike."""
    params = {"p": search.keyword, "va": search.keyword, "exflg": 1, "b": int(page or 1)}
    params["n"] = PAGE_SIZE
    params |= {"s1": "new", "o1": "d"}
    params |= {"aucminprice": search.price_min, "aucmaxprice": search.price_max}
    return FetchRequest(f"{base_url}/search/search?{query(params)}", search.keyword or "newest")


def parse_item(product: Element, now: float) -> dict[str, Any]:
    bonus = product.find(class_="Product__bonus")
    link = product.find("a", "Product__titleLink")
    image = product.find("a", "Product__imageLink")
    end = int(bonus.get("data-auction-endtime") or 0)
    if end and end <= now:
        raise NotForSale
    auction_id = bonus.get("data-auction-id") or link.get("data-auction-id")
    start = _START.search((image or link).get("data-ylk"))
    return {
        "external_id": auction_id,
        "title": link.get("data-auction-title") or link.text(),
        "price": int(bonus.get("data-auction-price")),
        "url": ITEM_URL.format(id=auction_id),
        "image_url": image.get("data-auction-img") if image else "",
        "listed_at": from_unix(start.group(1)) if start else None,
    }


def parse(body: str | bytes, now: float | None = None) -> Page:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    tree = parse_html(text)
    products = tree.find_all("li", "Product")
    if not products and tree.find(class_="Products") is None and NO_RESULTS not in text:
        raise PageShapeError(CODE, "neither results (li.Product) nor a no-results notice")
    moment = time.time() if now is None else now
    return parse_items(CODE, products, lambda p: parse_item(p, moment), None)
