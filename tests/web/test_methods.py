"""Which HTTP methods each page answers: every page a GET shows answers HEAD without doing
anything more; only GET and POST reach "Sign in with Discord", so HEAD and OPTIONS start no
sign-in; Swagger UI answers OPTIONS."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session

from filters.models import Filter
from tests.builders import make_filter
from users.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/discord/login/"


def test_every_page_a_get_shows_answers_head(signed_in):
    client, user = signed_in()
    found = make_filter(user, "Sacai knits", brands=["Sacai"])
    pages = [
        "/",
        "/filters/new/",
        "/alerts/",
        "/settings/",
        "/accounts/",
        "/accounts/delete/",
        f"/filters/{found.pk}/edit/",
        f"/filters/{found.pk}/delete/",
    ]
    for page in pages:
        head = client.head(page)
        assert head.status_code == 200, page
        assert head["Content-Type"] == client.get(page)["Content-Type"], page
        assert head.content == b"", page
    assert Filter.objects.filter(pk=found.pk).exists()  # HEAD on the delete page deletes nothing
    assert User.objects.filter(pk=user.pk).exists()  # nor does HEAD on the account's


def test_head_and_options_on_the_sign_in_start_no_sign_in(client, discord_oauth):
    head = client.head(LOGIN)
    assert head.status_code == 200  # the confirmation page's headers, as GET shows it
    options = client.options(LOGIN)
    assert options.status_code == 405 and options["Allow"] == "GET, HEAD, POST"
    for answer in (head, options):
        assert not answer.get("Location", "").startswith(discord_oauth.base_url)
    assert not Session.objects.exists()  # no sign-in state was stored for either
    assert client.post(LOGIN)["Location"].startswith(f"{discord_oauth.base_url}/oauth2/authorize?")


def test_the_api_docs_answer_options_with_their_methods(client):
    answer = client.options("/api/v1/docs/")
    assert answer.status_code == 200
    assert set(answer["Allow"].replace(" ", "").split(",")) >= {"GET", "HEAD", "OPTIONS"}
