"""Your data: everything we hold about you, downloadable from the web and the API, and
nobody else's."""

from __future__ import annotations

import json

import pytest
from rest_framework.test import APIClient

from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user
from users.models import ApiToken
from users.services import create_token

pytestmark = pytest.mark.django_db


def two_users():
    kenji, mika = make_user("kenji"), make_user("mika")
    make_filter(kenji, "Sacai knits", brands=["Sacai"], keywords=["knit"])
    make_filter(mika, "Mika's Kapital", brands=["Kapital"])
    ingest_listings([listing("Sacai knit coat", price=30000), listing("Kapital scarf")])
    _, kenji_secret = create_token(kenji, "laptop")
    _, mika_secret = create_token(mika, "phone")
    return kenji, mika, kenji_secret, mika_secret


def assert_only_kenjis(data: dict, kenji_secret: str, mika_secret: str) -> None:
    assert data["account"]["username"] == "kenji"
    assert [found["name"] for found in data["filters"]] == ["Sacai knits"]
    assert data["filters"][0]["keywords"] == ["knit"]
    assert [alert["listing"]["title"] for alert in data["alerts"]] == ["Sacai knit coat"]
    assert data["alerts"][0]["filters"] == ["Sacai knits"]
    assert [token["name"] for token in data["tokens"]] == ["laptop"]
    text = json.dumps(data, ensure_ascii=False)
    assert "mika" not in text and "Kapital" not in text and "phone" not in text
    assert kenji_secret not in text and mika_secret not in text
    assert ApiToken.objects.get(name="laptop").key_hash not in text  # not even the hash


def test_the_web_downloads_your_data_and_only_yours(signed_in):
    kenji, _, kenji_secret, mika_secret = two_users()
    client, _ = signed_in(kenji)
    assert "/accounts/data/" in client.get("/accounts/").content.decode()
    answer = client.get("/accounts/data/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert answer["Content-Disposition"].startswith("attachment;")
    assert_only_kenjis(json.loads(answer.content), kenji_secret, mika_secret)


def test_the_api_gives_your_data_and_only_yours():
    _, _, kenji_secret, mika_secret = two_users()
    client = APIClient()
    answer = client.get("/api/v1/me/data/", HTTP_AUTHORIZATION=f"Bearer {kenji_secret}")
    assert answer.status_code == 200
    assert_only_kenjis(answer.json(), kenji_secret, mika_secret)
    assert APIClient().get("/api/v1/me/data/").status_code == 401


def test_signed_out_nobody_downloads_anything(client):
    make_user("kenji")
    answer = client.get("/accounts/data/")
    assert answer.status_code == 302 and "/accounts/discord/login/" in answer["Location"]
