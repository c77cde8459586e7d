"""Fetch planning: every active filter covered by the fewest searches, shared across users."""

from __future__ import annotations

import pytest

from filters.brands import BrandTable
from filters.models import Filter
from scraping.planning import MARKETS, Search, plan_searches
from tests.builders import make_filter, make_user

pytestmark = pytest.mark.django_db


def plan(**options):
    return plan_searches(Filter.objects.matchable(), BrandTable.load(), **options)


def test_users_with_the_same_filter_share_one_search_per_spelling_and_market():
    for _ in range(3):
        make_filter(make_user(), brands=["Sacai"])
    make_filter(make_user(), brands=["サカイ"])  # the same brand, written in katakana
    result = plan()
    assert result.filters == 4
    assert result.wanted == 4 * 2 * len(MARKETS)
    assert sorted((s.market, s.keyword) for s in result.searches) == sorted(
        (market, spelling) for market in MARKETS for spelling in ("sacai", "サカイ")
    )


def test_a_shorter_search_serves_longer_ones_with_the_widest_price_range():
    make_filter(
        make_user(), brands=["Kapital"], price_min=5000, price_max=30000, markets=["rakuma"]
    )
    make_filter(
        make_user(), brands=["Kapital"], keywords=["denim"], price_min=2000, markets=["rakuma"]
    )
    make_filter(
        make_user(),
        keywords=["Denim", "kapital"],
        price_min=3000,
        price_max=9000,
        markets=["rakuma"],
    )
    result = plan()
    assert result.searches == [
        Search("rakuma", ("kapital",), price_min=2000, price_max=None),
        Search("rakuma", ("キャピタル",), price_min=2000, price_max=None),
    ]
    assert result.summary() == (
        "2 requests for 3 filters (5 searches if each filter were fetched on its own)"
    )


def test_excluded_words_and_paused_filters_are_not_searched():
    owner = make_user()
    make_filter(owner, keywords=["geobasket"], exclude=["fake"], markets=["mercari"])
    paused = make_filter(owner, brands=["Sacai"], markets=["mercari"])
    Filter.objects.filter(pk=paused.pk).update(active=False)
    result = plan()
    assert [(s.market, s.keyword) for s in result.searches] == [("mercari", "geobasket")]


def test_a_market_with_more_searches_than_its_feed_costs_reads_the_feed():
    for brand in ["Sacai", "Kapital", "Rick Owens"]:
        make_filter(make_user(), brands=[brand], markets=["mercari", "yahoo_auctions"])
    result = plan(feed_cost={"mercari": 4, "yahoo_auctions": 10})
    mercari = [s for s in result.searches if s.market == "mercari"]
    yahoo = [s for s in result.searches if s.market == "yahoo_auctions"]
    assert mercari == [Search("mercari", ())] and mercari[0].is_feed
    assert len(yahoo) == 6  # three brands, two spellings each


def filter_reads(queries) -> int:
    return sum('"filters_filter"' in query["sql"] for query in queries)


def test_the_pollers_share_one_plan_until_a_filter_changes():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from filters.services import update_filter
    from scraping.jobs import searches_for

    owner = make_user()
    kapital = make_filter(owner, brands=["Kapital"], markets=["rakuma"])
    assert [s.keyword for s in searches_for("rakuma")[0]] == ["kapital", "キャピタル"]
    with CaptureQueriesContext(connection) as queries:
        assert searches_for("rakuma") == searches_for("rakuma")  # two more cycles
        assert searches_for("mercari") == ([], 0)  # and another market's poller
    assert filter_reads(queries) == 0  # no filter was read again

    update_filter(owner, kapital.id, {"brands": ["Sacai"]})
    assert [s.keyword for s in searches_for("rakuma")[0]] == ["sacai", "サカイ"]
    make_filter(make_user(), brands=["Sacai"], markets=["mercari"])
    assert searches_for("mercari") == (
        [Search("mercari", ("sacai",)), Search("mercari", ("サカイ",))],
        1,
    )
