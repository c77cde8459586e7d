"""The users app: accounts, delivery preferences, API tokens."""

from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        # The admin has discovered every app's admin module by now. "Sign in with Discord"
        # takes its OAuth app from settings and stores no OAuth tokens, so allauth's pages
        # for those would only mislead a moderator; linked Discord accounts stay listed.
        # Sites, groups and e-mail addresses are unused here: permissions are per staff
        # member, the site's address is SITE_URL, and accounts have no e-mail to verify.
        from allauth.account.models import EmailAddress
        from allauth.socialaccount.models import SocialApp, SocialToken
        from django.contrib import admin
        from django.contrib.auth.models import Group
        from django.contrib.sites.models import Site

        for model in (SocialApp, SocialToken, EmailAddress, Group, Site):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
