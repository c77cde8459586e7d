"""Yahoo! Auctions: the newest listings from the search results page (HTML, `s1=new&o1=d`).

Parsing is tested on a real results page recorded in 2022
(tests/fixtures/marketplaces/yahoo_auctions/, see ../shared/fixtures) and on
real pages of 2026-08 and 2024-08 (read from ../shared/fixtures/marketplaces/real/
when it is present; the project's own small fixtures copy their structure). Each
`li.Product` carries its data in attributes: id, title, current price and end
time on `div.Product__bonus` and the links; the start time is the `st:` entry
of the links' `data-cl-params` (in 2022 it was in `data-ylk`, which is still
read). Ended auctions are skipped. Promoted cards repeat listings already on
the page; each id gives one record. URLs are rewritten to the current
`auctions.yahoo.co.jp/jp/auction/{id}` form. A search with no results is
answered with HTTP 404 and the no-results page (`h2.Empty__title`), which is
read as no items.

The listing attributes, all from the card itself:
- `sale_type`: "fixed" for a Yahoo!フリマ card (`data-auction-isflea="1"`; it
  links to PayPay Fleamarket and is stored as a `paypay_fleamarket` listing) and
  for a buy-now-only listing, whose buy-now price equals its start price (the
  first bid buys it; Yahoo shows 現在 and 即決 at the same price); else "auction".
  `ends_at`, `bids` and `buy_now_price` are given for auctions only: the end
  time (`data-auction-endtime`), `dd.Product__bid`, and the shown 即決 price
  (a store's `data-auction-buynowprice` is before tax, the shown one with it);
  no buy-now price (0) is null.
- `seller_id`: `data-auction-auc-seller-id` (2026: an opaque id), else
  `data-auction-sellerid` (2022-2024: the seller's Yahoo! ID, another namespace).
- `seller_type`: "shop" when `data-auction-isshoppingitem="1"` (a store, whose
  prices include tax), "individual" when it is empty, null on cards without it.
- `shipping_included`: true for 送料無料 (`data-auction-isfreeshipping="1"` or
  the icon), false when the buyer pays (＋送料…円, 送料未定, 着払い), else null.
- `condition`: "new" for the 未使用 icon (`Product__icon--unused`).
- `category`: from the category id path, the deepest id in `CATEGORY_IDS`.
The card never gives sizes, a condition other than 未使用, or the kind of most
clothing (メンズファッション 23176 and the ids below it are not in the table):
those are left to the title reading in base.py.
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
FLEA_CODE = "paypay_fleamarket"  # Yahoo!フリマ cards among the results
NO_RESULTS = "条件に一致する商品は見つかりませんでした"
_START = re.compile(r"(?:^|;)st:(\d+)")
_DIGITS = re.compile(r"\d+")
# Postage lines meaning the buyer pays: an amount, an amount not yet known, cash on delivery.
_BUYER_PAYS = ("＋送料", "送料未定", "着払い")

# Yahoo's category ids → the listing's category; a card's path is read from its deepest id
# up, and an id not here says nothing. Names from the category menus of the recorded pages
# (the "other" rows) and from two public lists of Yahoo's ids that agree with each other
# and with those menus (the fashion rows). Clothing itself (ファッション 23000,
# メンズファッション 23176, レディースファッション 23288) is not split by kind here.
CATEGORY_IDS = {
    "23200": "footwear",  # メンズシューズ
    "23312": "footwear",  # レディースシューズ
    "2084006467": "bags",  # メンズバッグ
    "2084005069": "bags",  # レディースバッグ
    "2084233229": "bags",  # 男女兼用バッグ
    "23004": "accessories",  # ファッション小物
    "2084005358": "accessories",  # メンズアクセサリー
    "2084005359": "accessories",  # レディースアクセサリー
    "2084052553": "accessories",  # ブランドアクセサリー
    "23260": "accessories",  # ブランド腕時計
    "23264": "accessories",  # メンズ腕時計
    "23268": "accessories",  # レディース腕時計
    "23272": "accessories",  # ユニセックス腕時計
    # Top-level categories that hold no clothing, shoes, bags or accessories.
    "20000": "other",  # アンティーク、コレクション
    "20060": "other",  # コミック、アニメグッズ
    "21600": "other",  # 本、雑誌
    "21964": "other",  # 映画、ビデオ
    "22152": "other",  # 音楽
    "23632": "other",  # 家電、AV、カメラ
    "24198": "other",  # 住まい、インテリア
    "24242": "other",  # ホビー、カルチャー
    "25464": "other",  # おもちゃ、ゲーム
    "2084043920": "other",  # チケット、金券、宿泊予約
}


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


def _yen(text: str) -> int | None:
    """Whole yen from an attribute or a shown price ("30,000円"); None when absent or 0."""
    amount = int("".join(_DIGITS.findall(text)) or 0)
    return amount or None


def _shown_buy_now(product: Element) -> int | None:
    for price in product.find_all("span", "Product__price"):
        label, value = price.find(class_="Product__label"), price.find(class_="Product__priceValue")
        if label is not None and value is not None and label.text().strip() == "即決":
            return _yen(value.text())
    return None


def _shipping_included(product: Element, *links: Element | None) -> bool | None:
    free = any(
        link is not None and link.get("data-auction-isfreeshipping") == "1" for link in links
    )
    if free or product.find(class_="Product__icon--freeShipping") is not None:
        return True
    postage = product.find(class_="Product__postage")
    if postage is not None and any(mark in postage.text() for mark in _BUYER_PAYS):
        return False
    return None


def _category(bonus: Element, link: Element) -> str | None:
    path = bonus.get("data-auction-categoryidpath") or link.get("data-auction-category")
    for category_id in reversed(path.split(",")):
        if category := CATEGORY_IDS.get(category_id.strip()):
            return category
    return None


def _seller_type(bonus: Element) -> str | None:
    if "data-auction-isshoppingitem" not in bonus.attrs:
        return None
    return "shop" if bonus.get("data-auction-isshoppingitem") == "1" else "individual"


def _sale(product: Element, bonus: Element, flea: bool, end: int) -> dict[str, Any]:
    """The sale type, and an auction's end, bids and buy-now price (null for a fixed price)."""
    listed_buy_now = _yen(bonus.get("data-auction-buynowprice"))
    # The attributes, not the shown prices: a store's shown prices add tax to the start
    # price (現在) but both attributes are before tax, so only they compare.
    start = _yen(bonus.get("data-auction-startprice"))
    if flea or (listed_buy_now is not None and listed_buy_now == start):
        return {"sale_type": "fixed", "ends_at": None, "bids": None, "buy_now_price": None}
    bids = product.find(class_="Product__bid")
    return {
        "sale_type": "auction",
        "ends_at": from_unix(end),
        "bids": int(bids.text()) if bids is not None else None,
        "buy_now_price": _shown_buy_now(product) or listed_buy_now,
    }


def parse_item(product: Element, now: float) -> dict[str, Any]:
    # Every card has both: one without them fails below, and parse_items counts it unreadable.
    bonus = cast(Element, product.find(class_="Product__bonus"))
    link = cast(Element, product.find("a", "Product__titleLink"))
    image = product.find("a", "Product__imageLink")
    end = int(bonus.get("data-auction-endtime") or 0)
    if end and end <= now:
        raise NotForSale
    auction_id = bonus.get("data-auction-id") or link.get("data-auction-id")
    # A Yahoo!フリマ card: a PayPay Fleamarket item (z…), with an empty Product__bonus.
    flea = link.get("data-auction-isflea") == "1" or "paypayfleamarket." in link.get("href")
    market = FLEA_CODE if flea else CODE
    seller_id = bonus.get("data-auction-auc-seller-id") or bonus.get("data-auction-sellerid")
    return {
        "market": market,
        "external_id": auction_id,
        "title": link.get("data-auction-title") or link.text(),
        "price": int(bonus.get("data-auction-price") or link.get("data-auction-price")),
        "url": item_url(market, auction_id),
        "image_url": image.get("data-auction-img") if image else "",
        "listed_at": _start_time(link, image),
        **_sale(product, bonus, flea, end),
        "seller_id": seller_id or None,
        "seller_type": _seller_type(bonus),
        "shipping_included": _shipping_included(product, link, image),
        "condition": "new" if product.find(class_="Product__icon--unused") else None,
        "category": _category(bonus, link),
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
