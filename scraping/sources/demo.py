"""The demo source: replays the bundled listings, a few at a time, as if newly listed.

Each call takes the next listings from `scraping/demo/listings.jsonl`; after the
last one it starts over with fresh ids (`demo-0001~2`), so the demo never runs dry.
Each listing's picture is one of the project's own (static/img/demo/, by what its
title says it is), so the demo needs no network and tells no outside service who
looks at it.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from filters.text import normalize
from lib.markets import Market
from listings.models import Listing
from listings.records import ListingRecord, parse_listing

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "listings.jsonl"
# The bundled pictures, each with the words (normalized) that name its kind of item; a title
# gets the first kind in this order whose word it holds ("Tシャツ" is a tee before a shirt),
# and "other" when it holds none.
PICTURES = (
    ("tee", ("tシャツ", "t-shirt", "tee", "カットソー")),
    ("hoodie", ("パーカー", "フーディ", "hoodie", "スウェット")),
    (
        "shoes",
        (
            "スニーカー",
            "ブーツ",
            "シューズ",
            "ローファー",
            "サンダル",
            "チャックテイラー",
            "ワッフル",
            "ジオバスケット",
            "sneaker",
            "boots",
        ),
    ),
    ("bag", ("バッグ", "バックパック", "財布", "トート", "ウォレット", "bag", "wallet")),
    ("coat", ("コート", "ローブ", "coat")),
    (
        "jacket",
        ("ジャケット", "ブルゾン", "ボンバー", "ライダース", "革ジャン", "ブレーカー", "jacket"),
    ),
    ("knit", ("ニット", "セーター", "カーディガン", "knit", "sweater", "cardigan")),
    ("shirt", ("シャツ", "ブラウス", "トップス", "ワンピース", "ドレス", "shirt", "dress")),
    ("pants", ("パンツ", "デニム", "ジーンズ", "スカート", "pants", "jeans", "skirt")),
)


def demo_picture(title: str) -> str:
    """The URL of the bundled picture for a demo listing, served by this site."""
    words = normalize(title)
    kind = next((kind for kind, names in PICTURES if any(name in words for name in names)), "other")
    return f"{settings.SITE_URL}/{settings.STATIC_URL.strip('/')}/img/demo/{kind}.svg"


@cache
def bundled_listings() -> tuple[dict, ...]:
    with open(DEMO_FILE, encoding="utf-8") as handle:
        return tuple(json.loads(line) for line in handle if line.strip())


def next_demo_listings(count: int) -> list[ListingRecord]:
    """The next `count` demo listings after those already stored, stamped as listed now."""
    bundle = bundled_listings()
    start = Listing.objects.filter(market=Market.DEMO).count()
    now = timezone.now().isoformat()
    records = []
    for position in range(start, start + count):
        data = dict(bundle[position % len(bundle)])
        replay = position // len(bundle)
        if replay:
            data["external_id"] = f"{data['external_id']}~{replay + 1}"
        data["listed_at"] = now
        data["image_url"] = data.get("image_url") or demo_picture(data["title"])
        records.append(parse_listing(data))
    return records
