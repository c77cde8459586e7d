"""Mercari Japan: the newest listings from the web search API (`POST api.mercari.jp/v2/entities:search`).

Parsing is tested on real responses recorded by the mercapi project
(tests/fixtures/marketplaces/mercari/, see ../shared/fixtures). No recording
holds a Mercari Shops item (`ITEM_TYPE_BEYOND`, 22-character ids, URL
`/shops/product/{id}`) or an auction; those are read from the documented
format. Numbers arrive as strings; `created` is Unix seconds and is not
monotonic in a newest-first search, so items are told apart by id only.
Sold and trading items, and "no price" items, are skipped.

We read the response ourselves rather than depending on `mercapi`: parsing is
twenty lines, and the fetch path (DPoP signing, politeness, retries) has to be
ours anyway to share one rate limit and circuit breaker with the other sources.
"""

from __future__ import annotations

from typing import Any

from scraping.sources.base import NotForSale, Page, from_unix, json_results, parse_items

CODE = "mercari"
ITEM_URL = "https://jp.mercari.com/item/{id}"
SHOPS_URL = "https://jp.mercari.com/shops/product/{id}"
IMAGE_URL = "https://static.mercdn.net/thumb/item/webp/{id}_1.jpg"


def parse_item(item: dict[str, Any]) -> dict[str, Any]:
    if item.get("status") != "ITEM_STATUS_ON_SALE" or item.get("isNoPrice"):
        raise NotForSale
    item_id = item["id"]
    shops = item.get("itemType") == "ITEM_TYPE_BEYOND"
    thumbnails = item.get("thumbnails") or []
    brand = item.get("itemBrand") or {}
    return {
        "external_id": item_id,
        "title": item.get("name") or item.get("title"),
        "price": int(item["price"]),
        "url": (SHOPS_URL if shops else ITEM_URL).format(id=item_id),
        "image_url": thumbnails[0]
        if thumbnails
        else ("" if shops else IMAGE_URL.format(id=item_id)),
        "brand": brand.get("name") or None,
        "listed_at": from_unix(item.get("created")),
    }


def parse(body: str | bytes) -> Page:
    data = json_results(CODE, body)
    next_token = (data.get("meta") or {}).get("nextPageToken") or None
    return parse_items(CODE, data["items"], parse_item, next_token)
