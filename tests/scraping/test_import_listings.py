"""`manage.py import_listings` and the ingest path: new listings alert once, per user."""

from __future__ import annotations

import pytest

from alerts.models import Alert
from alerts.moderation import ban_user
from filters.services import create_filter, update_filter
from listings.models import Listing
from scraping.ingest import ingest_listings
from tests.builders import listing, listing_json, make_filter, make_user, write_jsonl

pytestmark = pytest.mark.django_db


def alerts_for(user) -> list[Alert]:
    return list(Alert.objects.filter(user=user).select_related("listing"))


def test_it_stores_listings_and_queues_alerts_with_every_matching_filter(tmp_path, run_command):
    alice, bob = make_user("alice"), make_user("bob")
    rick = make_filter(alice, "Rick", brands=["Rick Owens"])
    boots = make_filter(alice, "Boots", keywords=["boots"])
    make_filter(alice, "Cheap Rick", brands=["Rick Owens"], price_max=1000)  # too cheap: no match
    make_filter(bob, "Sacai", brands=["Sacai"])
    rows = [
        listing_json("Rick Owens geobasket boots 42", price=60000, external_id="m1"),
        listing_json("sacai knit", price=20000, external_id="m2", market="rakuma"),
        listing_json("UNIQLO fleece", price=1500, external_id="m3"),
    ]
    status, out, err = run_command("import_listings", str(write_jsonl(tmp_path / "l.jsonl", rows)))
    assert status == 0, err
    assert out.startswith(
        "read 3 lines: 3 new, 0 already seen, 0 duplicates in the file, 0 rejected, 2 alerts queued,"
    )
    [alice_alert] = alerts_for(alice)
    assert alice_alert.listing.external_id == "m1"
    assert sorted(alice_alert.filter_ids) == sorted([rick.pk, boots.pk])  # one alert, both filters
    assert alice_alert.status == Alert.Status.PENDING
    [bob_alert] = alerts_for(bob)
    assert (bob_alert.listing.market, bob_alert.listing.title) == ("rakuma", "sacai knit")
    stored = Listing.objects.get(market="mercari", external_id="m1")
    assert (stored.price, stored.currency, stored.url) == (
        60000,
        "JPY",
        "https://jp.mercari.com/item/m1",
    )


def test_a_listing_already_seen_never_alerts_again(tmp_path, run_command):
    alice = make_user()
    make_filter(alice, brands=["Sacai"])
    first = [listing_json("sacai knit", price=20000, external_id="m9")]
    run_command("import_listings", str(write_jsonl(tmp_path / "a.jsonl", first)))
    bumped = [listing_json("【値下げ】sacai knit", price=15000, external_id="m9")]
    status, out, _ = run_command("import_listings", str(write_jsonl(tmp_path / "b.jsonl", bumped)))
    assert status == 0
    assert "0 new, 1 already seen, 0 duplicates in the file, 0 rejected, 0 alerts queued" in out
    assert Alert.objects.filter(user=alice).count() == 1
    stored = Listing.objects.get(external_id="m9")
    assert (stored.title, stored.price) == ("【値下げ】sacai knit", 15000)  # details kept current


def test_the_same_id_on_another_market_is_another_listing():
    alice = make_user()
    make_filter(alice, brands=["Sacai"])
    result = ingest_listings(
        [
            listing("sacai knit", external_id="x1"),
            listing("sacai knit", external_id="x1", market="rakuma"),
        ]
    )
    assert (result.new, result.alerts) == (2, 2)


def test_duplicates_inside_one_batch_count_once():
    alice = make_user()
    make_filter(alice, brands=["Sacai"])
    result = ingest_listings(
        [listing("sacai knit", external_id="d1"), listing("sacai knit", external_id="d1")]
    )
    assert (result.new, result.alerts) == (1, 1)


def test_banned_users_and_inactive_filters_get_nothing():
    alice, banned = make_user(), make_user()
    paused = make_filter(alice, brands=["Sacai"])
    update_filter(alice, paused.pk, {"active": False})
    make_filter(banned, brands=["Sacai"])
    ban_user(banned, "spam")
    result = ingest_listings([listing("sacai knit")])
    assert result.alerts == 0
    assert not Alert.objects.exists()


def test_a_new_filter_counts_at_the_next_import():
    alice = make_user()
    ingest_listings([listing("Kapital ボロ デニム")])  # builds the index with no filters
    create_filter(alice, {"name": "boro", "brands": ["キャピタル"]})
    assert ingest_listings([listing("KAPITAL ボロ ジャケット")]).alerts == 1


def test_bad_lines_are_reported_and_good_lines_imported(tmp_path, run_command):
    alice = make_user()
    make_filter(alice, brands=["Sacai"])
    rows = [
        listing_json("sacai knit", external_id="ok1"),
        "[1, 2]",
        {**listing_json("sacai coat", external_id="bad1"), "price": "cheap"},
        {**listing_json("sacai coat", external_id="bad2"), "url": "/item/2", "market": "ebay"},
        {key: value for key, value in listing_json("sacai tee").items() if key != "title"},
        {**listing_json("sacai vest", external_id="bad4"), "listed_at": "yesterday"},
        listing_json("sacai skirt", external_id="ok2"),
    ]
    status, out, err = run_command("import_listings", str(write_jsonl(tmp_path / "l.jsonl", rows)))
    assert status == 1
    assert "line 2: must be a JSON object {…}, not an array" in err
    assert "line 3: price: must be a whole number of yen, not 'cheap'" in err
    assert "line 4: market: 'ebay' is not a known market" in err
    assert "line 4: url: must be an absolute http(s) URL, not '/item/2'" in err
    assert "line 5: title: is missing" in err
    assert "line 6: listed_at: must be an ISO 8601 time with a time zone, not 'yesterday'" in err
    assert out.startswith(
        "read 7 lines: 2 new, 0 already seen, 0 duplicates in the file, 5 rejected, 2 alerts queued,"
    )
    assert set(Listing.objects.values_list("external_id", flat=True)) == {"ok1", "ok2"}


def test_listed_at_and_optional_fields_are_kept(tmp_path, run_command):
    row = {
        **listing_json("Helmut Lang bondage", external_id="h1"),
        "image_url": "https://static.mercdn.net/thumb/item/webp/h1_1.jpg",
        "listed_at": "2026-11-20T09:30:00+09:00",
        "brand": None,
    }
    run_command("import_listings", str(write_jsonl(tmp_path / "l.jsonl", [row])))
    stored = Listing.objects.get(external_id="h1")
    assert stored.listed_at.isoformat() == "2026-11-20T00:30:00+00:00"
    assert stored.image_url.endswith("h1_1.jpg")
    assert stored.brand is None


def test_a_missing_file_is_a_clear_error_without_a_summary(run_command):
    status, out, err = run_command("import_listings", "/nonexistent/listings.jsonl")
    assert status == 1
    assert "can't read /nonexistent/listings.jsonl: No such file or directory" in err
    assert out == ""
