"""/api/v1/tokens/: personal tokens, shown once, stored hashed, revoked for good."""

from __future__ import annotations

import hashlib

import pytest
from rest_framework.test import APIClient

from tests.builders import make_filter, make_user
from users.models import ApiToken

pytestmark = pytest.mark.django_db


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(api_as):
    user = make_user()
    client = api_as(user)
    answer = client.post("/api/v1/tokens/", {"name": "laptop script"}, format="json")
    assert answer.status_code == 201
    body = answer.json()
    secret = body["token"]
    assert body["name"] == "laptop script" and body["last_used_at"] is None
    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(ApiToken.objects.filter(pk=stored.pk).values().first())
    listed = client.get("/api/v1/tokens/").json()
    assert listed["count"] == 1
    assert set(listed["results"][0]) == {"id", "name", "created_at", "last_used_at"}
    assert secret not in str(listed)


def test_a_bearer_token_authenticates_its_user_and_notes_its_use(api_as):
    user = make_user()
    make_filter(user, "mine")
    secret = api_as(user).post("/api/v1/tokens/", {"name": "cron"}, format="json").json()["token"]
    answer = bearer(secret).get("/api/v1/filters/")
    assert answer.status_code == 200
    assert [f["name"] for f in answer.json()["results"]] == ["mine"]
    assert ApiToken.objects.get().last_used_at is not None
    # Writes need no CSRF token with a Bearer token: no cookie can carry it.
    made = bearer(secret).post(
        "/api/v1/filters/", {"name": "new", "keywords": ["x"]}, format="json"
    )
    assert made.status_code == 201


def test_a_revoked_token_is_refused_with_401(api_as):
    user = make_user()
    client = api_as(user)
    made = client.post("/api/v1/tokens/", {"name": "old"}, format="json").json()
    assert bearer(made["token"]).get("/api/v1/me/").status_code == 200
    assert bearer(made["token"]).delete(f"/api/v1/tokens/{made['id']}/").status_code == 204
    answer = bearer(made["token"]).get("/api/v1/me/")
    assert answer.status_code == 401
    assert answer.json() == {"detail": "That API token is not valid or has been revoked."}
    assert client.get("/api/v1/tokens/").json()["count"] == 0


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer mat_a b", "Bearer"])
def test_a_wrong_token_is_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/me/").status_code == 401


def test_another_users_token_cannot_be_revoked(api_as):
    owner = make_user()
    made = api_as(owner).post("/api/v1/tokens/", {"name": "theirs"}, format="json").json()
    answer = api_as(make_user()).delete(f"/api/v1/tokens/{made['id']}/")
    assert answer.status_code == 404
    assert bearer(made["token"]).get("/api/v1/me/").status_code == 200


def test_a_token_needs_a_name(api_as):
    answer = api_as().post("/api/v1/tokens/", {}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"name": ["Give the token a name, such as “laptop script”."]}


def test_a_banned_user_cannot_make_tokens(api_as):
    answer = api_as(make_user(is_banned=True)).post("/api/v1/tokens/", {"name": "x"}, format="json")
    assert answer.status_code == 403
    assert "suspended" in answer.json()["detail"]
    assert not ApiToken.objects.exists()


def test_tokens_need_credentials():
    assert APIClient().get("/api/v1/tokens/").status_code == 401
    assert APIClient().post("/api/v1/tokens/", {"name": "x"}, format="json").status_code == 401
