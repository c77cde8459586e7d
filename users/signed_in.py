"""The signed-in user of a request, typed as our User.

Django and DRF type `request.user` as `User | AnonymousUser`: it is AnonymousUser before
sign-in. Behind `login_required` (the pages) and the API's default IsAuthenticated
permission it is always a User; these two say so to the type checker and change nothing
at run time.
"""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest
from rest_framework.request import Request

from users.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request of a `login_required` page: an annotation only, never made."""

    user: User


def signed_in_user(request: Request) -> User:
    """`request.user` in an API view that only an authenticated caller reaches."""
    return cast(User, request.user)
