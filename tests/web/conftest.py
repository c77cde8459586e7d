"""Signed-in test clients for the pages: Django's client logged in as a builders user."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.builders import make_user


@pytest.fixture
def signed_in():
    """A client signed in as a new user (or the one given); returns (client, user)."""

    def make(user=None):
        user = user or make_user()
        client = Client()
        client.force_login(user)
        return client, user

    return make
