"""Invisible characters in titles and in filters: the compiled index and the reference rules agree."""

from __future__ import annotations

import pytest

from alerts.models import Alert
from filters.brands import BrandTable
from filters.matching import bump_index_version
from filters.models import Filter
from filters.rules import FilterRule, filter_matches
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def test_a_zero_width_space_in_a_title_does_not_hide_it_from_a_filter():
    owner = make_user()
    make_filter(owner, "Tabi", keywords=["tabi boots"])
    title = "Margiela ta\u200bbi\u00ad boots\ufeff"
    assert filter_matches(FilterRule(keywords=("tabi boots",)), listing(title), BrandTable.load())
    assert ingest_listings([listing(title)]).alerts == 1
    assert Alert.objects.get().user == owner


def test_a_filter_typed_with_invisible_characters_is_stored_without_them_and_matches():
    owner = make_user()
    made = make_filter(
        owner, "Rick\u2060", brands=["Rick\u200b Owens"], keywords=["geo\ufeffbasket"]
    )
    assert (made.name, made.brands, made.keywords) == ("Rick", ["Rick Owens"], ["geobasket"])
    assert ingest_listings([listing("rick owens geobasket")]).alerts == 1


def test_an_older_filter_stored_with_a_hidden_character_matches_again():
    # Stored before the services removed invisible characters: matching ignores them.
    owner = make_user()
    Filter.objects.create(owner=owner, name="Coats", keywords=["coat\u200b"])
    bump_index_version()
    rule = FilterRule(keywords=("coat\u200b",))
    assert filter_matches(rule, listing("long coat"), BrandTable.load())
    assert ingest_listings([listing("long coat")]).alerts == 1
