"""The compiled index agrees with the plain rules on generated filters and listings, the
listings' attributes (stated or not), any-of words and style references included."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filters.index import FilterIndex, IndexedFilter
from filters.rules import FilterRule, filter_matches
from lib.markets import MARKETS as REGISTRY
from lib.vocabulary import CATEGORIES, CONDITIONS, SALE_TYPES, SELLER_TYPES
from tests.builders import listing, shipped_brands

pytestmark = pytest.mark.django_db

# Pieces chosen to hit every rule's edge: spellings in other scripts and widths,
# words that contain other words, digits next to letters, the middle dot.
BRAND_WORDS = [
    "Rick Owens",
    "リックオウエンス",
    "ﾘｯｸｵｳｴﾝｽ",
    "RICK OWENS",
    "CDG",
    "cdg",
    "コムデギャルソン",
    "COMME des GARÇONS",
    "comme des garcons",
    "margiela",
    "メゾンマルジェラ",
    "マルジェラ",
    "Number (N)ine",
    "number nine",
    "ナンバーナイン",
    "Sacai",
    "サカイ",
    "Kapital",
    "キャピタル",
    "Indie Label",
    "ヨウジ・ヤマモト",
    "Yohji Yamamoto",
]
OTHER_WORDS = [
    "coat",
    "coated",
    "raincoat",
    "コート",
    "ロングコート",
    "jacket",
    "ジャケット",
    "42",
    "420",
    "n1",
    "abcdg",
    "kids",
    "kidskin",
    "風",
    "ジャンク",
    "boots",
    "ブーツ",
    "ＣＯＡＴ",
    "Coat",
    "AW",
    "・",  # normalizes to nothing: ignored by both matchers
    # After a brand, these make it a style reference ("like new" does not).
    "系",
    "ライク",
    "style",
    "like",
    "like new",
    "likes",
]
SEPARATORS = ["", " ", "  ", "・", "-", "　", "/"]
MARKETS = [market.code for market in REGISTRY]
# Codes a filter may still hold after a market is retired: they match nothing, in both matchers.
FILTER_MARKETS = [*MARKETS, "vinted", "MERCARI"]

words = st.sampled_from(BRAND_WORDS + OTHER_WORDS)
prices = st.one_of(st.none(), st.integers(0, 60000))
# Sizes as filters and listings write them: two spellings of one size compare equal.
FILTER_SIZES = ["M", "m", "Ｍ", "L", "48", "27cm", "27.0 CM", "W30", "F", "FREE"]
LISTING_SIZES = ["M", "L", "48", "50", "27cm", "W30", "FREE"]
VOCABULARIES = {
    "conditions": list(CONDITIONS),
    "categories": list(CATEGORIES),
    "sale_types": list(SALE_TYPES),
    "seller_types": list(SELLER_TYPES),
}
LISTING_FIELDS = {
    "conditions": "condition",
    "categories": "category",
    "sale_types": "sale_type",
    "seller_types": "seller_type",
}


def draw_attributes(draw) -> dict:
    """A filter's attribute lists (mostly empty, as most filters leave them) and unknown_ok."""
    chosen = {
        field: tuple(
            draw(st.lists(st.sampled_from(values), max_size=2, unique=True))
            if draw(st.booleans())
            else ()
        )
        for field, values in VOCABULARIES.items()
    }
    chosen["sizes"] = tuple(draw(st.lists(st.sampled_from(FILTER_SIZES), max_size=2)))
    chosen["unknown_ok"] = draw(st.booleans())
    return chosen


def draw_listing_attributes(draw) -> dict:
    stated = {
        listing_field: draw(st.one_of(st.none(), st.sampled_from(VOCABULARIES[field])))
        for field, listing_field in LISTING_FIELDS.items()
    }
    stated["sizes"] = tuple(draw(st.lists(st.sampled_from(LISTING_SIZES), max_size=2, unique=True)))
    return stated


@st.composite
def filters(draw):
    brands = draw(st.lists(st.sampled_from([*BRAND_WORDS, "Other Brand"]), max_size=2))
    keywords_any = draw(st.lists(words, max_size=2))
    needs_keyword = not brands and not keywords_any
    keywords = draw(st.lists(words, min_size=1 if needs_keyword else 0, max_size=2))
    low, high = draw(prices), draw(prices)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return FilterRule(
        brands=tuple(brands),
        keywords=tuple(keywords),
        exclude=tuple(draw(st.lists(words, max_size=2))),
        price_min=low,
        price_max=high,
        markets=tuple(draw(st.lists(st.sampled_from(FILTER_MARKETS), max_size=2, unique=True))),
        keywords_any=tuple(keywords_any),
        **draw_attributes(draw),
    )


@st.composite
def listings(draw):
    pieces = draw(st.lists(words, min_size=1, max_size=5))
    title = "".join(p + draw(st.sampled_from(SEPARATORS)) for p in pieces)
    return listing(
        title,
        price=draw(st.integers(0, 60000)),
        market=draw(st.sampled_from(MARKETS)),
        brand=draw(st.one_of(st.none(), st.sampled_from([*BRAND_WORDS, "Other Brand"]))),
        **draw_listing_attributes(draw),
    )


def compile_rules(rules: list[FilterRule], brands) -> FilterIndex:
    return FilterIndex(
        [
            IndexedFilter(
                i,
                i % 7,
                r.brands,
                r.keywords,
                r.exclude,
                r.price_min,
                r.price_max,
                r.markets,
                r.keywords_any,
                r.conditions,
                r.sizes,
                r.categories,
                r.sale_types,
                r.seller_types,
                r.unknown_ok,
            )
            for i, r in enumerate(rules)
        ],
        brands,
    )


def assert_agrees(rules: list[FilterRule], records, brands) -> int:
    index = compile_rules(rules, brands)
    total = 0
    for record in records:
        expected = [i for i, rule in enumerate(rules) if filter_matches(rule, record, brands)]
        assert sorted(index.match(record)) == expected, record.title
        total += len(expected)
    return total


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rules=st.lists(filters(), min_size=1, max_size=25),
    records=st.lists(listings(), min_size=1, max_size=25),
)
def test_index_agrees_with_rules(rules, records):
    assert_agrees(rules, records, shipped_brands())


def test_index_agrees_with_rules_on_thousands(django_db_blocker):
    """3,000 filters × 600 listings, seeded: a large population with many shared groups."""
    rng = random.Random(20261123)
    brands = shipped_brands()

    def pick_rule() -> FilterRule:
        chosen = rng.sample([*BRAND_WORDS, "Other Brand"], rng.choice([0, 1, 1, 2]))
        keywords = rng.sample(
            OTHER_WORDS + BRAND_WORDS, rng.choice([0, 1, 2] if chosen else [1, 2])
        )
        low = rng.choice([None, rng.randrange(0, 30000)])
        high = rng.choice([None, rng.randrange(30000, 60000)])
        attributes = {
            field: tuple(rng.sample(values, rng.choice([0, 0, 0, 1, 2])))
            for field, values in VOCABULARIES.items()
        }
        return FilterRule(
            tuple(chosen),
            tuple(keywords),
            tuple(rng.sample(OTHER_WORDS, rng.choice([0, 0, 1]))),
            low,
            high,
            tuple(rng.sample(FILTER_MARKETS, rng.choice([0, 0, 1, 2]))),
            keywords_any=tuple(rng.sample(OTHER_WORDS + BRAND_WORDS, rng.choice([0, 0, 0, 2]))),
            sizes=tuple(rng.sample(FILTER_SIZES, rng.choice([0, 0, 0, 1, 2]))),
            unknown_ok=rng.random() < 0.7,
            **attributes,
        )

    def pick_listing():
        pieces = rng.choices(BRAND_WORDS + OTHER_WORDS, k=rng.randint(1, 5))
        title = "".join(p + rng.choice(SEPARATORS) for p in pieces)
        return listing(
            title,
            price=rng.randrange(0, 60000),
            market=rng.choice(MARKETS),
            brand=rng.choice([None, None, *BRAND_WORDS]),
            sizes=tuple(rng.sample(LISTING_SIZES, rng.choice([0, 0, 1, 2]))),
            **{
                listing_field: rng.choice([None, *VOCABULARIES[field]])
                for field, listing_field in LISTING_FIELDS.items()
            },
        )

    rules = [pick_rule() for _ in range(3000)]
    records = [pick_listing() for _ in range(600)]
    matched = assert_agrees(rules, records, brands)
    assert matched > 1000  # the population really exercises matches, not just misses


def test_a_filter_whose_only_market_is_unknown_matches_nothing():
    rules = [FilterRule((), ("coat",), (), None, None, ("vinted",))]
    record = listing("Long COAT", price=1000, market="mercari")
    assert assert_agrees(rules, [record], shipped_brands()) == 0
