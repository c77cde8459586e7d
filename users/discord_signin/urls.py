"""/accounts/discord/login/ and its callback, served by this package's views."""

from __future__ import annotations

from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns

from users.discord_signin.provider import DiscordProvider

urlpatterns = default_urlpatterns(DiscordProvider)
