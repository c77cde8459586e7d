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
