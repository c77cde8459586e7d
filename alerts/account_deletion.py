"""Deleting an account, by its owner: confirmed by typing the username, then everything goes.

Gone at once, in one transaction: the account and its Discord sign-in, the filters
(they leave the matching index), the API tokens, and every alert, pending or past.
What stays has no name on it: the alerts' outcomes as counts per hour (AlertTally), so
the staff's charts keep their past, and for a banned account, its ban by Discord id
(KeptBan). After the commit, every session of the account ends.

Staff accounts are refused: another admin removes them in the admin, so the last one
can't lock everybody out by accident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction

from alerts.models import Alert, AlertTally
from filters.matching import bump_index_version
from filters.models import Filter
from lib.errors import FieldError, ServiceError
from users.models import ApiToken, User
from users.services import end_sessions, keep_ban

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WhatGoes:
    """What deleting the account removes, for the confirmation page."""

    filters: int
    tokens: int
    pending_alerts: int
    past_alerts: int


def what_goes(user: User) -> WhatGoes:
    alerts = Alert.objects.filter(user=user)
    pending = alerts.filter(status=Alert.Status.PENDING).count()
    return WhatGoes(
        filters=Filter.objects.owned_by(user).count(),
        tokens=ApiToken.objects.owned_by(user).count(),
        pending_alerts=pending,
        past_alerts=alerts.count() - pending,
    )


def check_confirmation(user: User, confirmation: object) -> None:
    """The owner typed their username, as it is shown to them, to confirm."""
    typed = confirmation.strip() if isinstance(confirmation, str) else ""
    if typed == user.username:
        return
    if not typed:
        message = f"Type your username, {user.username}, to confirm: this can't be undone."
    else:
        message = f"That is not your username: type {user.username} exactly, to confirm."
    raise FieldError("confirm", message)


def delete_account(user: User, confirmation: object) -> None:
    """Delete the user's account and everything held about them, once they confirmed."""
    if user.is_staff or user.is_superuser:
        raise ServiceError(
            "Staff accounts aren't deleted here: another admin removes them in the admin."
        )
    check_confirmation(user, confirmation)
    user_id = user.pk
    with transaction.atomic():
        settled = Alert.objects.filter(user_id=user_id).exclude(status=Alert.Status.PENDING)
        AlertTally.objects.add(settled.outcomes_per_hour(None))
        keep_ban(user)
        had_filters = Filter.objects.owned_by(user).exists()
        # The rest follows the account by its foreign keys: filters, tokens, alerts, the
        # Discord sign-in (allauth's social account and its token), admin log entries.
        user.delete()
        if had_filters:
            bump_index_version()
    sessions = end_sessions(user_id)
    log.info("account %s deleted by its owner; %s sessions ended", user_id, sessions)
