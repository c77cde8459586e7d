"""How an alert reads: price, market and the short text shared by every transport."""

from __future__ import annotations

from scraping.models import Market

TITLE_LIMIT = 256


def format_price(amount: int) -> str:
    return f"¥{amount:,}"


def market_label(code: str) -> str:
    try:
        return Market(code).label
    except ValueError:
        return code


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary when one is near, with an ellipsis; never mid-surrogate."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 0.6:
        cut = cut[:space]
    return cut.rstrip() + "…"
