"""The demo source: replays the bundled listings, a few at a time, as if newly listed.

Each call takes the next listings from `scraping/demo/listings.jsonl`; after the
last one it starts over with fresh ids (`demo-0001~2`), so the demo never runs dry.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.utils import timezone

from lib.markets import Market
from listings.models import Listing
from listings.records import ListingRecord, parse_listing

DEMO_FILE = Path(__file__).resolve().parent.parent / "demo" / "listings.jsonl"


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
        records.append(parse_listing(data))
    return records
