"""Your data: everything we hold about you, downloadable from the web and the API, and
nobody else's; and your account, deleted from either after a confirmation."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from rest_framework.test import APIClient

from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user
from users.models import ApiToken, User
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


def test_the_web_deletes_your_account_after_you_type_your_name(signed_in):
    kenji, _, kenji_secret, mika_secret = two_users()
    client, _ = signed_in(kenji)
    assert "/accounts/delete/" in client.get("/accounts/").content.decode()
    page = client.get("/accounts/delete/").content.decode()
    for line in ("1 filter;", "1 API token;", "1 pending alert;", "0 past alerts;"):
        assert line in page, line

    wrong = client.post("/accounts/delete/", {"confirm": "mika"})
    assert wrong.status_code == 400
    assert "That is not your username: type kenji exactly" in wrong.content.decode()
    assert 'value="mika"' in wrong.content.decode()  # what was typed stays in the box
    assert User.objects.filter(pk=kenji.pk).exists()

    done = client.post("/accounts/delete/", {"confirm": "kenji"}, follow=True)
    assert done.redirect_chain == [("/", 302)]
    assert "Your account and everything we held about you are deleted." in done.content.decode()
    assert "Sign in with Discord" in done.content.decode()  # signed out: the landing page
    assert not User.objects.filter(username="kenji").exists()
    assert (
        APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {kenji_secret}").status_code
        == 401
    )
    assert (
        APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {mika_secret}").status_code
        == 200
    )


def test_the_web_delete_needs_the_forms_csrf_token():
    kenji, *_ = two_users()
    client = Client(enforce_csrf_checks=True)
    client.force_login(kenji)
    assert client.post("/accounts/delete/", {"confirm": "kenji"}).status_code == 403
    assert User.objects.filter(pk=kenji.pk).exists()


def test_the_api_deletes_your_account_and_only_yours():
    _, _, kenji_secret, mika_secret = two_users()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {kenji_secret}")
    missing = client.delete("/api/v1/me/")
    assert missing.status_code == 400
    assert missing.json() == {
        "confirm": ["Type your username, kenji, to confirm: this can't be undone."]
    }
    someone_else = client.delete("/api/v1/me/?confirm=mika")
    assert someone_else.status_code == 400 and "confirm" in someone_else.json()
    assert User.objects.filter(username__in=["kenji", "mika"]).count() == 2

    assert client.delete("/api/v1/me/?confirm=kenji").status_code == 204
    assert list(User.objects.values_list("username", flat=True)) == ["mika"]
    assert client.get("/api/v1/me/").status_code == 401  # the token went with the account
    mikas = APIClient().get("/api/v1/me/data/", HTTP_AUTHORIZATION=f"Bearer {mika_secret}")
    assert mikas.status_code == 200
    assert [found["name"] for found in mikas.json()["filters"]] == ["Mika's Kapital"]


def test_signed_out_nobody_deletes_anything(client):
    make_user("kenji")
    answer = client.post("/accounts/delete/", {"confirm": "kenji"})
    assert answer.status_code == 302 and "/accounts/discord/login/" in answer["Location"]
    assert APIClient().delete("/api/v1/me/?confirm=kenji").status_code == 401
    assert User.objects.filter(username="kenji").exists()
