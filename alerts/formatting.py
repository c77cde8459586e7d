"""How prices and markets read, wherever they are shown (alerts, validation messages)."""

from __future__ import annotations

from scraping.models import Market


def format_price(amount: int) -> str:
    return f"¥{amount:,}"


def market_label(code: str) -> str:
    try:
        return Market(code).label
    except ValueError:
        return code
