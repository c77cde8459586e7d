"""How prices and markets read, wherever they are shown (alerts, filters, validation messages)."""

from __future__ import annotations

from lib.markets import market_label


def format_price(amount: int) -> str:
    return f"¥{amount:,}"


def price_range(low: int | None, high: int | None) -> str:
    """A filter's price bounds in words: `¥5,000 – ¥30,000`, `from ¥5,000`, `any price`."""
    if low is not None and high is not None:
        return f"{format_price(low)} – {format_price(high)}"
    if low is not None:
        return f"from {format_price(low)}"
    if high is not None:
        return f"up to {format_price(high)}"
    return "any price"


def markets_label(codes: list[str]) -> str:
    return ", ".join(market_label(code) for code in codes) or "All markets"


__all__ = ["format_price", "market_label", "markets_label", "price_range"]
