"""The yen price bounds shared by every door: listings from the markets and filters' bounds."""

from __future__ import annotations

#: ¥100,000,000: above any second-hand garment, and far inside a 64-bit column.
MAX_PRICE = 100_000_000
