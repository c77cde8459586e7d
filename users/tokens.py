"""Personal API tokens at the API door: `Authorization: Bearer <token>` for DRF.

Tokens are made, listed and revoked by users/services.py (create_token, list_tokens,
revoke_token); this module only recognises them on a request.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from users.models import User
from users.services import use_token


class BearerTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>`; a request without the header is left to the others."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                "Send the token as “Authorization: Bearer <token>”, with no spaces in the token."
            )
        try:
            secret = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed("That API token is not valid or has been revoked.") from None
        user = use_token(secret)
        if user is None:
            raise AuthenticationFailed("That API token is not valid or has been revoked.")
        return user, None

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the tokens (drf-spectacular finds it by target)."""

    target_class = "users.tokens.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token from POST /api/v1/tokens/.",
        }
