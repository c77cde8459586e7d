"""Sign in with Discord, through the emulator's OAuth2 flow over real HTTP.

The test client cannot follow a redirect to another host, so each test walks the
flow by hand: our login page sends the browser to the emulator's authorize URL,
which (as Discord does after consent) sends it back to our callback with a code;
the callback then exchanges the code and reads the profile over HTTP.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache

from alerts.moderation import ban_user
from tests.builders import make_filter
from users.models import User
from users.services import get_or_create_discord_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/discord/login/"
CALLBACK = "/accounts/discord/login/callback/"
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()  # allauth counts sign-in starts per IP in the cache, across tests


@pytest.fixture
def discord(discord_oauth):
    return discord_oauth


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the redirect is back to our server, which the test client answers


def sign_in(client, emulator, login: str = LOGIN):
    """Click "Sign in with Discord" and approve; the answer of our callback."""
    confirmation = client.get(login)
    assert confirmation.status_code == 200 and "<form" in confirmation.content.decode()
    start = client.post(login)  # the form posts back to the page's own URL
    assert start.status_code == 302
    authorize = start["Location"]
    assert authorize.startswith(f"{emulator.base_url}/oauth2/authorize?")
    opener = urllib.request.build_opener(_NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(authorize, timeout=10)
    assert answer.value.code == 302
    back = urlsplit(answer.value.headers["Location"])
    assert back.path == CALLBACK
    return client.get(f"{back.path}?{back.query}")


def signed_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_a_new_discord_id_gets_an_account_and_lands_on_the_dashboard(client, discord):
    discord.sign_in_as("412345678901234567", "kenji", global_name="Kenji T")
    landed = sign_in(client, discord)
    assert landed.status_code == 302 and landed["Location"] == "/"
    user = User.objects.get(discord_id="412345678901234567")
    assert user.username == "kenji" and not user.has_usable_password()
    assert signed_in_user(client) == user
    # Only the "identify" scope is asked for: no e-mail address.
    assert discord.oauth_scopes == ["identify"]
    page = client.get("/accounts/").content.decode()
    assert "412345678901234567" in page and "Kenji T" in page


def test_the_sign_in_returns_to_the_page_that_asked_for_it(client, discord):
    discord.sign_in_as("189012345678901234", "sora")
    landed = sign_in(client, discord, f"{LOGIN}?next=/filters/new/")
    assert landed.status_code == 302 and landed["Location"] == "/filters/new/"


def test_the_user_the_bot_made_signs_in_with_their_filters(client, discord):
    user, _ = get_or_create_discord_user("523456789012345678", "aya")
    make_filter(user, "sacai jackets", brands=["Sacai"])
    discord.sign_in_as("523456789012345678", "aya")
    assert sign_in(client, discord)["Location"] == "/"
    assert signed_in_user(client).pk == user.pk
    assert User.objects.count() == 1
    assert [f.name for f in user.filters.all()] == ["sacai jackets"]
    # Signing in again, now with a linked social account, is the same user again.
    client.logout()
    discord.sign_in_as("523456789012345678", "aya-renamed")
    assert sign_in(client, discord)["Location"] == "/"
    assert signed_in_user(client).pk == user.pk
    user.refresh_from_db()
    assert user.username == "aya-renamed"  # the name follows Discord's, as with the bot


def test_a_banned_user_may_sign_in_to_read(client, discord):
    user, _ = get_or_create_discord_user("634567890123456789", "mallory")
    ban_user(user, "spam")
    discord.sign_in_as("634567890123456789", "mallory")
    assert sign_in(client, discord)["Location"] == "/"
    assert signed_in_user(client).pk == user.pk


def test_a_wrong_client_secret_fails_politely(client, discord, settings):
    settings.SOCIALACCOUNT_PROVIDERS["discord"]["APPS"][0]["secret"] = "not-the-secret"
    discord.sign_in_as("745678901234567890", "eve")
    failed = sign_in(client, discord)
    assert failed.status_code < 500
    assert "Signing in with Discord did not work" in failed.content.decode()
    assert signed_in_user(client) is None
    assert not User.objects.exists()
    assert not discord.oauth_tokens  # the emulator refused the exchange


def test_a_cancelled_consent_signs_nobody_in(client, discord):
    discord.oauth_user = None  # the user pressed "Cancel" on Discord's page
    answer = sign_in(client, discord)
    assert answer.status_code == 302
    cancelled = client.get(answer["Location"])
    assert cancelled.status_code == 200 and "Sign-in cancelled" in cancelled.content.decode()
    assert signed_in_user(client) is None and not User.objects.exists()


def test_starting_sign_ins_is_rate_limited(client, discord, settings):
    settings.ACCOUNT_RATE_LIMITS = {"login": "2/m/ip"}
    assert [client.post(LOGIN).status_code for _ in range(3)] == [302, 302, 429]


def test_users_have_no_password_sign_up_or_login(client):
    User.objects.create_user("walter", password=PASSWORD, discord_id="856789012345678901")
    client.post("/accounts/login/", {"login": "walter", "password": PASSWORD})
    assert signed_in_user(client) is None
    client.post(
        "/accounts/signup/",
        {"username": "intruder", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert signed_in_user(client) is None
    assert not User.objects.filter(username="intruder").exists()


def test_staff_keep_the_admin_login(client):
    User.objects.create_user("moderator", password=PASSWORD, is_staff=True)
    answer = client.post(
        "/admin/login/?next=/admin/", {"username": "moderator", "password": PASSWORD}
    )
    assert answer.status_code == 302 and answer["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_account_page_needs_a_sign_in_and_logs_out(client, discord):
    anonymous = client.get("/accounts/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN)
    discord.sign_in_as("967890123456789012", "noriko")
    sign_in(client, discord)
    page = client.get("/accounts/")
    assert page.status_code == 200 and "967890123456789012" in page.content.decode()
    assert 'action="/accounts/logout/"' in page.content.decode()
    client.post("/accounts/logout/")
    assert signed_in_user(client) is None


def test_the_emulator_still_answers_the_bot_and_refuses_unknown_bearers(discord):
    def me(authorization: str) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{discord.base_url}/users/@me", headers={"Authorization": authorization}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, {}

    status, bot = me(f"Bot {discord.config.token}")
    assert status == 200 and bot["bot"] is True
    assert me("Bearer made-up")[0] == 401
    # A Bearer token is for /users/@me only, never the bot's routes.
    channel = urllib.request.Request(
        f"{discord.base_url}/channels/1/messages?limit=1", headers={"Authorization": "Bearer x"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(channel, timeout=10)
    assert refused.value.code == 401


def test_the_emulator_grants_a_code_once_and_only_for_its_redirect_uri(discord):
    discord.sign_in_as("178901234567890123", "ren")
    redirect_uri = "http://testserver/accounts/discord/login/callback/"
    query = {"client_id": discord.config.client_id, "response_type": "code", "scope": "identify"}
    opener = urllib.request.build_opener(_NoRedirects)
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(
            f"{discord.base_url}/oauth2/authorize?{urlencode({**query, 'redirect_uri': redirect_uri})}",
            timeout=10,
        )
    [code] = parse_qs(urlsplit(answer.value.headers["Location"]).query)["code"]

    def exchange(uri: str) -> tuple[int, dict]:
        form = {
            "client_id": discord.config.client_id,
            "client_secret": discord.config.client_secret,
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": uri,
        }
        request = urllib.request.Request(
            f"{discord.base_url}/oauth2/token", data=urlencode(form).encode()
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    refused = (400, {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'})
    assert exchange("http://elsewhere/") == refused
    status, granted = exchange(redirect_uri)
    assert status == 200 and granted["token_type"] == "Bearer"
    assert discord.oauth_tokens[granted["access_token"]]["id"] == "178901234567890123"
    assert exchange(redirect_uri) == refused  # a code is good once
