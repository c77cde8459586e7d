"""What a listing carries beyond its title and price (condition, sizes, category, sale and
seller type, an auction's state, shipping): checked like the other fields, stored as the
record says, and kept when a later read leaves them out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lib.errors import ValidationFailed
from lib.vocabulary import normalize_size
from listings.models import Listing
from listings.records import parse_listing
from tests.builders import listing_json, write_jsonl

ATTRIBUTES = {
    "condition": "like_new",
    "sizes": ["ｍ", " 27.0 cm", "27cm", "w 30", "フリー"],
    "category": "outerwear",
    "sale_type": "auction",
    "seller_type": "shop",
    "seller_id": "s1234",
    "ends_at": "2026-12-05T21:00:00+09:00",
    "bids": 3,
    "buy_now_price": 80000.0,
    "shipping_included": True,
}


def problems(**fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as failed:
        parse_listing({**listing_json("sacai knit"), **fields})
    return failed.value.as_dict()


def test_a_record_carries_every_attribute_normalized():
    record = parse_listing({**listing_json("sacai coat"), **ATTRIBUTES})
    assert record.condition == "like_new"
    assert record.sizes == ("M", "27cm", "W30", "FREE")  # each size once, in one spelling
    assert (record.category, record.sale_type, record.seller_type) == (
        "outerwear",
        "auction",
        "shop",
    )
    assert record.seller_id == "s1234"
    assert record.ends_at == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
    assert (record.bids, record.buy_now_price, record.shipping_included) == (3, 80000, True)


def test_a_record_without_them_knows_nothing():
    record = parse_listing(listing_json("sacai coat"))
    assert record.sizes == ()
    assert {
        record.condition,
        record.category,
        record.sale_type,
        record.seller_type,
        record.seller_id,
        record.ends_at,
        record.bids,
        record.buy_now_price,
        record.shipping_included,
    } == {None}
    assert parse_listing({**listing_json("x"), "sizes": None, "condition": None}).sizes == ()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"condition": "mint"},
            {"condition": ["must be one of new, like_new, good, fair, poor or null, not 'mint'"]},
        ),
        (
            {"category": "Outerwear"},
            {
                "category": [
                    "must be one of outerwear, tops, bottoms, footwear, bags, accessories, "
                    "other or null, not 'Outerwear'"
                ]
            },
        ),
        ({"sale_type": 1}, {"sale_type": ["must be one of fixed, auction or null, not 1"]}),
        (
            {"seller_type": "store"},
            {"seller_type": ["must be one of individual, shop or null, not 'store'"]},
        ),
        ({"sizes": "M"}, {"sizes": ["must be a list of size labels, not 'M'"]}),
        ({"sizes": ["M", 48]}, {"sizes[1]": ["must be text, not 48"]}),
        ({"sizes": ["M"] * 21}, {"sizes": ["has 21 labels; at most 20 are allowed"]}),
        ({"sizes": ["x" * 21]}, {"sizes[0]": ["is 21 characters long; at most 20 are allowed"]}),
        ({"seller_id": 42}, {"seller_id": ["must be text, not 42"]}),
        (
            {"ends_at": "2026-12-05 21:00"},
            {"ends_at": ["must be an ISO 8601 time with a time zone, not '2026-12-05 21:00'"]},
        ),
        ({"bids": -1}, {"bids": ["can't be negative (-1)"]}),
        ({"bids": 2.5}, {"bids": ["must be a whole number, not 2.5"]}),
        (
            {"buy_now_price": "80000"},
            {"buy_now_price": ["must be a whole number of yen, not '80000'"]},
        ),
        (
            {"buy_now_price": 100_000_001},
            {"buy_now_price": ["is ¥100,000,001; a listing's price can be at most ¥100,000,000"]},
        ),
        (
            {"shipping_included": "yes"},
            {"shipping_included": ["must be true, false or null, not 'yes'"]},
        ),
    ],
)
def test_a_wrong_attribute_is_named_with_what_is_wrong(fields, expected):
    assert problems(**fields) == expected


def test_every_wrong_attribute_of_a_record_is_named_at_once():
    assert set(problems(condition="mint", bids=True, shipping_included=1)) == {
        "condition",
        "bids",
        "shipping_included",
    }


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        ("m", "M"),
        ("ＸＬ", "XL"),
        ("27.0cm", "27cm"),
        ("27.5 CM", "27.5cm"),
        ("W 30", "W30"),
        ("F", "FREE"),
        ("one size", "FREE"),
        ("フリーサイズ", "FREE"),
        ("48", "48"),
        ("  ", ""),
    ],
)
def test_sizes_compare_in_one_written_form(written, normalized):
    assert normalize_size(written) == normalized


@pytest.mark.django_db
def test_an_import_stores_the_attributes_and_keeps_them_when_a_later_line_leaves_them_out(
    tmp_path, run_command
):
    rows = [
        {**listing_json("Sacai coat", external_id="m1"), **ATTRIBUTES},
        {**listing_json("Sacai knit", external_id="m2"), "condition": "mint"},
        listing_json("Sacai vest", external_id="m3"),
    ]
    status, _, err = run_command("import_listings", str(write_jsonl(tmp_path / "a.jsonl", rows)))
    assert status == 1
    assert "line 2: condition: must be one of new, like_new, good, fair, poor or null" in err
    coat = Listing.objects.get(external_id="m1")
    assert (coat.condition, coat.sizes, coat.category) == (
        "like_new",
        ["M", "27cm", "W30", "FREE"],
        "outerwear",
    )
    assert (coat.sale_type, coat.seller_type, coat.seller_id) == ("auction", "shop", "s1234")
    assert (coat.bids, coat.buy_now_price, coat.shipping_included) == (3, 80000, True)
    vest = Listing.objects.get(external_id="m3")  # the good line after the bad one is stored
    assert (vest.condition, vest.sizes, vest.shipping_included) == (None, [], None)

    later = [{**listing_json("Sacai coat", external_id="m1"), "bids": 5, "sizes": []}]
    status, _, err = run_command("import_listings", str(write_jsonl(tmp_path / "b.jsonl", later)))
    assert status == 0, err
    coat.refresh_from_db()
    assert coat.bids == 5  # what the new line says
    assert (coat.condition, coat.sizes, coat.seller_id) == (
        "like_new",
        ["M", "27cm", "W30", "FREE"],
        "s1234",
    )
