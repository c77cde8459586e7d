"""A listing as it arrives from any source, checked field by field before it is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils.dateparse import parse_datetime

from filters.errors import FieldError, ValidationFailed
from scraping.models import Market

REQUIRED = ("market", "external_id", "title", "price", "url")
KNOWN = (*REQUIRED, "brand", "currency", "image_url", "listed_at")


@dataclass(frozen=True)
class ListingRecord:
    market: str
    external_id: str
    title: str
    price: int
    url: str
    brand: str | None = None
    currency: str = "JPY"
    image_url: str = ""
    listed_at: datetime | None = None


def _text(data: dict[str, Any], key: str, limit: int, required: bool) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(key, "is missing" if value is None else "is empty")
        return None
    if not isinstance(value, str):
        raise FieldError(key, f"must be text, not {value!r}")
    value = " ".join(value.split())
    if len(value) > limit:
        raise FieldError(key, f"is {len(value)} characters long; at most {limit} are allowed")
    return value


def _url(data: dict[str, Any], key: str, required: bool) -> str:
    value = _text(data, key, 1000, required)
    if value is None:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise FieldError(key, f"must be an absolute http(s) URL, not {value!r}")
    return value


def parse_listing(data: dict[str, Any]) -> ListingRecord:
    """Check one listing object; every wrong field is reported together."""
    errors: list[FieldError] = []

    def check(fn, *args):
        try:
            return fn(*args)
        except FieldError as error:
            errors.append(error)
            return None

    for key in data:
        if key not in KNOWN:
            errors.append(FieldError(key, f"is not a listing field; use {', '.join(KNOWN)}"))
    market = check(_text, data, "market", 32, True)
    if market is not None and market not in Market.values:
        errors.append(
            FieldError("market", f"{market!r} is not a known market ({', '.join(Market.values)})")
        )
    external_id = check(_text, data, "external_id", 128, True)
    title = check(_text, data, "title", 500, True)
    brand = check(_text, data, "brand", 200, False)
    price = data.get("price")
    if isinstance(price, float) and price.is_integer():
        price = int(price)
    if price is None:
        errors.append(FieldError("price", "is missing"))
    elif isinstance(price, bool) or not isinstance(price, int) or price < 0:
        errors.append(FieldError("price", f"must be a whole number of yen, not {price!r}"))
    currency = data.get("currency", "JPY") or "JPY"
    if currency != "JPY":
        errors.append(FieldError("currency", f"must be JPY, not {currency!r}"))
    url = check(_url, data, "url", True)
    image_url = check(_url, data, "image_url", False)
    listed_at = data.get("listed_at")
    if listed_at is not None:
        parsed = parse_datetime(listed_at) if isinstance(listed_at, str) else None
        if parsed is None or parsed.tzinfo is None:
            errors.append(
                FieldError(
                    "listed_at", f"must be an ISO 8601 time with a time zone, not {listed_at!r}"
                )
            )
        listed_at = parsed
    if errors:
        raise ValidationFailed(errors)
    return ListingRecord(
        market=market,
        external_id=external_id,
        title=title,
        brand=brand,
        price=price,
        currency=currency,
        url=url,
        image_url=image_url or "",
        listed_at=listed_at,
    )
