"""Small builders for test data: users, filters, listing records and JSON Lines files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from filters.brands import BrandTable
from filters.models import Filter
from filters.services import create_filter
from listings.records import ListingRecord
from users.models import User

_ids = itertools.count(1)


def make_user(username: str | None = None, **fields: Any) -> User:
    n = next(_ids)
    fields.setdefault("discord_id", str(900000000000000000 + n))
    return User.objects.create(username=username or f"user{n}", **fields)


def make_filter(owner: User, name: str | None = None, **data: Any) -> Filter:
    data.setdefault("keywords", ["jacket"] if not data.get("brands") else [])
    return create_filter(owner, {"name": name or f"filter {next(_ids)}", **data})


def listing(
    title: str, price: int = 10000, market: str = "mercari", brand: str | None = None, **extra: Any
) -> ListingRecord:
    external_id = extra.pop("external_id", f"m{next(_ids):011d}")
    return ListingRecord(
        market=market,
        external_id=external_id,
        title=title,
        price=price,
        brand=brand,
        url=extra.pop("url", f"https://jp.mercari.com/item/{external_id}"),
        **extra,
    )


def listing_json(title: str, **fields: Any) -> dict[str, Any]:
    record = listing(title, **fields)
    return {
        "market": record.market,
        "external_id": record.external_id,
        "title": record.title,
        "brand": record.brand,
        "price": record.price,
        "currency": "JPY",
        "url": record.url,
    }


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(row if isinstance(row, str) else json.dumps(row, ensure_ascii=False))
            handle.write("\n")
    return path


def shipped_brands() -> BrandTable:
    return BrandTable.load()
