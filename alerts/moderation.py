"""Staff actions on an account that reach every app up to delivery: banning and unbanning.

A ban stops everything for the user at once, in one transaction: the account is
marked (their own writes are refused from then on), their filters leave the
matching index (the index stamp) and their pending alerts are skipped.
"""

from __future__ import annotations

from django.db import transaction

from alerts import outbox
from filters.matching import bump_index_version
from users.models import User
from users.services import record_ban, record_unban


def ban_user(user: User, reason: str = "") -> None:
    """Stop everything for the user: their filters leave the index, pending alerts are skipped."""
    with transaction.atomic():
        record_ban(user, reason)
        outbox.skip_pending_of(user.pk, outbox.BANNED)
        bump_index_version()


def unban_user(user: User) -> None:
    """Let the user in again: their filters match from the next index stamp on (alerts
    skipped during the ban stay skipped)."""
    with transaction.atomic():
        record_unban(user)
        bump_index_version()
