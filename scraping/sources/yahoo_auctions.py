"""Yahoo! Auctions: the newest listings from the search results page (HTML, `s1=new&o1=d`).

Parsing is tested on a real results page recorded in 2022
(tests/fixtures/marketplaces/yahoo_auctions/, see ../shared/fixtures) and on
real pages of 2026-08 (a full results page and the no-results page, read from
../shared/fixtures/marketplaces/real/ when it is present; the project's own
small fixtures copy their structure). Each `li.Product` carries its data in
attributes: id, title, current price and end time on `div.Product__bonus` and
the links; the start time is the `st:` entry of the links' `data-cl-params`
(in 2022 it was in `data-ylk`, which is still read). Ended auctions are
skipped. Promoted cards repeat listings already on the page; each id gives one
record. URLs are rewritten to the current `auctions.yahoo.co.jp/jp/auction/{id}`
form. A search with no results is answered with HTTP 404 and the no-results
page (`h2.Empty__title`), which is read as no items.
"""

from __future__ import annotations

import re
import time
from typing import Any, cast

from lib.markets import item_url
from scraping.html import Element, parse_html
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import (
    NotForSale,
    Page,
    PageShapeError,
    as_text,
    from_unix,
    page_parser,
    parse_items,
    query,
)

CODE = "yahoo_auctions"
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


def _start_time(*links: Element | None) -> str | None:
    """Unix seconds from the `st:` entry of a link's click-log parameters."""
    for link in links:
        for attribute in ("data-cl-params", "data-ylk"):
            if link is not None and (start := _START.search(link.get(attribute))):
                return from_unix(start.group(1))
    return None


def parse_item(product: Element, now: float) -> dict[str, Any]:
    # Every card has both: one without them fails below, and parse_items counts it unreadable.
    bonus = cast(Element, product.find(class_="Product__bonus"))
    link = cast(Element, product.find("a", "Product__titleLink"))
    image = product.find("a", "Product__imageLink")
    end = int(bonus.get("data-auction-endtime") or 0)
    if end and end <= now:
        raise NotForSale
    auction_id = bonus.get("data-auction-id") or link.get("data-auction-id")
    return {
        "external_id": auction_id,
        "title": link.get("data-auction-title") or link.text(),
        "price": int(bonus.get("data-auction-price") or link.get("data-auction-price")),
        "url": item_url(CODE, auction_id),
        "image_url": image.get("data-auction-img") if image else "",
        "listed_at": _start_time(link, image),
    }


def _is_no_results(tree: Element) -> bool:
    return any(NO_RESULTS in heading.text() for heading in tree.find_all(class_="Empty__title"))


def is_no_results_page(body: str | bytes) -> bool:
    """Whether the body is the site's no-results page (served with HTTP 404)."""
    return _is_no_results(parse_html(as_text(body)))


@page_parser(CODE)
def parse(body: str | bytes, now: float | None = None) -> Page:
    tree = parse_html(as_text(body))
    products = tree.find_all("li", "Product")
    if not products and tree.find(class_="Products") is None and not _is_no_results(tree):
        raise PageShapeError(CODE, "neither results (li.Product) nor a no-results notice")
    moment = time.time() if now is None else now
    return parse_items(CODE, products, lambda p: parse_item(p, moment), None)
