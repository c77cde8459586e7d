"""`/api/v1/me/` (the account and its alert settings) and `/api/v1/tokens/`.

Every change goes through users/services.py: `digest` through set_digest,
`muted_until` through mute_alerts (its 30-day rule), a DM destination through
set_destination. A channel destination is refused here: choosing one needs
Discord's permission checks in the server's context, which only `/alerts channel`
in Discord has. `discord_id` and `username` follow Discord and are read-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from lib.errors import FieldError, ValidationFailed
from users.models import ApiToken, User
from users.services import create_token, list_tokens, mute_alerts, revoke_token, set_destination
from users.services import set_digest as set_digest_service
from users.signed_in import signed_in_user

CHANNEL_REFUSED = (
    "A channel can only be chosen in Discord: run /alerts channel in the server, where the "
    "bot checks that you manage the channel and that it may post there. Here you can switch "
    'back to direct messages with {"kind": "dm"}.'
)
READ_ONLY = {
    "discord_id": "Your Discord id comes from Discord and can't be changed.",
    "username": "Your username follows your Discord name; change it in Discord.",
}


class DestinationSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=User.Destination.values)
    channel_id = serializers.CharField(required=False, help_text="When kind is channel.")
    guild_id = serializers.CharField(required=False, help_text="When kind is channel.")


class MeSerializer(serializers.Serializer):
    """The account as the API shows it; PATCH takes destination, digest and muted_until."""

    discord_id = serializers.CharField(read_only=True, allow_null=True)
    username = serializers.CharField(read_only=True)
    destination = DestinationSerializer()
    digest = serializers.ChoiceField(choices=User.Digest.values)
    muted_until = serializers.DateTimeField(allow_null=True)


def present_me(user: User) -> dict[str, Any]:
    destination: dict[str, str] = {"kind": user.destination_kind}
    if user.destination_kind == User.Destination.CHANNEL:
        destination.update(
            channel_id=user.destination_channel_id, guild_id=user.destination_guild_id
        )
    return {
        "discord_id": user.discord_id,
        "username": user.username,
        "destination": destination,
        "digest": user.digest,
        "muted_until": serializers.DateTimeField().to_representation(user.muted_until)
        if user.muted_until
        else None,
    }


def parse_muted_until(value: Any) -> datetime | None:
    """An ISO 8601 time with its time zone, or null to unmute."""
    if value is None:
        return None
    example = "such as 2026-12-02T09:00:00Z"
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well formed but impossible, such as month 13
        moment = None
    if moment is None:
        raise FieldError("muted_until", f"Give an ISO 8601 time, {example}, or null to unmute.")
    if moment.tzinfo is None:
        raise FieldError("muted_until", f"Give the time with its time zone, {example}.")
    return moment


def change_destination(user: User, value: Any) -> None:
    if not isinstance(value, dict) or "kind" not in value:
        raise FieldError(
            "destination", 'Give the destination as an object, such as {"kind": "dm"}.'
        )
    current = present_me(user)["destination"]
    if value == current and value["kind"] == User.Destination.CHANNEL:
        return  # the channel read back unchanged: nothing to check, nothing to do
    if value["kind"] == User.Destination.CHANNEL:
        raise FieldError("destination", CHANNEL_REFUSED)
    if set(value) != {"kind"}:
        raise FieldError("destination", 'A direct message destination is just {"kind": "dm"}.')
    set_destination(user, value["kind"])


class MeView(APIView):
    """Your account: where alerts go, their timing and a mute."""

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(present_me(signed_in_user(request)))

    @extend_schema(request=MeSerializer(partial=True), responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        data = request.data
        if not isinstance(data, dict):
            raise FieldError("", 'Send a JSON object, such as {"digest": "daily"}.')
        user = signed_in_user(request)
        changes = {
            "destination": lambda value: change_destination(user, value),
            "digest": lambda value: set_digest_service(user, value),
            "muted_until": lambda value: mute_alerts(
                user, parse_muted_until(value), field="muted_until"
            ),
        }
        errors: list[FieldError] = []
        for key, value in data.items():
            if key in READ_ONLY:
                if value != present_me(user)[key]:
                    errors.append(FieldError(key, READ_ONLY[key]))
            elif key not in changes:
                known = ", ".join([*changes, *READ_ONLY])
                errors.append(FieldError(key, f"“{key}” is not an account field; use {known}."))
        if errors:
            raise ValidationFailed(errors)
        # All or nothing: a refused field undoes the changes made before it.
        with transaction.atomic():
            for key, value in data.items():
                if key in changes:
                    try:
                        changes[key](value)
                    except FieldError as error:
                        errors.append(error)
            if errors:
                raise ValidationFailed(errors)
        user.refresh_from_db()
        return Response(present_me(user))


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "created_at", "last_used_at"]
        read_only_fields = fields


class NewTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="Shown this once; store it now.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


class TokenInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=64)


@extend_schema_view(
    create=extend_schema(request=TokenInputSerializer, responses={201: NewTokenSerializer}),
    destroy=extend_schema(
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None},
    ),
)
class TokenViewSet(viewsets.GenericViewSet):
    """Your personal API tokens: the secret is returned once, by POST; only its hash is kept."""

    serializer_class = TokenSerializer
    # Any path segment reaches the view (DRF's default stops at a dot), so `/0.5/` gets the
    # API's JSON 404 rather than Django's HTML page.
    lookup_value_regex = "[^/]+"

    def get_queryset(self):
        return ApiToken.objects.owned_by(self.request.user)

    def list(self, request: Request) -> Response:
        # DRF's paginators page any sequence; the stubs ask for a QuerySet.
        page: list[ApiToken] | None = self.paginate_queryset(
            list_tokens(signed_in_user(request))  # type: ignore[arg-type]
        )
        return self.get_paginated_response(TokenSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        data = request.data if isinstance(request.data, dict) else {}
        token, secret = create_token(signed_in_user(request), data.get("name"))
        shown = {**TokenSerializer(token).data, "token": secret}
        return Response(shown, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        revoke_token(signed_in_user(request), pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
