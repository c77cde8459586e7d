"""A listing as it arrives from any source, checked field by field before it is stored.

The fields past the required ones are optional, and a missing one is unknown (null):
sources store what a record says. Guessing an attribute from the title is a
marketplace parser's job, done before its record gets here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils.dateparse import parse_datetime

from lib.errors import FieldError, ValidationFailed
from lib.formatting import format_price
from lib.markets import Market
from lib.prices import MAX_PRICE
from lib.text import describe_character, forbidden_character, is_invisible
from lib.vocabulary import CHOICES, MAX_SIZE_LENGTH, MAX_SIZES, Choice, normalize_size

REQUIRED = ("market", "external_id", "title", "price", "url")
ATTRIBUTES = (
    "condition",
    "sizes",
    "category",
    "sale_type",
    "seller_type",
    "seller_id",
    "ends_at",
    "bids",
    "buy_now_price",
    "shipping_included",
)
KNOWN = (*REQUIRED, "brand", "currency", "image_url", "listed_at", *ATTRIBUTES)


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
    condition: str | None = None
    #: Normalized size labels (lib.vocabulary.normalize_size); empty: not stated.
    sizes: tuple[str, ...] = ()
    category: str | None = None
    sale_type: str | None = None
    seller_type: str | None = None
    seller_id: str | None = None
    #: An auction's end, its bids and buy-now price; None where not an auction or unknown.
    ends_at: datetime | None = None
    bids: int | None = None
    buy_now_price: int | None = None
    shipping_included: bool | None = None


def shown(value: Any) -> str:
    """A value as a short quote for a message: JSON words for JSON types, long text cut."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, int) and value.bit_length() > 64:
        return (
            f"a {len(str(abs(value)))}-digit number"
            if value.bit_length() < 10_000
            else "a huge number"
        )
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _text(data: dict[str, Any], key: str, limit: int, required: bool) -> str | None:
    """Text with its white space folded (tabs and line breaks become single spaces).

    Other control characters are refused rather than cleaned: they are not in a
    marketplace's titles by accident, and a terminal or Discord would act on them.
    Text made only of invisible characters (U+200B, U+2060, …) counts as empty.
    """
    value = data.get(key)
    if value is None:
        if required:
            raise FieldError(key, "is missing")
        return None
    if not isinstance(value, str):
        raise FieldError(key, f"must be text, not {shown(value)}")
    bad = forbidden_character(value)
    if bad:
        position, char = bad
        what = "a lone surrogate" if "\ud800" <= char <= "\udfff" else "a control character"
        raise FieldError(
            key, f"contains {what} ({describe_character(char)}) at character {position}"
        )
    if is_invisible(value):
        if required:
            raise FieldError(
                key,
                "is empty" if not value.strip() else "is empty: it has only invisible characters",
            )
        return None
    value = " ".join(value.split())
    if len(value) > limit:
        raise FieldError(key, f"is {len(value):,} characters long; at most {limit:,} are allowed")
    return value


def _url(data: dict[str, Any], key: str, required: bool) -> str:
    value = _text(data, key, 1000, required)
    if value is None:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise FieldError(key, f"must be an absolute http(s) URL, not {shown(value)}")
    return value


def _whole(key: str, value: Any) -> int:
    """A whole number (a whole float too), not negative."""
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        noun = "a whole number" if key == "bids" else "a whole number of yen"
        raise FieldError(key, f"must be {noun}, not {shown(value)}")
    if value < 0:
        raise FieldError(key, f"can't be negative ({shown(value)})")
    return int(value)


def _price(key: str, value: Any, required: bool = True) -> int | None:
    if value is None:
        if required:
            raise FieldError(key, "is missing")
        return None
    amount = _whole(key, value)
    if amount > MAX_PRICE:
        written = format_price(amount) if amount < 2**63 else shown(value)
        raise FieldError(
            key, f"is {written}; a listing's price can be at most {format_price(MAX_PRICE)}"
        )
    return amount


def _bids(value: Any) -> int | None:
    if value is None:
        return None
    count = _whole("bids", value)
    if count > 1_000_000:
        raise FieldError("bids", f"is {count:,}; at most 1,000,000 bids are believable")
    return count


def _time(key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    wrong = FieldError(key, f"must be an ISO 8601 time with a time zone, not {shown(value)}")
    if not isinstance(value, str):
        raise wrong
    try:
        parsed = parse_datetime(value)
    except ValueError as error:  # well formed but not a real time: February 30th, hour 25
        raise FieldError(key, f"{shown(value)} is not a real time ({error})") from None
    if parsed is None or parsed.tzinfo is None:
        raise wrong
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is in the year 10000 in UTC
        raise FieldError(key, f"{shown(value)} is out of range") from None


def _choice(choice: Choice, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or value not in choice.values:
        raise FieldError(
            choice.listing_field,
            f"must be one of {', '.join(choice.values)} or null, not {shown(value)}",
        )
    return value


def _sizes(value: Any) -> tuple[str, ...]:
    """Size labels, normalized, each once, in the order given; null or [] when not stated."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise FieldError("sizes", f"must be a list of size labels, not {shown(value)}")
    if len(value) > MAX_SIZES:
        raise FieldError("sizes", f"has {len(value):,} labels; at most {MAX_SIZES} are allowed")
    sizes: list[str] = []
    for position, label in enumerate(value):
        where = f"sizes[{position}]"
        if not isinstance(label, str):
            raise FieldError(where, f"must be text, not {shown(label)}")
        if forbidden_character(label):
            raise FieldError(where, "contains a control character")
        size = normalize_size(label)
        if len(size) > MAX_SIZE_LENGTH:
            raise FieldError(
                where, f"is {len(size)} characters long; at most {MAX_SIZE_LENGTH} are allowed"
            )
        if size and size not in sizes:
            sizes.append(size)
    return tuple(sizes)


def _flag(key: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise FieldError(key, f"must be true, false or null, not {shown(value)}")


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
    price = check(_price, "price", data.get("price"))
    currency = data.get("currency", "JPY") or "JPY"
    if currency != "JPY":
        errors.append(FieldError("currency", f"must be JPY, not {shown(currency)}"))
    url = check(_url, data, "url", True)
    image_url = check(_url, data, "image_url", False)
    listed_at = check(_time, "listed_at", data.get("listed_at"))
    choices = {c.listing_field: check(_choice, c, data.get(c.listing_field)) for c in CHOICES}
    sizes = check(_sizes, data.get("sizes"))
    seller_id = check(_text, data, "seller_id", 128, False)
    ends_at = check(_time, "ends_at", data.get("ends_at"))
    bids = check(_bids, data.get("bids"))
    buy_now_price = check(_price, "buy_now_price", data.get("buy_now_price"), False)
    shipping_included = check(_flag, "shipping_included", data.get("shipping_included"))
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
        sizes=sizes or (),
        seller_id=seller_id,
        ends_at=ends_at,
        bids=bids,
        buy_now_price=buy_now_price,
        shipping_included=shipping_included,
        **choices,
    )
