"""The OAuth2 adapter and views of "Sign in with Discord", on settings.DISCORD_API_BASE."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from allauth.decorators import rate_limit
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialLogin, SocialToken
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.discord.views import (
    DiscordOAuth2Adapter as AllauthDiscordOAuth2Adapter,
)
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed


class DiscordOAuth2Adapter(AllauthDiscordOAuth2Adapter):
    # Read on every request, so a changed DISCORD_API_BASE (tests) takes effect at once.
    @property
    def authorize_url(self) -> str:
        return f"{settings.DISCORD_API_BASE}/oauth2/authorize"

    @property
    def access_token_url(self) -> str:
        return f"{settings.DISCORD_API_BASE}/oauth2/token"

    @property
    def profile_url(self) -> str:
        return f"{settings.DISCORD_API_BASE}/users/@me"

    def complete_login(
        self, request: HttpRequest, app: Any, token: SocialToken, **kwargs: Any
    ) -> SocialLogin:
        """The signed-in Discord user's profile; a refusal is an authentication error
        (allauth's own adapter would take Discord's error body for a profile)."""
        with get_adapter().get_requests_session() as session:
            response = session.get(
                self.profile_url, headers={"Authorization": f"Bearer {token.token}"}
            )
        if response.status_code != 200:
            raise ProviderException(f"Discord answered {response.status_code} for the profile.")
        profile = response.json()
        if not isinstance(profile, dict) or not profile.get("id"):
            raise ProviderException("Discord's profile has no user id.")
        return self.get_provider().sociallogin_from_response(request, profile)


# Starting a sign-in (the confirmation form's POST) counts against ACCOUNT_RATE_LIMITS
# "login". The callback needs the one-use state a start left in the session, so it makes
# at most one token exchange per counted start and needs no limit of its own.
def starts_only_on_get_or_post(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Only GET (the confirmation page) and POST (its form, CSRF-checked) reach the view:
    allauth starts a sign-in on any other method, HEAD and OPTIONS included, which the
    CSRF check lets through. HEAD answers as GET does, without a body; the rest are 405."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "HEAD":
            request.method = "GET"  # the confirmation page's headers; the server drops the body
        if request.method not in ("GET", "POST"):
            return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
        return view(request, *args, **kwargs)

    return guarded


oauth2_login = starts_only_on_get_or_post(
    rate_limit(action="login")(OAuth2LoginView.adapter_view(DiscordOAuth2Adapter))
)
oauth2_callback = OAuth2CallbackView.adapter_view(DiscordOAuth2Adapter)
