"""`/api/v1/alerts/`: the user's alert history, pending alerts included, newest first;
`/api/v1/me/data/`: everything we hold about the user; and `DELETE /api/v1/me/`, which
deletes the account (here, not in users/api.py, as it reaches filters and alerts)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alerts.account_data import export_account
from alerts.account_deletion import delete_account
from alerts.models import Alert
from filters.models import Filter
from listings.api import MARKET_PARAMETER, market_param
from listings.serializers import ListingSerializer
from users.api import MeView
from users.signed_in import signed_in_user


class AlertSerializer(serializers.ModelSerializer):
    listing = ListingSerializer(read_only=True)
    filters = serializers.SerializerMethodField(
        help_text="Names of your filters that matched (deleted ones are left out); "
        "empty for a test alert."
    )

    class Meta:
        model = Alert
        fields = ["id", "listing", "filters", "status", "created_at", "sent_at"]
        read_only_fields = fields

    def get_filters(self, alert: Alert) -> list[str]:
        names = self.context.get("filter_names", {})
        return [names[i] for i in alert.filter_ids if i in names]


@extend_schema(
    parameters=[
        OpenApiParameter(
            "status", str, enum=list(Alert.Status.values), description="Only alerts in this state."
        ),
        MARKET_PARAMETER,
    ]
)
class AlertViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your alerts, newest first: the listing, the filters that matched, status, sent time."""

    serializer_class = AlertSerializer

    def get_queryset(self):
        alerts = (
            Alert.objects.filter(user=signed_in_user(self.request))
            .select_related("listing")
            .order_by("-created_at", "-id")
        )
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in Alert.Status.values:
                choices = ", ".join(Alert.Status.values)
                raise ValidationError(
                    {"status": [f"{wanted!r} is not an alert status; choose from {choices}."]}
                )
            alerts = alerts.filter(status=wanted)
        if market := market_param(self.request.query_params.get("market")):
            alerts = alerts.filter(listing__market=market)
        return alerts

    def get_serializer(self, *args, **kwargs):
        # One query for the names of every filter on the page, not one per alert.
        names: dict[int, str] = {}
        if args:  # not when the schema generator asks for the serializer alone
            ids = {i for alert in args[0] for i in alert.filter_ids}
            names = dict(
                Filter.objects.owned_by(self.request.user)
                .filter(pk__in=ids)
                .values_list("id", "name")
            )
        kwargs["context"] = {**self.get_serializer_context(), "filter_names": names}
        return self.serializer_class(*args, **kwargs)


class MyDataView(APIView):
    """Everything we hold about you: account, filters, alerts still kept, tokens (no secrets)."""

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        return Response(export_account(signed_in_user(request)))


class AccountView(MeView):
    """Your account: where alerts go, their timing and a mute; and deleting it."""

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "confirm",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=True,
                description="Your username, typed to confirm.",
            )
        ],
        responses={204: None},
    )
    def delete(self, request: Request) -> Response:
        """Delete your account and everything in it: filters, tokens, alerts and sessions,
        for good. This token stops working at once."""
        delete_account(signed_in_user(request), request.query_params.get("confirm"))
        return Response(status=status.HTTP_204_NO_CONTENT)
