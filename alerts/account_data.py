"""Everything the service holds about one user, as one JSON document they may download: their
account and where alerts go, their filters (in the import format's fields), their alerts
still kept (RETENTION_ALERTS_DAYS) with the listings they quote, and their API tokens'
names and times (never a secret: only a hash is kept, and that stays here too)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from alerts.models import Alert
from alerts.outbox import attach_filter_names
from filters.models import Filter
from filters.validation import FIELDS
from users.models import ApiToken, User


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export_account(user: User) -> dict[str, Any]:
    """The user's data, theirs only: every query is filtered by the user."""
    alerts = list(Alert.objects.filter(user=user).select_related("listing").order_by("-id"))
    attach_filter_names(alerts)
    return {
        "exported_at": _time(timezone.now()),
        "account": {
            "username": user.username,
            "discord_id": user.discord_id,
            "joined": _time(user.date_joined),
            "destination": {
                "kind": user.destination_kind,
                "channel_id": user.destination_channel_id,
                "guild_id": user.destination_guild_id,
            },
            "digest": user.digest,
            "muted_until": _time(user.muted_until),
            "filter_quota": user.filter_quota,
            "banned": user.is_banned,
        },
        "filters": [
            {
                **{field: getattr(found, field) for field in FIELDS},
                "created_at": _time(found.created_at),
                "updated_at": _time(found.updated_at),
            }
            for found in Filter.objects.owned_by(user).order_by("name")
        ],
        "alerts": [
            {
                "listing": {
                    "market": alert.listing.market,
                    "external_id": alert.listing.external_id,
                    "title": alert.listing.title,
                    "price": alert.listing.price,
                    "url": alert.listing.url,
                },
                "filters": alert.filter_names,
                "status": alert.status,
                "created_at": _time(alert.created_at),
                "sent_at": _time(alert.sent_at),
            }
            for alert in alerts
        ],
        "tokens": [
            {
                "name": token.name,
                "created_at": _time(token.created_at),
                "last_used_at": _time(token.last_used_at),
            }
            for token in ApiToken.objects.owned_by(user)
        ],
    }
