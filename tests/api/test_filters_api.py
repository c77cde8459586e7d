"""/api/v1/filters/: the filter service's rules and messages over HTTP, and ownership."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from filters.models import Filter
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db

FILTER_FIELDS = {
    "id",
    "name",
    "brands",
    "keywords",
    "exclude",
    "price_min",
    "price_max",
    "markets",
    "keywords_any",
    "conditions",
    "sizes",
    "categories",
    "sale_types",
    "seller_types",
    "unknown_ok",
    "include_old",
    "price_drops",
    "active",
    "created_at",
    "updated_at",
}


def test_it_creates_a_filter_with_canonical_brands_in_the_import_format(api_as):
    user = make_user()
    answer = api_as(user).post(
        "/api/v1/filters/",
        {"name": "Margiela coats", "brands": ["margiela"], "price_max": 50000},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert set(body) == FILTER_FIELDS
    assert body["brands"] == ["Maison Margiela"]
    assert body["price_max"] == 50000 and body["price_min"] is None
    assert body["active"] is True
    # The sharper conditions, at their defaults: any attribute, unknowns welcome, no old news.
    assert body["conditions"] == body["sizes"] == body["keywords_any"] == []
    assert (body["unknown_ok"], body["include_old"], body["price_drops"]) == (True, False, True)
    assert Filter.objects.get(pk=body["id"]).owner == user


def test_it_takes_the_sharper_conditions_and_names_a_wrong_one(api_as):
    client = api_as(make_user())
    sharper = {
        "name": "Geobaskets 27",
        "brands": ["Rick Owens"],
        "keywords_any": ["geobasket", "ジオバスケット"],
        "conditions": ["like_new", "new"],
        "sizes": ["27.0 cm", "ＵＳ９"],
        "categories": ["footwear"],
        "sale_types": ["fixed"],
        "seller_types": ["individual", "shop"],
        "unknown_ok": False,
        "include_old": True,
        "price_drops": False,
    }
    answer = client.post("/api/v1/filters/", sharper, format="json")
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["conditions"] == ["new", "like_new"]  # in the vocabulary's order
    assert body["sizes"] == ["27cm", "US9"]
    assert (body["unknown_ok"], body["include_old"], body["price_drops"]) == (False, True, False)

    wrong = client.post(
        "/api/v1/filters/",
        {**sharper, "name": "Other", "conditions": ["mint"], "sale_types": "fixed"},
        format="json",
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "conditions": ["'mint' is not a condition; choose from new, like_new, good, fair, poor."],
        "sale_types": ['sale_types must be a list, such as ["fixed"], not the text "fixed".'],
    }


def test_it_lists_only_the_users_filters_paginated(api_as):
    user, other = make_user(), make_user()
    for name in ("b filter", "a filter"):
        make_filter(user, name)
    make_filter(other, "not mine")
    body = api_as(user).get("/api/v1/filters/").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [f["name"] for f in body["results"]] == ["a filter", "b filter"]


def test_pages_follow_page_size(api_as):
    user = make_user()
    for n in range(3):
        make_filter(user, f"f{n}")
    client = api_as(user)
    first = client.get("/api/v1/filters/?page_size=2").json()
    assert first["count"] == 3 and len(first["results"]) == 2 and first["previous"] is None
    second = client.get(first["next"]).json()
    assert [f["name"] for f in second["results"]] == ["f2"] and second["next"] is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"name": "upside down", "keywords": ["coat"], "price_min": 9000, "price_max": 1000},
            "price_min",
            "The minimum price (¥9,000) is above the maximum (¥1,000).",
        ),
        (
            {"name": "where", "keywords": ["coat"], "markets": ["ebay"]},
            "markets",
            "'ebay' is not a market you can choose; choose from mercari, yahoo_auctions, "
            "rakuma, paypay_fleamarket.",
        ),
        (
            {"name": "text", "brands": "Rick Owens"},
            "brands",
            'brands must be a list, such as ["Rick Owens"], not the text "Rick Owens".',
        ),
        (
            {"keywords": ["coat"]},
            "name",
            "Give the filter a name.",
        ),
        (
            {"name": "x", "keywords": ["coat"], "colour": "red"},
            "colour",
            "“colour” is not a filter field; use name, brands, keywords, keywords_any, exclude, "
            "price_min, price_max, markets, conditions, sizes, categories, sale_types, "
            "seller_types, unknown_ok, include_old, price_drops, active.",
        ),
    ],
)
def test_creating_refuses_bad_input_with_the_services_message_under_its_field(
    api_as, data, field, message
):
    answer = api_as().post("/api/v1/filters/", data, format="json")
    assert answer.status_code == 400
    assert answer.json()[field] == [message]
    assert not Filter.objects.exists()


def test_a_json_array_body_is_refused_in_words(api_as):
    answer = api_as().post("/api/v1/filters/", [{"name": "x"}], format="json")
    assert answer.status_code == 400
    assert "JSON object" in answer.json()["non_field_errors"][0]


def test_a_taken_name_is_refused_under_name(api_as):
    user = make_user()
    make_filter(user, "Sacai")
    answer = api_as(user).post(
        "/api/v1/filters/", {"name": "sacai", "brands": ["Sacai"]}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json() == {"name": ["You already have a filter named “Sacai”."]}  # its spelling


def test_over_the_quota_is_403_with_the_services_sentence(api_as):
    user = make_user(filter_quota=1)
    make_filter(user, "only one")
    answer = api_as(user).post(
        "/api/v1/filters/", {"name": "two", "keywords": ["x"]}, format="json"
    )
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "You have 1 of your 1 filters; delete one to make room for another."
    }


def test_patch_changes_only_the_given_fields_and_checks_the_whole_filter(api_as):
    user = make_user()
    found = make_filter(user, "coats", keywords=["coat"], price_min=1000)
    client = api_as(user)
    answer = client.patch(f"/api/v1/filters/{found.pk}/", {"price_max": 500}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {
        "price_min": ["The minimum price (¥1,000) is above the maximum (¥500)."]
    }
    answer = client.patch(
        f"/api/v1/filters/{found.pk}/", {"brands": ["cdg"], "price_max": 5000}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["brands"] == ["Comme des Garçons"]
    assert answer.json()["keywords"] == ["coat"]
    found.refresh_from_db()
    assert (found.price_min, found.price_max) == (1000, 5000)


def test_patching_back_what_was_read_is_accepted(api_as):
    user = make_user()
    found = make_filter(user, "coats", keywords=["coat"])
    client = api_as(user)
    read = client.get(f"/api/v1/filters/{found.pk}/").json()
    answer = client.patch(
        f"/api/v1/filters/{found.pk}/", {**read, "name": "jackets"}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["name"] == "jackets"


def test_put_is_not_offered(api_as):
    user = make_user()
    found = make_filter(user)
    answer = api_as(user).put(f"/api/v1/filters/{found.pk}/", {"name": "x"}, format="json")
    assert answer.status_code == 405


def test_pause_and_resume_answer_with_the_filter(api_as):
    user = make_user()
    found = make_filter(user)
    client = api_as(user)
    paused = client.post(f"/api/v1/filters/{found.pk}/pause/")
    assert paused.status_code == 200 and paused.json()["active"] is False
    found.refresh_from_db()
    assert found.active is False
    resumed = client.post(f"/api/v1/filters/{found.pk}/resume/")
    assert resumed.status_code == 200 and resumed.json()["active"] is True


def test_delete_removes_the_filter(api_as):
    user = make_user()
    found = make_filter(user)
    client = api_as(user)
    assert client.delete(f"/api/v1/filters/{found.pk}/").status_code == 204
    assert not Filter.objects.filter(pk=found.pk).exists()
    assert client.get(f"/api/v1/filters/{found.pk}/").status_code == 404


def test_preview_shows_recent_listings_the_filter_would_match(api_as):
    user = make_user()
    found = make_filter(user, "sacai", brands=["Sacai"], price_max=20000)
    ingest_listings(
        [
            listing("sacai ドッキング ニット", price=15000),
            listing("sacai coat", price=90000),
            listing("unrelated jacket", price=1000),
        ]
    )
    answer = api_as(user).get(f"/api/v1/filters/{found.pk}/preview/")
    assert answer.status_code == 200
    body = answer.json()
    assert body["count"] == 1
    assert body["results"][0]["title"] == "sacai ドッキング ニット"
    assert body["results"][0]["price"] == 15000
    assert body["results"][0]["market"] == "mercari"


ENDPOINTS = [
    ("get", "/api/v1/filters/{id}/"),
    ("patch", "/api/v1/filters/{id}/"),
    ("delete", "/api/v1/filters/{id}/"),
    ("post", "/api/v1/filters/{id}/pause/"),
    ("post", "/api/v1/filters/{id}/resume/"),
    ("get", "/api/v1/filters/{id}/preview/"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_another_users_filter_is_not_found_and_left_alone(api_as, method, url):
    owner = make_user()
    theirs = make_filter(owner, "theirs", keywords=["coat"])
    answer = getattr(api_as(make_user()), method)(
        url.format(id=theirs.pk), {"name": "mine now"}, format="json"
    )
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No filter of yours has that id."}
    theirs.refresh_from_db()
    assert (theirs.name, theirs.active) == ("theirs", True)


@pytest.mark.parametrize("bad_id", ["abc", "99999999999999999999999", "0"])
def test_ids_that_cannot_exist_are_not_found(api_as, bad_id):
    assert api_as().get(f"/api/v1/filters/{bad_id}/").status_code == 404


@pytest.mark.parametrize(("method", "url"), [("get", "/api/v1/filters/"), *ENDPOINTS])
def test_without_credentials_it_is_401(method, url):
    found = make_filter(make_user())
    answer = getattr(APIClient(), method)(url.format(id=found.pk))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_a_banned_user_gets_the_services_message(api_as):
    user = make_user(is_banned=True)
    answer = api_as(user).post("/api/v1/filters/", {"name": "x", "keywords": ["y"]}, format="json")
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "Your account is suspended, so your filters can't be changed. "
        "Contact the moderators."
    }


def test_a_signed_in_browser_needs_the_csrf_token_to_write():
    user = make_user()
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(user)
    assert browser.get("/api/v1/filters/").status_code == 200
    answer = browser.post("/api/v1/filters/", {"name": "x", "keywords": ["y"]}, format="json")
    assert answer.status_code == 403
    assert "CSRF" in answer.json()["detail"]
    assert not Filter.objects.exists()


def test_requests_over_the_rate_are_throttled_per_user(api_as, settings):
    settings.API_THROTTLE_RATE = "3/min"
    user = make_user()
    client = api_as(user)
    assert [client.get("/api/v1/filters/").status_code for _ in range(4)] == [200, 200, 200, 429]
    # Another user has a budget of their own.
    assert api_as(make_user()).get("/api/v1/filters/").status_code == 200
