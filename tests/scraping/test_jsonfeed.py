"""The jsonfeed source's parser: bad lines are counted and logged once with their number."""

from __future__ import annotations

import json
import logging

import pytest

from scraping.scanner import scan_source
from scraping.sources.jsonfeed import parse
from tests.builders import listing_json, make_filter, make_user


def test_bad_feed_lines_are_logged_once_with_their_number(caplog):
    good = json.dumps(listing_json("sacai knit", external_id="f1"))
    body = "\n".join(
        [
            good,
            json.dumps({**listing_json("sacai coat"), "price": "cheap", "url": "/x"}),
            "{not json",
            json.dumps({**listing_json("sacai vest"), "title": "a\rb"}).replace("\\r", "\r"),
            json.dumps(listing_json("sacai cap", external_id="f2")),
            '{"market": "mercari", "ti',
        ]
    ).encode()
    with caplog.at_level(logging.WARNING, logger="scraping.sources.jsonfeed"):
        page = parse(body)
    assert [r.external_id for r in page.records] == ["f1", "f2"]
    assert page.broken == 4
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "jsonfeed line 2 skipped: price: must be a whole number of yen, not 'cheap'; "
        "url: must be an absolute http(s) URL, not '/x'",
        'jsonfeed line 3 skipped: not valid JSON: expected a "quoted" property name at column 2',
        "jsonfeed line 4 skipped: not valid JSON: a raw control character (U+000D) inside a "
        "string at column 65; JSON needs it written as an escape",
        "jsonfeed line 6 skipped: the line ends before the JSON object does (cut off?)",
    ]


@pytest.mark.django_db
def test_a_scan_summary_counts_in_the_singular_and_plural(settings, tmp_path):
    make_filter(make_user(), brands=["Sacai"])
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        json.dumps(listing_json("sacai knit", external_id="s1"))
        + "\n"
        + json.dumps(listing_json("kapital denim", external_id="s2"))
        + "\n[1]\n",
        encoding="utf-8",
    )
    settings.JSONFEED_URLS = [str(feed)]
    summary = scan_source("jsonfeed").summary()
    assert ", 2 items seen, 2 new, 1 alert queued, 1 unreadable item, 0 errors," in summary
