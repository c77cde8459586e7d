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

The listing attributes: every item is sold at a fixed price (`sale_type`
"fixed"). The links' click handler pushes the item's analytics record
(`dataLayer.push({... "event_parameter": {...}})`), which gives `seller_id`
(`seller_user_id`), `seller_type` (`seller_user_type`: 一般 an individual,
事業者 a business, stored as "shop") and the brand (`brand_name`, else the
card's `.brand-name`). The category is the one Rakuma names in the link's
title, "…のメンズのトップス(ニット/セーター)の商品詳細ページへのリンク": its
top category through `CATEGORY_NAMES`, null when not there. The hand-written
cards of the 2026 form carry no analytics record (no real 2026 page was
found), so seller id and type are null on them. The page can't give the
condition or sizes (only titles hold them, which base.py reads), shipping
(送料込み/送料無料 appear only in titles), an end time, bids or a buy-now price.
"""

from __future__ import annotations

import json
import re
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
_DATA_LAYER = re.compile(r"dataLayer\.push\((\{.*\})\)", re.S)
_LINK_SUFFIX = "の商品詳細ページへのリンク"
SELLER_TYPES = {"一般": "individual", "事業者": "shop"}
# Rakuma's top categories (as its link titles name them) → the listing's category. The first
# five are on the recorded page; the others are our guesses at Rakuma's names for the other
# kinds, unverified (a name spelt otherwise matches nothing and gives no category). Its
# ワンピース (a dress, on the page too) is left out: a dress is none of our categories, and
# the other sources and the title reading leave one without a category as well.
CATEGORY_NAMES = {
    "トップス": "tops",
    "ジャケット/アウター": "outerwear",
    "パンツ": "bottoms",
    "スカート": "bottoms",
    "バッグ": "bags",
    "靴": "footwear",
    "アクセサリー": "accessories",
    "ヘアアクセサリー": "accessories",
    "帽子": "accessories",
    "小物": "accessories",
    "時計": "accessories",
}


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


def _analytics(links: list[Element]) -> dict[str, Any]:
    """The item's record in the links' `dataLayer.push(...)` click handler; {} when absent."""
    for link in links:
        if found := _DATA_LAYER.search(link.get("onclick")):
            try:
                record = json.loads(found.group(1))["eventData"]["event_parameter"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(record, dict):
                return record
    return {}


def _category(links: list[Element]) -> str | None:
    """The top category named in a link's title, after the gender, before the subcategory."""
    for link in links:
        described = link.get("title")
        if not described.endswith(_LINK_SUFFIX):
            continue
        head = described.removesuffix(_LINK_SUFFIX)
        if head.endswith(")"):  # drop the subcategory, which may hold parentheses of its own
            depth = 0
            for position in range(len(head) - 1, -1, -1):
                depth += {")": 1, "(": -1}.get(head[position], 0)
                if depth == 0:
                    head = head[:position]
                    break
        # Matched from the end: a name may itself hold の (その他), so no split on it.
        for name, category in CATEGORY_NAMES.items():
            if head.endswith("の" + name):
                return category
    return None


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
    analytics = _analytics(links)
    brand = box.find("a", "brand-name")
    seller = analytics.get("seller_user_id")
    return {
        "external_id": item_id,
        "title": title,
        "price": _price(box, links),
        "url": item_url(CODE, item_id),
        "image_url": "" if "item_square_dummy" in src else src,
        "brand": analytics.get("brand_name") or (brand.text() if brand else None),
        "sale_type": "fixed",
        "seller_id": str(seller) if seller not in (None, "") else None,
        "seller_type": SELLER_TYPES.get(str(analytics.get("seller_user_type"))),
        "category": _category(links),
    }


@page_parser(CODE)
def parse(body: str | bytes) -> Page:
    text = as_text(body)
    tree = parse_html(text)
    boxes = tree.find_all(class_="item-box")
    if not boxes and NO_RESULTS not in text:
        raise PageShapeError(CODE, "neither results (.item-box) nor a no-results notice")
    return parse_items(CODE, boxes, parse_item, None)
