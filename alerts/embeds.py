"""How alerts and filters look on Discord: alert embeds, filter embeds and list lines.

Lengths are counted in UTF-16 code units, which is never less than the count in
characters, so titles full of emoji cannot push a message over Discord's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lib.formatting import format_price, market_label, markets_label, price_range
from lib.markets import market_colour

TITLE_LIMIT = 256
FIELD_VALUE_LIMIT = 1024


def discord_len(text: str) -> int:
    """Length as Discord's limits count it, conservatively: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def shorten(text: str, limit: int) -> str:
    """Fit `text` in `limit`, cut at a space when one is near, ending with an ellipsis."""
    if discord_len(text) <= limit:
        return text
    used = end = 0
    for position, char in enumerate(text):
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > limit - 1:
            break
        used, end = used + width, position + 1
    cut = text[:end]
    space = cut.rfind(" ")
    if space >= len(cut) * 0.7:
        cut = cut[:space]
    return cut.rstrip() + "…"


@dataclass(frozen=True)
class AlertView:
    """What an alert embed shows; built from an Alert or, for previews, from a listing."""

    title: str
    url: str
    price: int
    market: str
    image_url: str = ""
    filter_names: Sequence[str] = ()
    mention_user_id: str | None = None

    @classmethod
    def of(cls, alert, mention: bool) -> AlertView:
        listing = alert.listing
        return cls(
            title=listing.title,
            url=listing.url,
            price=listing.price,
            market=listing.market,
            image_url=listing.image_url,
            filter_names=tuple(getattr(alert, "filter_names", ())),
            mention_user_id=alert.user.discord_id if mention else None,
        )


def alert_embed(view: AlertView) -> dict:
    description = f"**{format_price(view.price)}** · {market_label(view.market)}"
    if view.mention_user_id:
        description = f"<@{view.mention_user_id}> · {description}"
    embed: dict = {
        "title": shorten(view.title, TITLE_LIMIT),
        "url": view.url,
        "description": description,
        "color": market_colour(view.market),
    }
    if view.filter_names:
        label = "Filter" if len(view.filter_names) == 1 else "Filters"
        embed["fields"] = [
            {
                "name": label,
                "value": shorten(", ".join(view.filter_names), FIELD_VALUE_LIMIT),
                "inline": True,
            }
        ]
    if view.image_url:
        embed["thumbnail"] = {"url": view.image_url}
    return embed


def embed_size(embed: dict) -> int:
    """The characters an embed adds to a message's 6,000-character budget."""
    size = discord_len(embed.get("title", "")) + discord_len(embed.get("description", ""))
    size += sum(discord_len(f["name"]) + discord_len(f["value"]) for f in embed.get("fields", []))
    size += discord_len((embed.get("footer") or {}).get("text", ""))
    return size + discord_len((embed.get("author") or {}).get("name", ""))


def filter_embed(found, alert_count: int) -> dict:
    """How `/filter show` presents a filter: the same module and style as the alerts it brings."""
    fields = [
        ("Brands", ", ".join(found.brands) or "Any brand"),
        ("Keywords", ", ".join(found.keywords) or "—"),
        ("Excluded words", ", ".join(found.exclude) or "—"),
        ("Price", price_range(found.price_min, found.price_max)),
        ("Markets", markets_label(found.markets)),
        ("Alerts so far", f"{alert_count:,}"),
    ]
    state = "Active" if found.active else "Paused"
    return {
        "title": shorten(found.name, TITLE_LIMIT),
        "description": state,
        "color": 0x57F287 if found.active else 0x99AAB5,
        "fields": [
            {"name": name, "value": shorten(value, FIELD_VALUE_LIMIT), "inline": True}
            for name, value in fields
        ],
    }


def filter_line(found, alert_count: int) -> str:
    """One filter in `/filter list`: state, name, what it looks for, alerts so far."""
    parts = [", ".join(found.brands) or "any brand"]
    if found.keywords:
        parts.append(" + ".join(found.keywords))
    if found.exclude:
        parts.append("not " + ", ".join(found.exclude))
    if found.price_min is not None or found.price_max is not None:
        parts.append(price_range(found.price_min, found.price_max))
    if found.markets:
        parts.append(markets_label(found.markets))
    state = "🟢" if found.active else "⏸️"
    return f"{state} **{found.name}** · {' · '.join(parts)} · {alert_count:,} alerts"
