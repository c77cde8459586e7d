"""The brand table as matching sees it: every spelling resolved to one canonical brand."""

from __future__ import annotations

from dataclasses import dataclass, field

from filters.models import Brand
from filters.text import normalize


@dataclass
class BrandTable:
    """Maps a normalized spelling to its canonical key, and a key to all its spellings.

    The canonical key is the normalized canonical name. A brand missing from the
    table is its own canonical brand with one spelling.
    """

    canonical_of: dict[str, str] = field(default_factory=dict)
    spellings_of: dict[str, list[str]] = field(default_factory=dict)
    display_name_of: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: list[tuple[str, list[str]]]) -> BrandTable:
        """Build from (canonical name, [aliases]) pairs."""
        table = cls()
        for name, aliases in rows:
            key = normalize(name)
            table.display_name_of[key] = name
            spellings = table.spellings_of.setdefault(key, [])
            for spelling in [name, *aliases]:
                norm = normalize(spelling)
                if norm and norm not in spellings:
                    spellings.append(norm)
                table.canonical_of.setdefault(norm, key)
        return table

    @classmethod
    def load(cls) -> BrandTable:
        rows = [
            (brand.name, [alias.alias for alias in brand.aliases.all()])
            for brand in Brand.objects.prefetch_related("aliases")
        ]
        return cls.from_rows(rows)

    def canonical(self, brand: str) -> str:
        """The canonical key of any spelling of a brand, normalized or not."""
        norm = normalize(brand)
        return self.canonical_of.get(norm, norm)

    def spellings(self, key: str) -> list[str]:
        return self.spellings_of.get(key, [key])

    def display_name(self, brand: str) -> str:
        """How a filter stores a brand: the canonical name when known, else as typed."""
        return self.display_name_of.get(self.canonical(brand), brand)
