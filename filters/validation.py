"""Checks and cleans filter input from any door into the stored form.

Lists may come as JSON lists or as comma-separated text (web forms, the bot).
Words are stored as typed with white space tidied, brands under their canonical
name when the brand table knows them; duplicates (by normalized form) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from alerts.formatting import format_price as yen
from filters.brands import BrandTable
from filters.errors import FieldError, ValidationFailed
from filters.text import normalize
from scraping.models import Market

MAX_NAME = 64
MAX_TERM = 64
MAX_TERMS = 20
MAX_PRICE = 100_000_000
FIELDS = ("name", "brands", "keywords", "exclude", "price_min", "price_max", "markets", "active")
_LIST_SEPARATORS = re.compile("[,、，]")
_PRICE_DECORATION = re.compile(r"[¥￥円,\s]")
_TERM_NOUNS = {
    "brands": ("brand", "brands"),
    "keywords": ("keyword", "keywords"),
    "exclude": ("excluded word", "excluded words"),
}


def _tidy(text: str) -> str:
    return " ".join(text.split())


def _as_items(field: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [part for part in _LIST_SEPARATORS.split(value) if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise FieldError(field, f"{field} must be a list of words or comma-separated text.")


def clean_terms(field: str, value: Any, brands: BrandTable | None = None) -> list[str]:
    singular, plural = _TERM_NOUNS[field]
    cleaned: list[str] = []
    seen: set[str] = set()
    for position, item in enumerate(_as_items(field, value), start=1):
        if not isinstance(item, str):
            raise FieldError(
                field, f"{singular.capitalize()} {position} must be text, not {item!r}."
            )
        text = _tidy(item)
        norm = normalize(text)
        if not norm:
            raise FieldError(field, f"{singular.capitalize()} {position} is empty.")
        if len(norm) > MAX_TERM:
            raise FieldError(
                field,
                f"“{text[:20]}…” is {len(norm)} characters long; keep each {singular} to {MAX_TERM}.",
            )
        if norm in seen:
            continue
        seen.add(norm)
        cleaned.append(brands.display_name(text) if brands is not None else text)
    if len(cleaned) > MAX_TERMS:
        raise FieldError(
            field, f"At most {MAX_TERMS} {plural} are allowed; you gave {len(cleaned)}."
        )
    return cleaned


def clean_price(field: str, value: Any) -> int | None:
    label = "minimum price" if field == "price_min" else "maximum price"
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise FieldError(field, f"The {label} must be a whole number of yen.")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        digits = _PRICE_DECORATION.sub("", value)
        if not digits:
            return None
        if digits.lstrip("-").isdigit():
            value = int(digits)
    if not isinstance(value, int):
        raise FieldError(field, f"The {label} must be a whole number of yen, not {value!r}.")
    if value < 0:
        raise FieldError(field, f"The {label} can't be negative.")
    if value > MAX_PRICE:
        raise FieldError(field, f"The {label} can be at most {yen(MAX_PRICE)}.")
    return value


def clean_markets(value: Any) -> list[str]:
    known = list(Market.values)
    chosen: set[str] = set()
    for item in _as_items("markets", value):
        code = _tidy(item).lower() if isinstance(item, str) else item
        if code not in known:
            raise FieldError(
                "markets", f"{code!r} is not a market we scan; choose from {', '.join(known)}."
            )
        chosen.add(code)
    return [code for code in known if code in chosen]


def clean_name(value: Any) -> str:
    if not isinstance(value, str) or not _tidy(value):
        raise FieldError("name", "Give the filter a name.")
    name = _tidy(value)
    if len(name) > MAX_NAME:
        raise FieldError("name", f"The name is {len(name)} characters long; keep it to {MAX_NAME}.")
    return name


def clean_active(value: Any) -> bool:
    if not isinstance(value, bool):
        raise FieldError("active", "Active must be true or false.")
    return value


def clean_filter_fields(data: Mapping[str, Any], brands: BrandTable) -> dict[str, Any]:
    """Clean the fields present in `data`; every wrong field is reported, not just the first."""
    cleaners = {
        "name": clean_name,
        "brands": lambda v: clean_terms("brands", v, brands),
        "keywords": lambda v: clean_terms("keywords", v),
        "exclude": lambda v: clean_terms("exclude", v),
        "price_min": lambda v: clean_price("price_min", v),
        "price_max": lambda v: clean_price("price_max", v),
        "markets": clean_markets,
        "active": clean_active,
    }
    cleaned: dict[str, Any] = {}
    errors: list[FieldError] = []
    for key, value in data.items():
        cleaner = cleaners.get(key)
        if cleaner is None:
            errors.append(
                FieldError(key, f"“{key}” is not a filter field; use {', '.join(FIELDS)}.")
            )
            continue
        try:
            cleaned[key] = cleaner(value)
        except FieldError as error:
            errors.append(error)
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def check_whole_filter(values: Mapping[str, Any]) -> None:
    """Rules across fields, on the filter as it would be saved."""
    errors: list[FieldError] = []
    if not values.get("brands") and not values.get("keywords"):
        errors.append(
            FieldError(
                "brands",
                "Add at least one brand or keyword; a filter on nothing would match every listing.",
            )
        )
    low, high = values.get("price_min"), values.get("price_max")
    if low is not None and high is not None and low > high:
        errors.append(
            FieldError(
                "price_min", f"The minimum price ({yen(low)}) is above the maximum ({yen(high)})."
            )
        )
    if errors:
        raise ValidationFailed(errors)
