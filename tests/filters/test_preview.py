"""Previews apply every condition a filter can state, saved or still being typed."""

from __future__ import annotations

import pytest

from filters.preview import preview_matches, recent_matches
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def store_geobaskets() -> None:
    ingest_listings(
        [
            listing("Rick Owens geobasket", sizes=("27cm",), condition="like_new"),
            listing("Rick Owens geobasket", sizes=("29cm",), condition="like_new"),
            listing("Rick Owens geobasket", sizes=("27cm",), condition="poor"),
            listing("Rick Owens geobasket"),  # says neither
            listing("リックオウエンス風 ブーツ", sizes=("27cm",), condition="new"),
        ]
    )


SHARPER = {
    "brands": ["Rick Owens"],
    "sizes": ["27.0 cm"],
    "conditions": ["new", "like_new"],
    "unknown_ok": False,
}


def wanted(found) -> list[tuple]:
    return [(item.title, tuple(item.sizes), item.condition) for item in found]


def test_a_preview_of_typed_input_applies_sizes_conditions_and_unknowns():
    store_geobaskets()
    assert wanted(preview_matches(SHARPER)) == [("Rick Owens geobasket", ("27cm",), "like_new")]
    with_unknowns = wanted(preview_matches({**SHARPER, "unknown_ok": True}))
    assert with_unknowns == [
        ("Rick Owens geobasket", (), None),
        ("Rick Owens geobasket", ("27cm",), "like_new"),
    ]


def test_a_saved_filters_preview_applies_them_too():
    store_geobaskets()
    found = make_filter(make_user(), "Geobaskets 27", **SHARPER)
    assert wanted(recent_matches(found)) == [("Rick Owens geobasket", ("27cm",), "like_new")]
