"""Listing validation as every source meets it (marketplace parsers, feeds, imports)."""

from __future__ import annotations

import pytest

from lib.errors import ValidationFailed
from listings.records import parse_listing
from tests.builders import listing_json


def problems(**fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as failed:
        parse_listing({**listing_json("sacai knit"), **fields})
    return failed.value.as_dict()


def test_text_no_database_can_store_is_refused_before_it_reaches_one():
    # A marketplace's JSON can hold these too; no JSON Lines reader stands in between.
    assert problems(title="sacai\x00knit") == {
        "title": ["contains a control character (U+0000) at character 6"]
    }
    assert problems(external_id="m1\ud800") == {
        "external_id": ["contains a lone surrogate (U+D800) at character 3"]
    }


def test_an_invisible_brand_is_no_brand_and_an_invisible_title_is_refused():
    record = parse_listing({**listing_json("sacai knit"), "brand": "\u200b\u2060"})
    assert record.brand is None
    assert problems(title="\u2066\u2069\u200e") == {
        "title": ["is empty: it has only invisible characters"]
    }


def test_a_visible_title_keeps_its_format_characters():
    assert parse_listing({**listing_json("sacai\u200bknit")}).title == "sacai\u200bknit"


def test_prices_at_the_cap_pass_and_whole_floats_become_yen():
    assert parse_listing({**listing_json("x"), "price": 100_000_000}).price == 100_000_000
    assert parse_listing({**listing_json("x"), "price": 12000.0}).price == 12000
    assert problems(price=100_000_001) == {
        "price": ["is ¥100,000,001; a listing's price can be at most ¥100,000,000"]
    }


def test_listed_at_is_kept_in_utc():
    record = parse_listing({**listing_json("x"), "listed_at": "2024-02-29T23:30:00+09:00"})
    assert record.listed_at.isoformat() == "2024-02-29T14:30:00+00:00"
