"""The account page's API tokens: created and shown once, listed without secrets, revoked."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from alerts.moderation import ban_user
from tests.builders import make_user
from users.models import ApiToken
from users.services import create_token

pytestmark = pytest.mark.django_db


def api_status(secret: str) -> int:
    return Client().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code


def test_a_token_made_on_the_account_page_is_shown_once_and_works_until_revoked(signed_in):
    client, user = signed_in()
    made = client.post(
        "/accounts/", {"action": "create-token", "name": "laptop script"}, follow=True
    )
    assert made.redirect_chain == [("/accounts/", 302)]  # a reload makes no second token
    secret = re.search(r'<code id="new-token">([^<]+)</code>', made.content.decode()).group(1)
    assert api_status(secret) == 200

    again = client.get("/accounts/").content.decode()
    assert "laptop script" in again
    assert secret not in again  # shown once, stored only as a hash
    assert not ApiToken.objects.filter(key_hash=secret).exists()

    token = ApiToken.objects.get(user=user)
    revoked = client.post("/accounts/", {"action": "revoke-token", "token": token.pk})
    assert revoked.status_code == 302
    assert api_status(secret) == 401


def test_a_bad_name_is_explained_beside_the_field_and_kept(signed_in):
    client, _ = signed_in()
    page = client.post("/accounts/", {"action": "create-token", "name": "   "})
    assert page.status_code == 400
    assert "Give the token a name" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_another_users_token_is_a_404_and_stays(signed_in):
    client, _ = signed_in()
    theirs, secret = create_token(make_user("other"), "their script")
    response = client.post("/accounts/", {"action": "revoke-token", "token": theirs.pk})
    assert response.status_code == 404
    assert api_status(secret) == 200
    assert "their script" not in client.get("/accounts/").content.decode()


def test_a_banned_user_gets_the_suspension_sentence_not_a_token(signed_in):
    client, user = signed_in()
    ban_user(user, "spam")
    page = client.post("/accounts/", {"action": "create-token", "name": "script"})
    assert page.status_code == 400
    assert "suspended" in page.content.decode()
    assert not ApiToken.objects.exists()


def test_reloading_after_making_a_token_makes_no_second_one_nor_shows_the_secret_again(signed_in):
    client, user = signed_in()
    made = client.post("/accounts/", {"action": "create-token", "name": "laptop"})
    assert made.status_code == 302 and made["Location"] == "/accounts/"
    shown = client.get("/accounts/").content.decode()
    secret = re.search(r'<code id="new-token">([^<]+)</code>', shown).group(1)
    reloaded = client.get("/accounts/").content.decode()
    assert secret not in reloaded and 'id="new-token"' not in reloaded
    assert ApiToken.objects.filter(user=user).count() == 1
    assert not any(secret in str(value) for value in client.session.values())


def test_token_names_are_unique_per_user_on_the_page_and_in_the_api(signed_in):
    client, user = signed_in()
    create_token(user, "Laptop")
    again = client.post("/accounts/", {"action": "create-token", "name": "laptop"})
    assert again.status_code == 400
    message = "You already have a token named “Laptop”; give this one another name."
    assert message in again.content.decode()
    api = APIClient()
    api.force_authenticate(user)
    answer = api.post("/api/v1/tokens/", {"name": " LAPTOP "}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"name": [message]}
    _, other = signed_in()
    create_token(other, "Laptop")  # another user may use the name
    assert ApiToken.objects.filter(name__iexact="laptop").count() == 2
