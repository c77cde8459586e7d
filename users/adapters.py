"""How allauth treats accounts here: Discord is the only way in for users.

Accounts are Discord identities, made by the bot on first use or by "Sign in with
Discord"; nobody signs up or logs in with a password (staff sign in at /admin/).
allauth's signup page answers with its "sign up is closed" page and creates nothing.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from lib.errors import ServiceError
from users.services import get_or_create_discord_user


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # A Discord id seen for the first time gets an account (made in pre_social_login).
        return True

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Sign in as the user whose discord_id is the Discord uid, made here if new.

        The user the bot or import_filters made keeps their filters; a banned user may
        sign in too, to read, since their writes are refused by the services.
        """
        account = sociallogin.account
        try:
            user, _created = get_or_create_discord_user(
                account.uid, account.extra_data.get("username") or ""
            )
        except ServiceError as error:
            # allauth shows its "sign-in failed" page for this (no user, no 500).
            raise PermissionDenied(str(error)) from error
        if not sociallogin.is_existing:
            sociallogin.connect(request, user)
        elif sociallogin.user.pk != user.pk:
            # The discord_id was moved to another account (in the admin): the id decides.
            account.user = sociallogin.user = user
            account.save(update_fields=["user"])
