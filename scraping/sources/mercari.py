"""Mercari Japan: the newest listings from the web search API (`POST api.mercari.jp/v2/entities:search`).

Parsing is tested on real responses recorded by the mercapi project in
2022-2024 (tests/fixtures/marketplaces/mercari/, see ../shared/fixtures) and on
postalservice-python's recording of 2024-10 with a Mercari Shops item, read
from ../shared/fixtures/marketplaces/real/ when it is there. A Shops item
(`ITEM_TYPE_BEYOND`, 22-character ids, URL `/shops/product/{id}`) has
`sellerId` "0": its seller is its `shop.id` when the item carries a `shop`, else
unknown. No recorded search response holds an auction: its `auction` object
(`bidDeadline`, `totalBid`, `highestBid`) is read from the documented format and
a mercapi fork's search model, with a fixture built from them; `price` is then the
highest bid. An auction whose bid deadline has passed is skipped. Numbers
arrive as strings; `created` is Unix seconds and is not monotonic in a
newest-first search, so items are told apart by id only. Sold and trading
items, and "no price" items, are skipped.

The item's own fields give the attributes: `itemConditionId`, `itemSizes`
(`itemSize`), `categoryId` (through `CATEGORIES`, a partial table),
`shippingPayerId`, `sellerId`, `itemType` and `auction`. A search item can't
give a buy-now price (Mercari auctions have none) or a category for an id
outside the table, and a Shops item doesn't say who pays shipping
(`shippingPayerId` "0"); unknown fields are left out, not guessed.

We read the response ourselves rather than depending on `mercapi`: parsing is
short, and the fetch path (DPoP signing, politeness, retries) has to be
ours anyway to share one rate limit and circuit breaker with the other sources.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from lib.markets import BY_CODE
from scraping.http import FetchRequest
from scraping.planning import Search
from scraping.sources.base import (
    NotForSale,
    Page,
    from_unix,
    json_results,
    page_parser,
    parse_items,
)

CODE = "mercari"
ITEM_URL = BY_CODE[CODE].item_url
SHOPS_URL = "https://jp.mercari.com/shops/product/{id}"
IMAGE_URL = "https://static.mercdn.net/thumb/item/webp/{id}_1.jpg"


# itemConditionId → condition. Mercari's six grades: 新品、未使用 / 未使用に近い / 目立った傷や汚れなし /
# やや傷や汚れあり / 傷や汚れあり / 全体的に状態が悪い; we fold the last two into "poor".
CONDITIONS = {"1": "new", "2": "like_new", "3": "good", "4": "fair", "5": "poor", "6": "poor"}
# shippingPayerId → whether the price includes shipping: 2 the seller pays (送料込み), 1 the
# buyer does (着払い). Shops items send 0, which says neither.
SHIPPING_INCLUDED = {"2": True, "1": False}
# categoryId (a leaf of Mercari's category tree) → our category. Partial, and inferred: we hold
# no copy of Mercari's category master, so each id is named by the listings filed under it in
# the 2024-10 recording (../shared/fixtures/marketplaces/real/mercari/): 314 two jackets, 335 a
# jacket, 302 a short-sleeved top, 122 a long-sleeved shirt, 1428 a cardigan, 1476 sweatpants,
# 353 a tote bag. Left out as unclear there: 1489 (a skirt-and-shirt set) and 10852 (a
# reworked denim piece, jacket or jeans). Any other id gives no category; the title fallback
# may still find one. Add ids only with a recording that shows what they hold.
CATEGORIES = {
    "314": "outerwear",
    "335": "outerwear",
    "302": "tops",
    "122": "tops",
    "1428": "tops",
    "1476": "bottoms",
    "353": "bags",
}
# Mercari writes some sizes in two systems at once, "XS(SS)" or "XL(LL)": both are labels of
# the one size, so a filter for either finds it.
_TWO_NAMES = re.compile(r"^([^()\s]+)\(([^()\s]+)\)$")


def parse_item(item: dict[str, Any], now: float) -> dict[str, Any]:
    if item.get("status") != "ITEM_STATUS_ON_SALE" or item.get("isNoPrice"):
        raise NotForSale
    auction = item.get("auction") or {}
    deadline = auction.get("bidDeadline")
    if deadline and _when(deadline) <= now:
        raise NotForSale  # an auction whose bidding has closed
    item_id = item["id"]
    shops = item.get("itemType") == "ITEM_TYPE_BEYOND"
    thumbnails = item.get("thumbnails") or []
    brand = item.get("itemBrand") or {}
    listing: dict[str, Any] = {
        "external_id": item_id,
        "title": item.get("name") or item.get("title"),
        "price": int(item["price"]),
        "url": (SHOPS_URL if shops else ITEM_URL).format(id=item_id),
        "image_url": thumbnails[0]
        if thumbnails
        else ("" if shops else IMAGE_URL.format(id=item_id)),
        "brand": brand.get("name") or None,
        "listed_at": from_unix(item.get("created")),
        "condition": CONDITIONS.get(str(item.get("itemConditionId"))),
        "sizes": sizes(item),
        "category": CATEGORIES.get(str(item.get("categoryId"))),
        "sale_type": "auction" if auction else "fixed",
        "seller_type": "shop" if shops else "individual",
        "seller_id": seller_id(item, shops),
        "shipping_included": SHIPPING_INCLUDED.get(str(item.get("shippingPayerId"))),
    }
    if auction:
        listing["ends_at"] = _iso(deadline) if deadline else None
        listing["bids"] = (
            int(auction["totalBid"]) if str(auction.get("totalBid")).isdigit() else None
        )
    # What the item doesn't say is left out, not sent as null: a field the dict lacks is one the
    # title fallback in base.py may fill.
    return {key: value for key, value in listing.items() if value is not None and value != []}


def sizes(item: dict[str, Any]) -> list[str]:
    """The size labels the item states: `itemSizes`, or the older single `itemSize`."""
    stated = item.get("itemSizes") or [item.get("itemSize") or {}]
    labels: list[str] = []
    for size in stated:
        name = str((size or {}).get("name") or "").strip()
        two = _TWO_NAMES.match(name)
        labels.extend(two.groups() if two else [name] if name else [])
    return labels


def seller_id(item: dict[str, Any], shops: bool) -> str | None:
    """The seller's id; a Shops item's "0" is no id, and its shop's id stands in when present."""
    seller = str(item.get("sellerId") or "")
    if seller and seller != "0":
        return seller
    if shops:
        return str((item.get("shop") or {}).get("id") or "") or None
    return None


def _iso(value: Any) -> str:
    """A time (Unix seconds or ISO 8601) as ISO 8601 in UTC."""
    return datetime.fromtimestamp(_when(value), tz=UTC).isoformat()


def _when(value: Any) -> float:
    """Unix seconds (a number or digits) or an ISO 8601 time, as Unix seconds."""
    if str(value).isdigit():
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


@page_parser(CODE)
def parse(body: str | bytes, now: float | None = None) -> Page:
    data = json_results(CODE, body)
    next_token = (data.get("meta") or {}).get("nextPageToken") or None
    moment = time.time() if now is None else now
    return parse_items(CODE, data["items"], lambda item: parse_item(item, moment), next_token)


def following_page(token: str | None, page: Page) -> str | None:
    return page.next_page


def search_request(search: Search, base_url: str, page: str | None = None) -> FetchRequest:
    """The newest 120 items for the words, Mercari Shops included, signed with a DPoP proof."""
    url = f"{base_url}/v2/entities:search"
    body = {
        "pageSize": 120,
        "pageToken": page or "",
        "searchSessionId": secrets.token_hex(16),
        "indexRouting": "INDEX_ROUTING_UNSPECIFIED",
        "searchCondition": {
            "keyword": search.keyword,
            "sort": "SORT_CREATED_TIME",
            "order": "ORDER_DESC",
            "status": ["STATUS_ON_SALE"],
            "priceMin": search.price_min or 0,
            "priceMax": search.price_max or 0,
        },
        "defaultDatasets": ["DATASET_TYPE_MERCARI", "DATASET_TYPE_BEYOND"],
    }
    headers = {"X-Platform": "web", "DPoP": dpop_proof(url, "POST")}
    return FetchRequest(url, search.keyword or "newest", "POST", body, headers)


@cache
def _signing_key() -> ec.EllipticCurvePrivateKey:
    # Any fresh P-256 key is accepted; one per process is enough.
    return ec.generate_private_key(ec.SECP256R1())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def dpop_proof(url: str, method: str) -> str:
    """A DPoP proof JWT (RFC 9449) for one request, signed ES256 with the process's key."""
    key = _signing_key()
    numbers = key.public_key().public_numbers()
    jwk = {
        "crv": "P-256",
        "kty": "EC",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }
    header = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk}
    payload = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "htu": url,
        "htm": method,
        "uuid": str(uuid.uuid4()),
    }
    signing_input = ".".join(
        _b64(json.dumps(part, separators=(",", ":")).encode()) for part in (header, payload)
    )
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
