"""django-csp's middleware, with form-action following DISCORD_API_BASE at request time."""

from __future__ import annotations

from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase


def discord_origin() -> str:
    """The origin of DISCORD_API_BASE, where "Sign in with Discord" redirects to authorize."""
    parts = urlsplit(settings.DISCORD_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


class CSPMiddleware(BaseCSPMiddleware):
    """Allows the sign-in form's redirect to Discord in form-action.

    The sign-in confirmation posts to us and we redirect to Discord's authorize page; browsers
    that apply form-action to redirects after a form post would block it. The origin is read
    per request, not once in settings.py, so it follows DISCORD_API_BASE wherever it points
    (a local emulator in tests).
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only:
            update = dict(parts.update or {})
            update["form-action"] = [*update.get("form-action", []), discord_origin()]
            parts.update = update
        return parts
