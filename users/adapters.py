"""How allauth treats accounts here: nobody signs up with a password.

Accounts are Discord identities, made by the bot on first use (and, later, by
"Sign in with Discord"); staff sign in at /admin/. allauth's signup page answers
with its "sign up is closed" page and creates nothing.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.http import HttpRequest


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False
