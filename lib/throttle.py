"""Requests per user at API_THROTTLE_RATE, counted by DRF's throttle: the REST API's requests
(REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES) and, apart from them, the website's filter
previews and saves."""

from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import UserRateThrottle


class PerUserThrottle(UserRateThrottle):
    """API_THROTTLE_RATE per user (per address for anonymous requests), read per request
    so that a test can lower it; DRF's own setting is read once at import."""

    scope = "api"

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE


class WebFormThrottle(PerUserThrottle):
    """The same rate for the website's filter previews and saves, counted apart from the API."""

    scope = "web"
