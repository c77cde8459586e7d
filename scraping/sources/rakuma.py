"""Rakuma (fril.jp): the newest listings from the search results page (HTML, `sort=created_at`).

No real recorded page was available: the fixture in
tests/fixtures/marketplaces/rakuma/ is built from the documented markup
(../shared/marketplaces.md). One `.item-box` per result; the item id is the
32-hex path of its `item.fril.jp` link; sold items carry a sold-out ribbon
and are skipped. The page gives no listing time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from scraping.html import Element, parse_html
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import NotForSale, Page, PageShapeError, parse_items, query

CODE = "rakuma"
NO_RESULTS = "該当する商品が見つかりません"


PAGE_SIZE = 36


def following_page(token: str | None, page: Page) -> str | None:
    """The next page number when this page was full."""
    full = len(page.records) + page.skipped + page.broken >= PAGE_SIZE
    return str(int(token or 1) + 1) if full else None


def search_request(search: Search, base_url: str, page: str | None = None) -> FetchRequest:
    """The newest page of items on sale for the words."""
    params = {"query": search.keyword, "transaction": "selling", "sort": "created_at"}
    params |= {"order": "desc", "page": int(page or 1)}
    params |= {"min": search.price_min, "max": search.price_max}
    return FetchRequest(f"{base_url}/s?{query(params)}", search.keyword or "newest")


def parse_item(box: Element) -> dict[str, Any]:
    if box.find(class_="item-box__soldout_ribbon") is not None:
        raise NotForSale
    link = box.find(class_="item-box__image-wrapper").find("a")
    url = link.get("href")
    image = box.find("img")
    name = box.find(class_="item-box__item-name")
    price = next(
        e for e in box.find_all("span") if e.get("itemprop") == "price" and e.get("data-content")
    )
    return {
        "external_id": urlsplit(url).path.strip("/"),
        "title": name.text(),
        "price": int(float(price.get("data-content"))),
        "url": url,
        "image_url": image.get("data-original") or image.get("src") if image else "",
    }


def parse(body: str | bytes) -> Page:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    tree = parse_html(text)
    boxes = tree.find_all(class_="item-box")
    if not boxes and NO_RESULTS not in text:
        raise PageShapeError(CODE, "neither results (.item-box) nor a no-results notice")
    return parse_items(CODE, boxes, parse_item, None)
