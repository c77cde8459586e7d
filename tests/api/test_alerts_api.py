"""/api/v1/alerts/ and /api/v1/listings/: history with status and filters, recent listings."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from alerts.models import Alert
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def test_alerts_show_listing_filters_and_status_pending_included(api_as):
    user = make_user()
    make_filter(user, "Sacai knits", brands=["Sacai"])
    make_filter(user, "knits", keywords=["ニット"])
    ingest_listings([listing("sacai ドッキング ニット", price=15000, market="rakuma")])
    answer = api_as(user).get("/api/v1/alerts/")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"count", "next", "previous", "results"}
    (alert,) = body["results"]
    assert alert["status"] == "pending" and alert["sent_at"] is None
    assert sorted(alert["filters"]) == ["Sacai knits", "knits"]
    assert alert["listing"]["title"] == "sacai ドッキング ニット"
    assert alert["listing"]["price"] == 15000
    assert alert["listing"]["market"] == "rakuma"
    assert alert["listing"]["market_label"] == "Rakuma"


def test_alerts_filter_by_status_and_market_and_stay_private(api_as):
    user, other = make_user(), make_user()
    make_filter(user, brands=["Sacai"])
    make_filter(other, brands=["Sacai"])
    ingest_listings([listing("sacai one", market="mercari"), listing("sacai two", market="rakuma")])
    Alert.objects.filter(user=user, listing__title="sacai one").update(status="sent")
    client = api_as(user)
    assert client.get("/api/v1/alerts/").json()["count"] == 2
    sent = client.get("/api/v1/alerts/?status=sent").json()["results"]
    assert [a["listing"]["title"] for a in sent] == ["sacai one"]
    rakuma = client.get("/api/v1/alerts/?market=rakuma").json()["results"]
    assert [a["listing"]["title"] for a in rakuma] == ["sacai two"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("status=lost", "status", "'lost' is not an alert status"),
        ("market=ebay", "market", "'ebay' is not a market"),
    ],
)
def test_unknown_filters_of_the_history_are_400(api_as, query, field, message):
    answer = api_as().get(f"/api/v1/alerts/?{query}")
    assert answer.status_code == 400
    assert message in answer.json()[field][0]


def test_listings_are_the_most_recent_first(api_as):
    ingest_listings([listing("first"), listing("second", market="rakuma")])
    client = api_as()
    body = client.get("/api/v1/listings/").json()
    assert [row["title"] for row in body["results"]] == ["second", "first"]
    assert body["count"] == 2
    only = client.get("/api/v1/listings/?market=rakuma").json()["results"]
    assert [row["title"] for row in only] == ["second"]


def test_history_and_listings_need_credentials():
    assert APIClient().get("/api/v1/alerts/").status_code == 401
    assert APIClient().get("/api/v1/listings/").status_code == 401
