"""What filter input is refused or cleaned: hidden characters, digits, markets, lists given as text."""

from __future__ import annotations

import pytest

from filters.brands import BrandTable
from filters.models import Filter
from filters.services import create_filter
from filters.validation import clean_filter_fields
from lib.errors import ValidationFailed
from tests.builders import make_filter, make_user

pytestmark = pytest.mark.django_db


def errors_of(data, owner=None) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        create_filter(owner or make_user(), data)
    return caught.value.as_dict()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "Rick\x00", "brands": ["Rick Owens"]},
            "name",
            "The name contains a control character (U+0000); remove it.",
        ),
        (
            {"name": "\x1b[31mRick", "brands": ["Rick Owens"]},
            "name",
            "The name contains a control character (U+001B); remove it.",
        ),
        (
            {"name": "\u202eskcoR", "brands": ["Rick Owens"]},
            "name",
            "The name contains a text-direction control (U+202E); remove it.",
        ),
        (
            {"name": "\u200b\u2060\ufeff", "brands": ["Rick Owens"]},
            "name",
            "The name is made only of invisible characters; give it one people can read.",
        ),
        (
            {"name": "\u3164", "brands": ["Rick Owens"]},
            "name",
            "The name is made only of invisible characters; give it one people can read.",
        ),
        (
            {"name": "n", "keywords": ["coat", "\u200b\u00ad"]},
            "keywords",
            "Keyword 2 is made only of invisible characters.",
        ),
        (
            {"name": "n", "keywords": ["coat"], "exclude": ["ki\x00ds"]},
            "exclude",
            "Excluded word 1 contains a control character (U+0000); remove it.",
        ),
        (
            {"name": "n", "brands": ["\u2066Sacai\u2069"]},
            "brands",
            "Brand 1 contains a text-direction control (U+2066); remove it.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_max": "５０００"},
            "price_max",
            "The maximum price must be written with the digits 0-9, not '５０００'.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_min": "²"},
            "price_min",
            "The minimum price must be written with the digits 0-9, not '²'.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_min": "٣٠٠٠"},
            "price_min",
            "The minimum price must be written with the digits 0-9, not '٣٠٠٠'.",
        ),
        (
            {"name": "n", "keywords": ["a"], "price_max": "9" * 5000},
            "price_max",
            "The maximum price can be at most ¥100,000,000.",
        ),
        (
            {"name": "n", "keywords": ["a"], "markets": ["demo"]},
            "markets",
            "'demo' is not a market you can choose; "
            "choose from mercari, yahoo_auctions, rakuma, paypay_fleamarket.",
        ),
    ],
)
def test_it_refuses_what_could_hide_or_never_match(data, field, message):
    assert errors_of(data) == {field: [message]}
    assert not Filter.objects.exists()


def test_invisible_characters_are_removed_so_no_name_looks_like_another():
    owner = make_user()
    make_filter(owner, "Rick", brands=["Rick Owens"])
    assert errors_of({"name": "Ri\u200bck\ufe0f", "brands": ["Sacai"]}, owner) == {
        "name": ["You already have a filter named “Rick”."]
    }
    made = create_filter(
        owner, {"name": "Sa\u00adcai", "keywords": ["kn\u200bit", "  coat\u2060 "]}
    )
    assert (made.name, made.keywords) == ("Sacai", ["knit", "coat"])
    # Tabs and line breaks are white space, tidied rather than refused.
    assert create_filter(owner, {"name": "CDG\tjackets\n", "brands": ["CDG"]}).name == "CDG jackets"


def test_two_spellings_of_one_brand_are_kept_once():
    made = create_filter(
        make_user(), {"name": "n", "brands": "cdg, コムデギャルソン, Comme des Garcons"}
    )
    assert made.brands == ["Comme des Garçons"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "brands",
            "Rick Owens",
            'brands must be a list, such as ["Rick Owens"], not the text "Rick Owens".',
        ),
        (
            "keywords",
            "jacket, coat",
            'keywords must be a list, such as ["Rick Owens"], not the text "jacket, coat".',
        ),
        (
            "markets",
            "mercari",
            'markets must be a list, such as ["mercari"], not the text "mercari".',
        ),
    ],
)
def test_json_input_must_give_lists_as_lists(field, value, message):
    data = {"name": "n", "keywords": ["a"], field: value}
    with pytest.raises(ValidationFailed) as caught:
        clean_filter_fields(data, BrandTable.load(), text_lists=False)
    assert caught.value.as_dict() == {field: [message]}
    # Typed input (the bot, web forms) may still use commas.
    assert clean_filter_fields(data, BrandTable.load())[field]


def test_numbers_in_messages_have_thousands_separators():
    long_word = "a" * 1500
    assert errors_of({"name": "Coats", "keywords": [long_word]}) == {
        "keywords": [f"“{'a' * 20}…” is 1,500 characters long; keep each keyword to 64."]
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "conditions",
            ["mint"],
            "'mint' is not a condition; choose from new, like_new, good, fair, poor.",
        ),
        (
            "categories",
            "shoes",
            "'shoes' is not a category; choose from outerwear, tops, bottoms, footwear, bags, "
            "accessories, other.",
        ),
        ("sale_types", [1], "1 is not a sale type; choose from fixed, auction."),
        ("seller_types", ["store"], "'store' is not a seller type; choose from individual, shop."),
        ("sizes", ["M", 48], "Size 2 must be text, not 48."),
        ("sizes", ["M", " "], "Size 2 is empty."),
        ("sizes", ["x" * 21], "Size 1 is 21 characters long; keep it to 20."),
        ("sizes", [f"{n}" for n in range(21)], "At most 20 sizes are allowed; you gave 21."),
        ("keywords_any", [""], "Any-of word 1 is empty."),
        ("unknown_ok", "yes", "“Listings that don't say” must be true or false."),
        ("include_old", 1, "“Old listings and relists” must be true or false."),
        ("price_drops", None, "“Price drops” must be true or false."),
    ],
)
def test_the_sharper_conditions_name_what_is_wrong(field, value, message):
    assert errors_of({"name": "Sacai", "brands": ["Sacai"], field: value}) == {field: [message]}


def test_typed_conditions_take_labels_and_any_of_words_make_a_filter_alone():
    found = create_filter(
        make_user(),
        {
            "name": "Coats, mint",
            "keywords_any": "coat, コート",
            "conditions": "Like new, NEW",
            "sale_types": "fixed",
            "sizes": "m, Ｌ, 27.0 cm",
        },
    )
    assert found.keywords_any == ["coat", "コート"] and found.brands == found.keywords == []
    assert found.conditions == ["new", "like_new"]
    assert found.sizes == ["M", "L", "27cm"]
    assert (found.unknown_ok, found.include_old, found.price_drops) == (True, False, True)
