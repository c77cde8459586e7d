"""The sending role: without Redis, exactly one sender process sends for a bot token.

Each process without Redis paces its own share of Discord's global budget, so
two senders for one token would together go over it. The role is one lease
(lib/leases.py) per token, keyed by a hash of the token, never the token, and
renewed by the holder's heartbeat like its alerts; a holder that stops renewing
loses it after one lease. `sendalerts` takes it and keeps it; the task queued
after a scan sends only when nobody holds it. With Redis the budget is shared
and the role is not used.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from lib.leases import give_up_lease, take_lease


def role_name() -> str:
    """The role's key: one per bot token (a hash, never the token), or the console."""
    token = settings.DISCORD_BOT_TOKEN
    if not token:
        return "console"
    return "discord:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def take_role(owner: str, lease_seconds: float | None = None) -> bool:
    """Take, or keep, the sending role for the bot token; False while another live sender has it.

    Called again by the holder's heartbeat to renew it; a holder that stops
    renewing loses it after one lease.
    """
    return take_lease(role_name(), owner, lease_seconds or settings.ALERTS_LEASE_SECONDS)


def give_up_role(owner: str) -> int:
    return give_up_lease(role_name(), owner)
