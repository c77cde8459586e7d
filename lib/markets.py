"""The market registry: every marketplace we know, defined once.

Each market has its code (stored on listings and filters), its label, its
colour in Discord embeds, and the URLs of an item and of a search on the site.
Every list of markets in the project (model choices, the bot's choices,
validation, the matching index's bits, the planner's markets) is built from
`MARKETS`. `demo` is a market listings may carry (the bundled demo) but not
one users can choose. Sources are what the scanner reads: the four
marketplaces plus `jsonfeed`, whose listings carry a market of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from django.db import models


@dataclass(frozen=True)
class MarketInfo:
    code: str
    label: str
    colour: int
    item_url: str  # format with id=
    search_url: str  # format with query= (already URL-quoted)
    choosable: bool = True  # offered to users in filters


MARKETS: tuple[MarketInfo, ...] = (
    MarketInfo(
        "mercari",
        "Mercari",
        0xFF0211,
        "https://jp.mercari.com/item/{id}",
        "https://jp.mercari.com/search?keyword={query}&sort=created_time&order=desc",
    ),
    MarketInfo(
        "yahoo_auctions",
        "Yahoo! Auctions",
        0xFF0033,
        "https://auctions.yahoo.co.jp/jp/auction/{id}",
        "https://auctions.yahoo.co.jp/search/search?p={query}&s1=new&o1=d",
    ),
    MarketInfo(
        "rakuma",
        "Rakuma",
        0xC11F3A,
        "https://item.fril.jp/{id}",
        "https://fril.jp/s?query={query}&sort=created_at&order=desc",
    ),
    MarketInfo(
        "paypay_fleamarket",
        "PayPay Fleamarket",
        0xFF0033,
        "https://paypayfleamarket.yahoo.co.jp/item/{id}",
        "https://paypayfleamarket.yahoo.co.jp/search/{query}?sort=openTime&order=desc",
    ),
    MarketInfo(
        "demo",
        "Demo",
        0x5865F2,
        "https://example.com/demo/{id}",
        "https://example.com/demo/search?q={query}",
        choosable=False,
    ),
)
BY_CODE: dict[str, MarketInfo] = {market.code: market for market in MARKETS}
#: The markets users may put in a filter, in display order.
CHOOSABLE: tuple[str, ...] = tuple(market.code for market in MARKETS if market.choosable)
#: What the scanner can read besides the marketplaces themselves.
EXTRA_SOURCES: dict[str, str] = {"jsonfeed": "JSON Lines feed"}


# The functional Enum API with members built from MARKETS: django-stubs types TextChoices(...)
# only as a single member's constructor, hence the two ignores.
Market = models.TextChoices(  # type: ignore[call-overload]
    "Market", [(m.code.upper(), (m.code, m.label)) for m in MARKETS]
)
Source = models.TextChoices(  # type: ignore[call-overload]
    "Source",
    [(m.code.upper(), (m.code, m.label)) for m in MARKETS]
    + [(code.upper(), (code, label)) for code, label in EXTRA_SOURCES.items()],
)


def market_label(code: str) -> str:
    """The market's name as people read it; an unknown code is shown as it is."""
    market = BY_CODE.get(code)
    return market.label if market else code


def market_colour(code: str) -> int:
    market = BY_CODE.get(code)
    return market.colour if market else 0x5865F2


def item_url(code: str, item_id: str) -> str:
    return BY_CODE[code].item_url.format(id=item_id)


def search_url(code: str, words: str) -> str:
    """The site's own newest-first search for `words`, for people to open."""
    return BY_CODE[code].search_url.format(query=quote(words))
