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
are the same listings as Yahoo! Auctions' own scan finds and alert once, and
as auctions ending at their `endTime` (for PayPay's own items `endTime` is only
when the listing lapses, a year on). Their `sellerId` is PayPay's id for the
seller (`p…`), not the Yahoo! Auctions seller id, so it is not recorded for them.

Attributes, from the item's fields: `condition` (new, used10 … used80, through
`CONDITIONS`), `category` (its path of names, through `category_of`), `sellerId`,
and the sale type from the id. The search items carry no sizes, no shipping
payer, no seller type, and for the Yahoo! Auctions items no bid count or
buy-now price: those are left out, never guessed here.

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


# `condition` → ours. PayPay's grades: 新品、未使用 / 未使用に近い / 目立った傷や汚れなし /
# やや傷や汚れあり / 傷や汚れあり / 全体的に状態が悪い; we fold the last two into "poor".
CONDITIONS = {
    "new": "new",
    "used10": "like_new",
    "used20": "good",
    "used40": "fair",
    "used60": "poor",
    "used80": "poor",
}
# The category path is Yahoo! Shopping's tree ("shopping" > "ゲーム、おもちゃ" > "トレーディングカード").
# Words in a level's name → our category, tried on the deepest level first, in this order ("靴下"
# are not shoes, "ニット帽" is not a knit top, "スウェットパンツ" is trousers). Unverified on a
# real fashion page: the only real one holds trading cards and packing bags.
CATEGORY_WORDS = (
    ("accessories", ("靴下", "帽", "財布", "腕時計", "ネクタイ", "マフラー", "ストール", "手袋")),
    ("accessories", ("サングラス", "ジュエリー", "ネックレス", "ピアス", "ファッション小物")),
    ("footwear", ("靴", "シューズ", "スニーカー", "ブーツ", "サンダル", "パンプス", "ローファー")),
    ("bags", ("バッグ", "リュック", "バックパック")),
    ("bottoms", ("パンツ", "ボトムス", "スカート", "ジーンズ", "スラックス")),
    ("outerwear", ("アウター", "ジャケット", "コート", "ブルゾン", "ジャンパー", "ダウンベスト")),
    ("tops", ("トップス", "シャツ", "カットソー", "ニット", "セーター", "カーディガン")),
    ("tops", ("パーカー", "スウェット", "トレーナー", "ベスト")),
)
# Top levels that hold no clothing, seen on the real page of 2026-08: what is under them and names
# none of the words above is "other". Any other path none of the words names gives no category.
NOT_CLOTHING = {2503: "DIY、工具", 2510: "楽器、手芸、コレクション", 2511: "ゲーム、おもちゃ"}


def parse_item(item: dict[str, Any]) -> dict[str, Any]:
    if str(item.get("itemStatus", "OPEN")).upper() != "OPEN":
        raise NotForSale
    item_id = item["id"]
    market = CODE if str(item_id).startswith("z") else CROSSOVER
    opened = item.get("openTime")
    brand = item.get("brand") or {}
    listing: dict[str, Any] = {
        "market": market,
        "external_id": item_id,
        "title": item["title"],
        "price": int(item["price"]),
        "url": item_url(market, item_id),
        "image_url": item.get("thumbnailImageUrl") or "",
        "brand": brand.get("name") or None,
        "listed_at": _time(opened),
        "condition": CONDITIONS.get(str(item.get("condition")).lower()),
        "category": category_of(item.get("category")),
    }
    if market == CODE:
        seller = item.get("sellerId") or (item.get("seller") or {}).get("id")
        listing |= {"sale_type": "fixed", "seller_id": str(seller) if seller else None}
    else:
        # A Yahoo! Auctions item: its price is the current bid and its endTime the auction's end.
        listing |= {"sale_type": "auction", "ends_at": _time(item.get("endTime"))}
    # What the item doesn't say is left out, not sent as null: a field the dict lacks is one the
    # title fallback in base.py may fill.
    return {key: value for key, value in listing.items() if value is not None}


def category_of(category: Any) -> str | None:
    """Our category for a PayPay category object ({id, name, path: [{id, name}…]}), or None."""
    if not isinstance(category, dict):
        return None
    path = [level for level in category.get("path") or [] if isinstance(level, dict)]
    names = [str(level.get("name") or "") for level in path]
    if category.get("name") not in names:
        names.append(str(category.get("name") or ""))  # a path that stops above the leaf
    for name in reversed(names):
        for ours, words in CATEGORY_WORDS:
            if any(word in name for word in words):
                return ours
    if any(level.get("id") in NOT_CLOTHING for level in path):
        return "other"
    return None


def _time(value: Any) -> str | None:
    """An ISO 8601 time as sent, or one from Unix seconds."""
    return from_unix(value) if str(value).isdigit() else value


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
