"""Fetch planning: the fewest search requests that cover every active filter, for all users at once.

Each filter needs, on each of its markets, the listings whose titles hold one
of its brands and all of its keywords. On a site whose search is "all words
must appear", that is one search per brand: `brand keyword keyword`. Searches
are then shared:
- the same words (in any order and case) on the same market are one search,
  whoever asked for them;
- a search whose words include all the words of another search on the same
  market finds nothing that the shorter one misses, so only the shorter one
  is made: `sacai` serves `sacai knit` and `sacai knit cardigan`;
- a shared search asks for the widest price range of the filters it serves.
Excluded words are never sent: another filter may want what one excludes, and
matching applies them exactly anyway.

When a market would need more searches than reading its newest-first feed
back to the last item already seen costs (`feed_cost`, per market), the plan
reads the feed instead: at many users, one feed beats thousands of searches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from filters.brands import BrandTable
from filters.models import Filter
from filters.text import normalize
from lib.markets import CHOOSABLE

MARKETS = list(CHOOSABLE)


@dataclass(frozen=True)
class Search:
    market: str
    words: tuple[str, ...]  # () = the market's newest-first feed
    price_min: int | None = None
    price_max: int | None = None

    @property
    def keyword(self) -> str:
        return " ".join(self.words)

    @property
    def is_feed(self) -> bool:
        return not self.words


@dataclass
class Plan:
    searches: list[Search] = field(default_factory=list)
    filters: int = 0  # active filters served
    wanted: int = 0  # searches the filters would need one by one

    def summary(self) -> str:
        return (
            f"{len(self.searches)} requests for {self.filters} filters "
            f"({self.wanted} searches if each filter were fetched on its own)"
        )


@dataclass
class _Need:
    words: frozenset[str]
    spelling: tuple[str, ...]
    price_min: int | None
    price_max: int | None


def filter_searches(found: Filter, brands: BrandTable) -> list[tuple[str, tuple[str, ...]]]:
    """(market, words) for each search one filter needs: a brand is searched under each of
    its spellings (`sacai` and `サカイ`), since titles use either."""
    keywords = tuple(found.keywords)
    spellings = [
        spelling for brand in found.brands for spelling in brands.spellings(brands.canonical(brand))
    ]
    phrases = [(spelling, *keywords) for spelling in spellings] or [keywords]
    markets = found.markets or MARKETS
    return [(market, phrase) for market in markets for phrase in phrases if phrase]


def _widen(need: _Need, price_min: int | None, price_max: int | None) -> None:
    """Make the search's price range cover another filter's (None is open)."""
    low, high = need.price_min, need.price_max
    need.price_min = None if low is None or price_min is None else min(low, price_min)
    need.price_max = None if high is None or price_max is None else max(high, price_max)


def plan_searches(
    filters: Iterable[Filter], brands: BrandTable, feed_cost: dict[str, int] | None = None
) -> Plan:
    plan = Plan()
    needs: dict[str, dict[frozenset[str], _Need]] = defaultdict(dict)
    for found in filters:
        plan.filters += 1
        for market, phrase in filter_searches(found, brands):
            plan.wanted += 1
            words = frozenset(normalize(word) for word in " ".join(phrase).split())
            need = needs[market].get(words)
            if need is None:
                needs[market][words] = _Need(words, phrase, found.price_min, found.price_max)
            else:
                _widen(need, found.price_min, found.price_max)
    for market in MARKETS:
        kept = _covering(needs[market].values())
        cost = (feed_cost or {}).get(market)
        if cost is not None and len(kept) > cost:
            plan.searches.append(Search(market, ()))
        else:
            plan.searches += [
                Search(market, n.spelling, n.price_min, n.price_max)
                for n in sorted(kept, key=lambda n: " ".join(n.spelling).lower())
            ]
    return plan


def _covering(needs: Iterable[_Need]) -> list[_Need]:
    """Drop every search whose words include another's; widen the survivor's price range."""
    kept: list[_Need] = []
    for need in sorted(needs, key=lambda n: len(n.words)):
        shorter = next((k for k in kept if k.words <= need.words), None)
        if shorter is None:
            kept.append(need)
        else:
            _widen(shorter, need.price_min, need.price_max)
    return kept
