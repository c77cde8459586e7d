"""allauth's Discord provider, using the adapter that follows DISCORD_API_BASE."""

from __future__ import annotations

from allauth.socialaccount.providers.discord.provider import (
    DiscordProvider as AllauthDiscordProvider,
)

from users.discord_signin.views import DiscordOAuth2Adapter


class DiscordProvider(AllauthDiscordProvider):
    # allauth finds the login and callback views (and urls.py) in this package.
    package = "users.discord_signin"
    oauth2_adapter_class = DiscordOAuth2Adapter

    def get_default_scope(self) -> list[str]:
        return ["identify"]  # the id and the name; never the e-mail address


provider_classes = [DiscordProvider]
