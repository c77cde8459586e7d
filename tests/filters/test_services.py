"""Filter validation, its messages, ownership and quota, as every door sees them."""

from __future__ import annotations

import pytest

from alerts.moderation import ban_user
from filters.matching import index_stamp
from filters.models import Filter
from filters.services import (
    access_filter_by_name,
    create_filter,
    delete_filter,
    set_filter_active,
    update_filter,
)
from lib.errors import Banned, NotFound, QuotaExceeded, ValidationFailed
from tests.builders import make_filter, make_user
from users.models import User

pytestmark = pytest.mark.django_db


def errors_of(owner, data) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        create_filter(owner, data)
    return caught.value.as_dict()


def test_it_creates_a_filter_with_brands_under_their_canonical_name():
    owner = make_user()
    made = create_filter(
        owner, {"name": "  CDG  jackets ", "brands": "cdg, ﾘｯｸｵｳｴﾝｽ, Indie", "keywords": ["Jacket"]}
    )
    assert made.name == "CDG jackets"
    assert made.brands == ["Comme des Garçons", "Rick Owens", "Indie"]
    assert made.keywords == ["Jacket"]
    assert made.active is True


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"brands": ["Sacai"]}, "name", "Give the filter a name."),
        (
            {"name": "x" * 65, "brands": ["Sacai"]},
            "name",
            "The name is 65 characters long; keep it to 64.",
        ),
        (
            {"name": "nothing"},
            "brands",
            "Add at least one brand or keyword; a filter on nothing would match every listing.",
        ),
        (
            {"name": "n", "keywords": [f"k{i}" for i in range(21)]},
            "keywords",
            "At most 20 keywords are allowed; you gave 21.",
        ),
        (
            {"name": "n", "brands": ["Sacai"], "exclude": ["ok", "  "]},
            "exclude",
            "Excluded word 2 is empty.",
        ),
        (
            {"name": "n", "keywords": ["ａ" * 65]},
            "keywords",
            "“ａａａａａａａａａａａａａａａａａａａａ…” is 65 characters long; keep each keyword to 64.",
        ),
        ({"name": "n", "keywords": [3]}, "keywords", "Keyword 1 must be text, not 3."),
        (
            {"name": "n", "keywords": ["a"], "price_min": 12.5},
            "price_min",
            "The minimum price must be a whole number of yen, not 12.5.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_min": -1},
            "price_min",
            "The minimum price can't be negative.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_max": 100_000_001},
            "price_max",
            "The maximum price can be at most ¥100,000,000.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_min": 50000, "price_max": 10000},
            "price_min",
            "The minimum price (¥50,000) is above the maximum (¥10,000).",
        ),
        (
            {"name": "n", "keywords": ["a"], "markets": ["ebay"]},
            "markets",
            "'ebay' is not a market you can choose; choose from mercari, yahoo_auctions, rakuma, paypay_fleamarket.",
        ),
        (
            {"name": "n", "keywords": ["a"], "active": "yes"},
            "active",
            "Active must be true or false.",
        ),
        (
            {"name": "n", "keywords": ["a"], "pricemax": 5},
            "pricemax",
            "“pricemax” is not a filter field; use name, brands, keywords, keywords_any, exclude, "
            "price_min, price_max, markets, conditions, sizes, categories, sale_types, "
            "seller_types, unknown_ok, include_old, price_drops, active.",
        ),
    ],
)
def test_it_explains_what_is_wrong_and_where(data, field, message):
    assert errors_of(make_user(), data) == {field: [message]}


def test_it_reports_every_wrong_field_at_once():
    errors = errors_of(
        make_user(), {"name": "", "keywords": ["a"], "price_max": "lots", "markets": ["x"]}
    )
    assert set(errors) == {"name", "price_max", "markets"}


def test_prices_accept_yen_as_people_write_them():
    made = create_filter(
        make_user(), {"name": "n", "keywords": ["a"], "price_min": "¥5,000", "price_max": "20000円"}
    )
    assert (made.price_min, made.price_max) == (5000, 20000)


def test_duplicates_in_lists_are_dropped_by_normalized_form():
    made = create_filter(
        make_user(),
        {"name": "n", "keywords": ["Coat", "ＣＯＡＴ", "coat "], "brands": ["CDG", "cdg"]},
    )
    assert made.keywords == ["Coat"]
    assert made.brands == ["Comme des Garçons"]


def test_names_are_unique_per_owner_regardless_of_case():
    owner, other = make_user(), make_user()
    make_filter(owner, "Rick", brands=["Rick Owens"])
    assert errors_of(owner, {"name": "rick", "brands": ["Sacai"]}) == {
        "name": ["You already have a filter named “Rick”."]  # the stored spelling
    }
    assert create_filter(other, {"name": "Rick", "brands": ["Sacai"]}).owner == other


def test_the_quota_stops_one_filter_too_many():
    owner = make_user(filter_quota=2)
    make_filter(owner)
    make_filter(owner)
    with pytest.raises(QuotaExceeded, match="You have 2 of your 2 filters"):
        make_filter(owner)
    assert Filter.objects.filter(owner=owner).count() == 2


def test_the_quota_is_read_from_the_stored_user_not_the_callers_copy():
    owner = make_user(filter_quota=5)
    make_filter(owner)
    User.objects.filter(pk=owner.pk).update(filter_quota=1)  # a moderator lowered it meanwhile
    with pytest.raises(QuotaExceeded, match="You have 1 of your 1 filters"):
        make_filter(owner)


def test_a_user_banned_after_their_row_was_read_cannot_create():
    owner = make_user()
    ban_user(User.objects.get(pk=owner.pk), "spam")  # the caller's `owner` still says not banned
    with pytest.raises(Banned):
        make_filter(owner)
    assert not Filter.objects.filter(owner=owner).exists()


def test_nobody_can_read_or_change_another_users_filter():
    owner, intruder = make_user(), make_user()
    theirs = make_filter(owner, "mine", brands=["Sacai"], price_max=9000)
    with pytest.raises(NotFound):
        update_filter(intruder, theirs.pk, {"price_max": 1})
    with pytest.raises(NotFound):
        set_filter_active(intruder, theirs.pk, False)
    with pytest.raises(NotFound):
        delete_filter(intruder, theirs.pk)
    with pytest.raises(NotFound, match="You have no filter named “mine”"):
        access_filter_by_name(intruder, "mine")
    assert access_filter_by_name(owner, " MINE ") == theirs
    theirs.refresh_from_db()
    assert (theirs.price_max, theirs.active) == (9000, True)


def test_an_edit_changes_only_the_given_fields_and_keeps_the_rules():
    owner = make_user()
    made = make_filter(owner, "n", brands=["Sacai"], keywords=["knit"], price_max=30000)
    update_filter(owner, made.pk, {"price_min": 1000})
    made.refresh_from_db()
    assert (made.brands, made.keywords, made.price_min, made.price_max) == (
        ["Sacai"],
        ["knit"],
        1000,
        30000,
    )
    with pytest.raises(ValidationFailed, match="above the maximum"):
        update_filter(owner, made.pk, {"price_min": 40000})
    with pytest.raises(ValidationFailed, match="at least one brand or keyword"):
        update_filter(owner, made.pk, {"brands": [], "keywords": []})


def test_every_write_moves_the_index_version():
    owner = make_user()
    before = index_stamp().version
    made = make_filter(owner, brands=["Sacai"])
    set_filter_active(owner, made.pk, False)
    delete_filter(owner, made.pk)
    assert index_stamp().version == before + 3


def test_a_banned_user_cannot_write():
    owner = make_user()
    made = make_filter(owner, brands=["Sacai"])
    ban_user(owner, "spam")
    with pytest.raises(Banned):
        make_filter(owner, brands=["Kapital"])
    with pytest.raises(Banned):
        delete_filter(owner, made.pk)
