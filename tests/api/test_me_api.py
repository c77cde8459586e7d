"""/api/v1/me/: the account's alert settings, changed through the user services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from tests.builders import make_user
from users.models import User
from users.services import set_destination

pytestmark = pytest.mark.django_db


def test_it_shows_the_account(api_as):
    user = make_user("kenji", discord_id="123456789012345678")
    answer = api_as(user).get("/api/v1/me/")
    assert answer.status_code == 200
    assert answer.json() == {
        "discord_id": "123456789012345678",
        "username": "kenji",
        "destination": {"kind": "dm"},
        "digest": "instant",
        "muted_until": None,
    }


def test_a_channel_destination_shows_its_ids(api_as):
    user = make_user()
    set_destination(user, "channel", "111", "222")
    body = api_as(user).get("/api/v1/me/").json()
    assert body["destination"] == {"kind": "channel", "channel_id": "111", "guild_id": "222"}


def test_digest_and_mute_are_set_through_the_services(api_as):
    user = make_user()
    until = timezone.now() + timedelta(hours=8)
    answer = api_as(user).patch(
        "/api/v1/me/", {"digest": "daily", "muted_until": until.isoformat()}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    user.refresh_from_db()
    assert user.digest == "daily"
    assert abs(user.muted_until - until) < timedelta(seconds=1)
    assert answer.json()["digest"] == "daily"
    unmuted = api_as(user).patch("/api/v1/me/", {"muted_until": None}, format="json")
    assert unmuted.json()["muted_until"] is None
    user.refresh_from_db()
    assert user.muted_until is None


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"digest": "weekly"},
            "digest",
            "The digest must be one of instant, hourly, daily, not 'weekly'.",
        ),
        ({"muted_until": "tomorrow"}, "muted_until", "Give an ISO 8601 time"),
        ({"muted_until": "2030-13-45T09:00:00Z"}, "muted_until", "Give an ISO 8601 time"),
        ({"muted_until": 1767225600}, "muted_until", "Give an ISO 8601 time"),
        ({"muted_until": "2030-01-01T09:00:00"}, "muted_until", "with its time zone"),
        ({"destination": {"kind": "dm", "channel_id": "1"}}, "destination", 'just {"kind": "dm"}'),
        ({"destination": {"kind": "pigeon"}}, "destination", "must be “dm” or “channel”"),
        (
            {"muted_until": "2000-01-01T09:00:00Z"},
            "muted_until",
            "The mute must end in the future.",
        ),
        ({"discord_id": "1"}, "discord_id", "can't be changed"),
        ({"username": "someone else"}, "username", "change it in Discord"),
        ({"colour": "red"}, "colour", "is not an account field"),
        ({"destination": "dm"}, "destination", 'such as {"kind": "dm"}'),
    ],
)
def test_bad_changes_are_refused_under_their_field(api_as, data, field, message):
    user = make_user()
    answer = api_as(user).patch("/api/v1/me/", data, format="json")
    assert answer.status_code == 400
    assert message in answer.json()[field][0]


def test_the_30_day_rule_is_the_services(api_as):
    until = timezone.now() + timedelta(days=31)
    answer = api_as().patch("/api/v1/me/", {"muted_until": until.isoformat()}, format="json")
    assert answer.status_code == 400
    assert answer.json() == {"muted_until": ["The longest mute is 30 days."]}


def test_one_refused_field_changes_nothing(api_as):
    user = make_user()
    answer = api_as(user).patch(
        "/api/v1/me/", {"digest": "hourly", "muted_until": "2000-01-01T00:00:00Z"}, format="json"
    )
    assert answer.status_code == 400
    user.refresh_from_db()
    assert user.digest == "instant"


def test_a_channel_is_refused_with_a_pointer_to_discord(api_as):
    user = make_user()
    answer = api_as(user).patch(
        "/api/v1/me/",
        {"destination": {"kind": "channel", "channel_id": "111", "guild_id": "222"}},
        format="json",
    )
    assert answer.status_code == 400
    assert "/alerts channel" in answer.json()["destination"][0]
    user.refresh_from_db()
    assert user.destination_kind == "dm"


def test_it_switches_back_to_dm_and_clears_what_delivery_learned(api_as):
    user = make_user()
    set_destination(user, "channel", "111", "222")
    User.objects.filter(pk=user.pk).update(channel_broken_reason="Missing Access")
    client = api_as(user)
    read = client.get("/api/v1/me/").json()
    # What was read can be sent back as it is: the channel and the ids are unchanged.
    assert client.patch("/api/v1/me/", read, format="json").status_code == 200
    answer = client.patch("/api/v1/me/", {"destination": {"kind": "dm"}}, format="json")
    assert answer.status_code == 200
    assert answer.json()["destination"] == {"kind": "dm"}
    user.refresh_from_db()
    assert (user.destination_kind, user.channel_broken_reason) == ("dm", "")


def test_a_banned_user_gets_the_banned_message(api_as):
    user = make_user(is_banned=True)
    answer = api_as(user).patch("/api/v1/me/", {"digest": "daily"}, format="json")
    assert answer.status_code == 403
    assert answer.json() == {
        "detail": "Your account is suspended, so your alert timing can't be changed. "
        "Contact the moderators."
    }


def test_without_credentials_it_is_401():
    assert APIClient().get("/api/v1/me/").status_code == 401
    assert APIClient().patch("/api/v1/me/", {"digest": "daily"}, format="json").status_code == 401
