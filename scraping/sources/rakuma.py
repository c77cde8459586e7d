"""Rakuma (fril.jp): the newest listings from the search results page (HTML, `sort=created_at`).

Parsing is tested on a real results page of 2025-09 (40 cards; copied from
postalservice-python into tests/fixtures/marketplaces/rakuma/, MIT) and on
small fixtures built from its structure: a card of the newer (2026) form,
whose link carries the price in `data-rat-price`, and a sold card. One
`.item-box` per result, 40 a page; the item id is the 32-hex path of its
`item.fril.jp` link. The price is the link's `data-rat-price`, else the card's
`<span data-content="38000">` (the `data-content="JPY"` beside it is the
currency), with or without `itemprop="price"`. The title is the card's
`.item-box__item-name`, else the link's `data-rat-item_name` or title. Sold
items carry `.item-box__soldout_ribbon` and are skipped. The page gives no
listing time.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from lib.markets import item_url
from scraping.html import Element, parse_html
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import (
    NotForSale,
    Page,
    PageShapeError,
    as_text,
    page_parser,
    parse_items,
    query,
)

CODE = "rakuma"
NO_RESULTS = "該当する商品が見つかりません"


PAGE_SIZE = 40  # cards on a full page of the 2025 recording


def following_page(token: str | None, page: Page) -> str | None:
    """The next page number when this page was full."""
    full = len(page.records) + page.skipped + page.broken >= PAGE_SIZE
    return str(int(token or 1) + 1) if full else None


def search_request(search: Search, base_url: str, page: str | None = None) -> FetchRequest:
    """The newest page of items on sale for the words."""
    params: dict[str, Any] = {
        "query": search.keyword,
        "transaction": "selling",
        "sort": "created_at",
    }
    params |= {"order": "desc", "page": int(page or 1)}
    params |= {"min": search.price_min, "max": search.price_max}
    return FetchRequest(f"{base_url}/s?{query(params)}", search.keyword or "newest")


def _price(box: Element, links: list[Element]) -> int:
    for link in links:
        if link.get("data-rat-price"):
            return int(float(link.get("data-rat-price")))
    # The card's price spans: `data-content="JPY"` (the currency), then the amount.
    amounts = [
        span.get("data-content")
        for span in box.find_all("span")
        if span.get("data-content").replace(".", "", 1).isdigit()
    ]
    if not amounts:
        raise ValueError("no price (data-rat-price or span[data-content])")
    return int(float(amounts[0]))


def parse_item(box: Element) -> dict[str, Any]:
    if box.find(class_="item-box__soldout_ribbon") is not None:
        raise NotForSale
    links = [a for a in box.find_all("a") if "item.fril.jp/" in a.get("href")]
    if not links:
        raise ValueError("no link to item.fril.jp")
    item_id = urlsplit(links[0].get("href")).path.strip("/")
    name = box.find(class_="item-box__item-name")
    title = name.text() if name else ""
    if not title.strip():
        named = [a.get("data-rat-item_name") for a in links if a.get("data-rat-item_name")]
        title = named[0] if named else links[0].get("title")
    image = box.find("img")
    # A lazy image keeps its address in data-original; src is then a placeholder.
    src = (image.get("data-original") or image.get("src")) if image else ""
    return {
        "external_id": item_id,
        "title": title,
        "price": _price(box, links),
        "url": item_url(CODE, item_id),
        "image_url": "" if "item_square_dummy" in src else src,
    }


@page_parser(CODE)
def parse(body: str | bytes) -> Page:
    text = as_text(body)
    tree = parse_html(text)
    boxes = tree.find_all(class_="item-box")
    if not boxes and NO_RESULTS not in text:
        raise PageShapeError(CODE, "neither results (.item-box) nor a no-results notice")
    return parse_items(CODE, boxes, parse_item, None)
