"""The compiled matching index: every active filter, matched against a listing at once.

One Aho-Corasick automaton holds every term the filters use (brand spellings,
keywords, excluded words). A listing's title is scanned once; the terms found
lead to the few groups of filters that can match it:

- filters with brands live in one group per canonical brand they name, reached
  when that brand is spelled in the title or is the listing's brand field;
- filters without brands live in the group of their rarest keyword, reached
  when that keyword occurs; those with only any-of words, in the group of each.

A brand spelling counts for the brand groups only where it is not a style
reference (`リックオウエンス風`); as a keyword it counts wherever it occurs.

Inside a group, filters are numpy columns, so price, market and the listing's
attributes are checked for all of them in a few vector operations (the market,
condition, category, sale and seller type as one bit mask), keywords by counting the group's
keyword postings that occurred, any-of words and sizes by their postings, excluded
words by clearing their postings. The rules are exactly those of filters/rules.py,
which tests hold it to.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick
import numpy as np

from filters.brands import BrandTable
from filters.rules import ListingLike
from filters.text import is_ascii_alnum, is_style_reference, normalize
from lib.markets import MARKETS
from lib.vocabulary import CHOICES, normalize_size

NO_MAXIMUM = np.iinfo(np.int64).max
MARKET_BITS = {market.code: 1 << position for position, market in enumerate(MARKETS)}
ALL_MARKETS = (1 << len(MARKET_BITS)) - 1


# The single-valued attributes (lib/vocabulary.py CHOICES), each a segment of one bit mask:
# a bit for "not stated", then one per value. A listing sets one bit in each segment; a
# filter allows it when its mask holds all of the listing's bits.
_ATTRIBUTE_BITS: dict[str, dict[str | None, int]] = {}
_offset = 0
for _choice in CHOICES:
    _ATTRIBUTE_BITS[_choice.listing_field] = {
        value: 1 << (_offset + position) for position, value in enumerate([None, *_choice.values])
    }
    _offset += len(_choice.values) + 1
# Markets and attributes share one int64 column (allowed_mask).
assert len(MARKET_BITS) + _offset < 63, "the markets and attribute values outgrew one mask"


def allowed_mask(f: IndexedFilter) -> int:
    """The markets and listing attribute values the filter allows, as one mask: the
    markets' bits, then the attributes' segments above them."""
    return market_mask(f.markets) | (attribute_mask(f) << len(MARKET_BITS))


def listing_mask(listing: ListingLike) -> int:
    """The listing's market and attribute values, one bit each, as allowed_mask lays them
    out; 0 for a market the index doesn't know (it matches no filter)."""
    market_bit = MARKET_BITS.get(listing.market, 0)
    return market_bit and market_bit | (listing_bits(listing) << len(MARKET_BITS))


# Every attribute value, stated or not: the mask of the many filters that constrain none.
_ANY_ATTRIBUTES = (1 << _offset) - 1


def attribute_mask(f: IndexedFilter) -> int:
    """The listing attribute values the filter allows; every value where it says nothing."""
    if not any(getattr(f, choice.filter_field) for choice in CHOICES):
        return _ANY_ATTRIBUTES
    mask = 0
    for choice in CHOICES:
        bits = _ATTRIBUTE_BITS[choice.listing_field]
        allowed = getattr(f, choice.filter_field)
        if not allowed:
            mask |= sum(bits.values())
            continue
        mask |= sum(bits.get(value, 0) for value in allowed if value is not None)
        if f.unknown_ok:
            mask |= bits[None]
    return mask


def listing_bits(listing: ListingLike) -> int:
    """The listing's value of each single-valued attribute, one bit each."""
    return sum(bits.get(getattr(listing, field), 0) for field, bits in _ATTRIBUTE_BITS.items())


def market_mask(markets: Iterable[str]) -> int:
    """The bits of a filter's markets: none listed is every market; unknown codes match nothing."""
    codes = set(markets)
    if not codes:
        return ALL_MARKETS
    return sum(MARKET_BITS.get(code, 0) for code in codes)


@dataclass(frozen=True)
class IndexedFilter:
    """What the index needs of a filter; `brands`, `keywords`, `exclude` as stored."""

    id: int
    owner_id: int
    brands: Sequence[str]
    keywords: Sequence[str]
    exclude: Sequence[str]
    price_min: int | None
    price_max: int | None
    markets: Sequence[str]
    keywords_any: Sequence[str] = ()
    conditions: Sequence[str] = ()
    sizes: Sequence[str] = ()
    categories: Sequence[str] = ()
    sale_types: Sequence[str] = ()
    seller_types: Sequence[str] = ()
    unknown_ok: bool = True


# A member of a group: its row, keyword terms, any-of terms and excluded terms.
_Member = tuple[int, list[int], list[int], list[int]]


class _Group:
    """Filters reached through one brand or one anchor keyword, as parallel columns."""

    __slots__ = (
        "allowed",
        "any_postings",
        "excluded",
        "filter_rows",
        "has_any",
        "has_sizes",
        "keyword_count",
        "needs_any",
        "needs_size",
        "postings",
        "price_max",
        "price_min",
        "size",
        "size_postings",
        "sizeless_ok",
        "without_keywords",
    )

    def __init__(self, members: list[_Member], columns: _Columns) -> None:
        rows = np.fromiter((m[0] for m in members), dtype=np.int64, count=len(members))
        self.size = len(members)
        self.filter_rows = rows
        self.price_min = columns.price_min[rows]
        self.price_max = columns.price_max[rows]
        self.allowed = columns.allowed[rows]
        self.needs_size = columns.needs_size[rows]
        # A listing that states no size passes a filter on sizes only with unknown_ok.
        self.sizeless_ok = ~self.needs_size | columns.unknown_ok[rows]
        self.keyword_count = np.array([len(m[1]) for m in members], dtype=np.int64)
        self.without_keywords = self.keyword_count == 0
        self.needs_any = np.array([bool(m[2]) for m in members], dtype=bool)
        # Most groups have no filter on any-of words or sizes: their checks are skipped.
        self.has_any = bool(self.needs_any.any())
        self.has_sizes = bool(self.needs_size.any())
        self.postings = _postings((position, m[1]) for position, m in enumerate(members))
        self.any_postings = (
            _postings((position, m[2]) for position, m in enumerate(members))
            if self.has_any
            else {}
        )
        self.excluded = _postings((position, m[3]) for position, m in enumerate(members))
        self.size_postings = (
            _postings((position, columns.sizes[row]) for position, row in enumerate(rows.tolist()))
            if self.has_sizes
            else {}
        )

    def match(self, price: int, wanted: int, sizes: Sequence[str], terms: set[int]) -> np.ndarray:
        """`wanted`: the listing's listing_mask, every bit of which a filter must allow."""
        ok = self.price_min <= price
        ok &= self.price_max >= price
        ok &= (self.allowed & wanted) == wanted
        hits = [self.postings[t] for t in terms if t in self.postings]
        if hits:
            counts = np.bincount(np.concatenate(hits), minlength=self.size)
            ok &= counts == self.keyword_count
        else:
            ok &= self.without_keywords
        if self.has_any:
            ok &= ~self.needs_any | self._any_of(self.any_postings, terms)
        if self.has_sizes:
            if sizes:
                ok &= ~self.needs_size | self._any_of(self.size_postings, sizes)
            else:
                ok &= self.sizeless_ok
        for term in terms:
            cleared = self.excluded.get(term)
            if cleared is not None:
                ok[cleared] = False
        return self.filter_rows[ok]

    def _any_of(self, postings: dict, keys: Iterable) -> np.ndarray | bool:
        """Which members have at least one of `keys` among these postings (False for none,
        without building an array: the usual case)."""
        hits = [postings[key] for key in keys if key in postings]
        if not hits:
            return False
        found = np.zeros(self.size, dtype=bool)
        for positions in hits:
            found[positions] = True
        return found


def _postings(members: Iterable[tuple[int, Iterable]]) -> dict:
    """{key: positions of the members holding it} from (position, keys) pairs."""
    postings: dict = defaultdict(list)
    for position, keys in members:
        for key in keys:
            postings[key].append(position)
    return {key: np.array(p, dtype=np.int64) for key, p in postings.items()}


@dataclass
class _Columns:
    price_min: np.ndarray
    price_max: np.ndarray
    allowed: np.ndarray
    needs_size: np.ndarray
    unknown_ok: np.ndarray
    #: Each filter's sizes in their one written form (a list per row, not a numpy column).
    sizes: list[list[str]]


class MatchResults:
    """What every index answers, given `matched()`: the filter ids and owners matching a listing."""

    def matched(self, listing: ListingLike) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def match(self, listing: ListingLike) -> list[int]:
        """Ids of the filters the listing matches."""
        return self.matched(listing)[0].tolist()

    def match_by_owner(self, listing: ListingLike) -> dict[int, list[int]]:
        """The matched filters' ids grouped by their owner: {user id: [filter id, …]}."""
        filter_ids, owner_ids = self.matched(listing)
        by_owner: dict[int, list[int]] = {}
        for filter_id, owner in zip(filter_ids.tolist(), owner_ids.tolist(), strict=True):
            by_owner.setdefault(owner, []).append(filter_id)
        return by_owner


class FilterIndex(MatchResults):
    """All matchable filters compiled for bulk matching. Build once, match many."""

    def __init__(
        self, filters: Iterable[IndexedFilter], brands: BrandTable, version: object = None
    ) -> None:
        """`version` is the stamp of the data the filters were read at (see filters/matching.py)."""
        self.version = version
        self.brands = brands
        filters = list(filters)
        self.filter_ids = np.array([f.id for f in filters], dtype=np.int64)
        self.owner_ids = np.array([f.owner_id for f in filters], dtype=np.int64)
        columns = _Columns(
            price_min=np.array([f.price_min or 0 for f in filters], dtype=np.int64),
            price_max=np.array(
                [NO_MAXIMUM if f.price_max is None else f.price_max for f in filters],
                dtype=np.int64,
            ),
            allowed=np.array([allowed_mask(f) for f in filters], dtype=np.int64),
            needs_size=np.array([bool(f.sizes) for f in filters], dtype=bool),
            unknown_ok=np.array([f.unknown_ok for f in filters], dtype=bool),
            sizes=[
                sorted({normalize_size(size) for size in f.sizes} - {""}) if f.sizes else []
                for f in filters
            ],
        )

        self._term_ids: dict[str, int] = {}
        brand_of_term: dict[int, set[str]] = defaultdict(set)
        keyword_sets: list[list[int]] = []
        any_sets: list[list[int]] = []
        exclude_sets: list[list[int]] = []
        brand_keys: list[list[str]] = []
        for f in filters:
            keyword_sets.append(self._terms(f.keywords))
            any_sets.append(self._terms(f.keywords_any))
            exclude_sets.append(self._terms(f.exclude))
            keys = sorted({brands.canonical(b) for b in f.brands} - {""})
            brand_keys.append(keys)
            for key in keys:
                for spelling in brands.spellings(key):
                    brand_of_term[self._term(spelling)].add(key)

        # Anchor brandless filters on their rarest keyword, so common words such as
        # "jacket" do not pull every brandless filter into every listing.
        keyword_popularity = Counter(t for terms in keyword_sets for t in terms)
        brand_members: dict[str, list] = defaultdict(list)
        anchor_members: dict[int, list] = defaultdict(list)
        for row, keys in enumerate(brand_keys):
            member = (row, keyword_sets[row], any_sets[row], exclude_sets[row])
            if keys:
                for key in keys:
                    brand_members[key].append(member)
            elif keyword_sets[row]:
                anchor = min(keyword_sets[row], key=lambda t: (keyword_popularity[t], t))
                anchor_members[anchor].append(member)
            else:
                # Only any-of words: reached through each of them.
                for any_term in any_sets[row]:
                    anchor_members[any_term].append(member)
            # A filter with no brand, keyword or any-of word matches nothing (filters/rules.py).
        self._brand_groups = {key: _Group(m, columns) for key, m in brand_members.items()}
        self._anchor_groups = {term: _Group(m, columns) for term, m in anchor_members.items()}

        self._automaton = ahocorasick.Automaton()
        for term, term_id in self._term_ids.items():
            self._automaton.add_word(
                term, (term_id, len(term), is_ascii_alnum(term[0]), is_ascii_alnum(term[-1]))
            )
        if self._term_ids:
            self._automaton.make_automaton()
        self._brand_of_term = {t: tuple(keys) for t, keys in brand_of_term.items()}

    def __len__(self) -> int:
        return len(self.filter_ids)

    def _term(self, term: str) -> int:
        return self._term_ids.setdefault(term, len(self._term_ids))

    def _terms(self, words: Sequence[str]) -> list[int]:
        """Term ids of words; a word that normalizes to nothing can never occur."""
        if not words:
            return []
        return sorted({self._term(norm) for norm in map(normalize, words) if norm})

    def terms_in(self, title: str) -> tuple[set[int], set[int]]:
        """Ids of the indexed terms that occur in a normalized title, and of the brand
        spellings among them that occur at least once not as a style reference (what
        brands count)."""
        found: set[int] = set()
        as_brand: set[int] = set()
        if not self._term_ids:
            return found, as_brand
        last = len(title) - 1
        spellings = self._brand_of_term
        for end, (term_id, length, starts_alnum, ends_alnum) in self._automaton.iter(title):
            # A later occurrence matters only for a spelling not yet seen as the brand.
            if term_id in found and (term_id in as_brand or term_id not in spellings):
                continue
            start = end - length + 1
            if starts_alnum and start > 0 and is_ascii_alnum(title[start - 1]):
                continue
            if ends_alnum and end < last and is_ascii_alnum(title[end + 1]):
                continue
            found.add(term_id)
            if term_id in spellings and not is_style_reference(title, end + 1):
                as_brand.add(term_id)
        return found, as_brand

    def match_rows(self, listing: ListingLike) -> np.ndarray:
        """Rows (positions in this index) of the filters the listing matches."""
        terms, as_brand = self.terms_in(normalize(listing.title))
        groups: list[_Group] = []
        brand_keys = {key for t in as_brand for key in self._brand_of_term.get(t, ())}
        if listing.brand:
            brand_keys.add(self.brands.canonical(listing.brand))
        groups.extend(self._brand_groups[k] for k in brand_keys if k in self._brand_groups)
        groups.extend(self._anchor_groups[t] for t in terms if t in self._anchor_groups)
        wanted = listing_mask(listing)
        if not groups or not wanted:
            return np.empty(0, dtype=np.int64)
        sizes = listing.sizes
        found = [group.match(listing.price, wanted, sizes, terms) for group in groups]
        if len(found) == 1:
            return found[0]
        # A filter naming two brands that both appear is reached twice.
        return np.unique(np.concatenate(found))

    def matched(self, listing: ListingLike) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the filters the listing matches, and their owners' ids."""
        rows = self.match_rows(listing)
        return self.filter_ids[rows], self.owner_ids[rows]


class PatchedIndex(MatchResults):
    """A base index with some of its filters switched off and an overlay of changed ones.

    Changing one filter then costs a small overlay, not a rebuild of every filter.
    A filter edited since the base was built is stale in the base and current in
    the overlay; a deleted, paused or banned one is only stale.
    """

    def __init__(
        self, base: FilterIndex, stale_ids: set[int], overlay: FilterIndex, version: object = None
    ) -> None:
        self.version = version
        self.base = base
        self.overlay = overlay
        self.alive = ~np.isin(
            base.filter_ids, np.fromiter(stale_ids, dtype=np.int64, count=len(stale_ids))
        )

    def __len__(self) -> int:
        return int(self.alive.sum()) + len(self.overlay)

    def matched(self, listing: ListingLike) -> tuple[np.ndarray, np.ndarray]:
        rows = self.base.match_rows(listing)
        rows = rows[self.alive[rows]]
        extra = self.overlay.match_rows(listing)
        return (
            np.concatenate([self.base.filter_ids[rows], self.overlay.filter_ids[extra]]),
            np.concatenate([self.base.owner_ids[rows], self.overlay.owner_ids[extra]]),
        )
