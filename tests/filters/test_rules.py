"""Each matching rule, pinned against both the reference rules and the compiled index."""

from __future__ import annotations

import pytest

from filters.index import FilterIndex, IndexedFilter
from filters.rules import FilterRule, filter_matches
from tests.builders import listing, shipped_brands

pytestmark = pytest.mark.django_db


def reference(rule: FilterRule, record, brands) -> bool:
    return filter_matches(rule, record, brands)


def compiled(rule: FilterRule, record, brands) -> bool:
    indexed = IndexedFilter(
        1,
        1,
        rule.brands,
        rule.keywords,
        rule.exclude,
        rule.price_min,
        rule.price_max,
        rule.markets,
        rule.keywords_any,
        rule.conditions,
        rule.sizes,
        rule.categories,
        rule.sale_types,
        rule.seller_types,
        rule.unknown_ok,
    )
    return FilterIndex([indexed], brands).match(record) == [1]


@pytest.fixture(params=[reference, compiled], ids=["reference", "index"])
def matches(request):
    brands = shipped_brands()
    return lambda record, **rule: request.param(FilterRule(**rule), record, brands)


BRAND_CASES = [
    # (filter brands, title, listing brand field, expected)
    (("Rick Owens",), "リックオウエンス ジオバスケット 42", None, True),
    (("リックオウエンス",), "RICK OWENS geobasket", None, True),
    (("ﾘｯｸｵｳｴﾝｽ",), "Rick Owens ramones", None, True),
    (("cdg",), "COMME des GARÇONS HOMME PLUS ジャケット", None, True),
    (("Comme des Garçons",), "コムデギャルソン シャツ", None, True),
    (("Comme des Garçons",), "vintage CDG tee", None, True),
    (("Comme des Garçons",), "abcdg tee", None, False),  # CDG inside another word
    (("Maison Margiela",), "マルジェラ 足袋ブーツ", None, True),
    (("margiela",), "メゾンマルジェラ タビ", None, True),
    (("Number (N)ine",), "NUMBER NINE 05AW", None, True),
    (("ナンバーナイン",), "Number (N)ine ジャケット", None, True),
    (("Yohji Yamamoto",), "ヨウジ・ヤマモト ワイドパンツ", None, True),
    (("Yohji Yamamoto",), "ﾖｳｼﾞﾔﾏﾓﾄ ワイドパンツ", None, True),
    (("Sacai",), "ドッキング ニット", "サカイ", True),  # the listing's brand field, resolved
    (("Sacai",), "ドッキング ニット", "sacai", True),
    (("Sacai",), "ドッキング ニット", "Kapital", False),
    (("Kapital",), "Rick Owens boots", None, False),
    (
        ("Some Indie Label",),
        "some indie label シャツ",
        None,
        True,
    ),  # not in the table: its own name
    (("Some Indie Label",), "シャツ", "SOME INDIE LABEL", True),
    (("Kapital", "Sacai"), "sacai ブルゾン", None, True),  # any of the brands
]


@pytest.mark.parametrize(("brands", "title", "brand_field", "expected"), BRAND_CASES)
def test_it_matches_brands_by_any_spelling(matches, brands, title, brand_field, expected):
    assert matches(listing(title, brand=brand_field), brands=brands) is expected


def test_it_needs_every_keyword(matches):
    assert matches(
        listing("Rick Owens leather jacket"), brands=("Rick Owens",), keywords=("leather", "jacket")
    )
    assert not matches(
        listing("Rick Owens leather boots"), brands=("Rick Owens",), keywords=("leather", "jacket")
    )
    assert matches(listing("リックオウエンス ロングコート"), keywords=("コート",))
    assert not matches(listing("Rick Owens coated denim"), keywords=("coat",))
    assert matches(listing("Rick Owens Long COAT"), keywords=("coat",))


def test_it_drops_listings_with_an_excluded_word(matches):
    assert not matches(
        listing("リックオウエンス風 ブーツ"), brands=("Rick Owens",), exclude=("風",)
    )
    assert matches(listing("リックオウエンス ブーツ"), brands=("Rick Owens",), exclude=("風",))
    assert not matches(listing("Rick Owens KIDS tee"), brands=("Rick Owens",), exclude=("kids",))
    assert matches(listing("Rick Owens kidskin jacket"), brands=("Rick Owens",), exclude=("kids",))


def test_it_keeps_prices_inside_the_bounds_inclusive(matches):
    rule = {"brands": ("Sacai",), "price_min": 5000, "price_max": 20000}
    assert matches(listing("sacai knit", price=5000), **rule)
    assert matches(listing("sacai knit", price=20000), **rule)
    assert not matches(listing("sacai knit", price=4999), **rule)
    assert not matches(listing("sacai knit", price=20001), **rule)
    assert matches(listing("sacai knit", price=999_999), brands=("Sacai",), price_min=5000)
    assert matches(listing("sacai knit", price=0), brands=("Sacai",), price_max=100)


def test_it_limits_markets_and_empty_means_all(matches):
    assert matches(listing("sacai knit", market="rakuma"), brands=("Sacai",))
    assert matches(
        listing("sacai knit", market="rakuma"), brands=("Sacai",), markets=("rakuma", "mercari")
    )
    assert not matches(
        listing("sacai knit", market="yahoo_auctions"), brands=("Sacai",), markets=("rakuma",)
    )


def test_keyword_only_filters_match_any_brand(matches):
    assert matches(listing("Kapital センチュリーデニム"), keywords=("センチュリーデニム",))
    assert not matches(listing("Kapital デニム"), keywords=("センチュリーデニム",))


@pytest.mark.parametrize(
    ("title", "brand", "expected"),
    [
        ("リックオウエンス風 ブーツ", None, False),  # boots in his style, not his
        ("リックオウエンス 風 ブーツ", None, False),
        ("Rick Owens style boots", None, False),
        ("rick owens inspired ramones", None, False),
        ("リックオウエンスライク スニーカー", None, False),
        ("Rick Owens like new boots", None, True),  # "like new" is the condition
        ("リックオウエンス風 ブーツ", "Rick Owens", True),  # the listing's brand field says so
        ("リックオウエンス風 リックオウエンス 本物", None, True),  # named once as the brand
        ("Rick Owens boots", None, True),
    ],
)
def test_a_brand_named_as_a_style_is_not_the_brand(matches, title, brand, expected):
    record = listing(title, price=4800, brand=brand)
    assert matches(record, brands=("Rick Owens",)) is expected


def test_any_of_words_need_one_of_them(matches):
    rule = {"brands": ("Sacai",), "keywords_any": ("coat", "ジャケット")}
    assert matches(listing("sacai long coat"), **rule)
    assert matches(listing("サカイ ジャケット"), **rule)
    assert not matches(listing("sacai knit"), **rule)
    # Alone, any-of words are enough to make a filter.
    assert matches(listing("vintage coat"), keywords_any=("coat", "jacket"))
    assert not matches(listing("vintage knit"), keywords_any=("coat", "jacket"))


@pytest.mark.parametrize(
    ("stated", "unknown_ok", "expected"),
    [
        ({"condition": "like_new"}, True, True),
        ({"condition": "fair"}, True, False),
        ({}, True, True),  # not stated: matches, the alert will say so
        ({}, False, False),
    ],
)
def test_conditions_and_unknowns(matches, stated, unknown_ok, expected):
    record = listing("Sacai coat", **stated)
    rule = {"brands": ("Sacai",), "conditions": ("new", "like_new"), "unknown_ok": unknown_ok}
    assert matches(record, **rule) is expected


@pytest.mark.parametrize(
    ("sizes", "unknown_ok", "expected"),
    [
        (("27cm",), True, True),  # the filter's "27.0 CM" is 27cm
        (("26cm", "27cm"), True, True),
        (("28cm",), True, False),
        ((), True, True),
        ((), False, False),
    ],
)
def test_sizes_compare_in_one_written_form(matches, sizes, unknown_ok, expected):
    record = listing("Rick Owens geobasket", sizes=sizes)
    rule = {"brands": ("Rick Owens",), "sizes": ("27.0 CM", "W30"), "unknown_ok": unknown_ok}
    assert matches(record, **rule) is expected


def test_every_attribute_constrained_must_hold(matches):
    rule = {
        "keywords": ("coat",),
        "categories": ("outerwear",),
        "sale_types": ("fixed",),
        "seller_types": ("individual",),
    }
    fine = {"category": "outerwear", "sale_type": "fixed", "seller_type": "individual"}
    assert matches(listing("wool coat", **fine), **rule)
    assert not matches(listing("wool coat", **{**fine, "sale_type": "auction"}), **rule)
    assert not matches(listing("wool coat", **{**fine, "seller_type": "shop"}), **rule)
    assert not matches(listing("wool coat", **{**fine, "category": "tops"}), **rule)
