"""Clients for the REST API: signed in as a user (force_authenticate) or anonymous."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.builders import make_user


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    """Throttling counts requests in the cache; each test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_as():
    """An APIClient authenticated as `user` (a new one when not given)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        client.force_authenticate(user or make_user())
        return client

    return make
