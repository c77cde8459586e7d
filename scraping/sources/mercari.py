"""Mercari Japan: the newest listings from the web search API (`POST api.mercari.jp/v2/entities:search`).

Parsing is tested on real responses recorded by the mercapi project in
2022-2024 (tests/fixtures/marketplaces/mercari/, see ../shared/fixtures). A
newer recording (postalservice-python, 2024-10, with a Shops item) is named
in ../shared/fixtures/marketplaces/real/README.md but was missing from that
folder, so it was not tested against; the real-page test reads it when it is
there. No recording we hold has a Mercari Shops item (`ITEM_TYPE_BEYOND`,
22-character ids, URL `/shops/product/{id}`) or an auction; those are read
from the documented format, with a fixture built from it. An auction whose bid deadline has
passed is skipped. Numbers arrive as strings; `created` is Unix seconds and is not
monotonic in a newest-first search, so items are told apart by id only.
Sold and trading items, and "no price" items, are skipped.

We read the response ourselves rather than depending on `mercapi`: parsing is
twenty lines, and the fetch path (DPoP signing, politeness, retries) has to be
ours anyway to share one rate limit and circuit breaker with the other sources.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from datetime import datetime
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


def parse_item(item: dict[str, Any], now: float) -> dict[str, Any]:
    if item.get("status") != "ITEM_STATUS_ON_SALE" or item.get("isNoPrice"):
        raise NotForSale
    deadline = (item.get("auction") or {}).get("bidDeadline")
    if deadline and _when(deadline) <= now:
        raise NotForSale  # an auction whose bidding has closed
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
