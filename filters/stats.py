"""Brand popularity for the staff dashboard: which brands the most people follow.

A query helper that would sit on FilterQuerySet; it is its own module beside the models
because it needs the brand table too. Filters keep their brands as a JSON list of names,
so the counting is done in Python (the same on SQLite and PostgreSQL), each spelling
folded into its canonical brand.
"""

from __future__ import annotations

from dataclasses import dataclass

from filters.brands import BrandTable
from filters.models import Filter


@dataclass(frozen=True)
class FollowedBrand:
    name: str
    users: int
    filters: int


def most_followed_brands(limit: int = 15) -> list[FollowedBrand]:
    """The brands in the most users' matchable filters (active, owner not banned)."""
    table = BrandTable.load()
    users: dict[str, set[int]] = {}
    filters: dict[str, int] = {}
    names: dict[str, str] = {}
    rows = Filter.objects.matchable().order_by().values_list("owner_id", "brands")
    for owner_id, brands in rows.iterator():
        # A filter naming a brand twice (two spellings) counts once for it.
        for canonical, written in {table.canonical(brand): brand for brand in brands or []}.items():
            if not canonical:
                continue
            users.setdefault(canonical, set()).add(owner_id)
            filters[canonical] = filters.get(canonical, 0) + 1
            names.setdefault(canonical, table.display_name(written))
    ranked = sorted(users, key=lambda key: (-len(users[key]), -filters[key], names[key].lower()))
    return [FollowedBrand(names[key], len(users[key]), filters[key]) for key in ranked[:limit]]
