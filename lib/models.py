"""Leases: named one-holder roles that processes take, renew and lose when they stop renewing."""

from __future__ import annotations

from django.db import models


class Lease(models.Model):
    """A role held by one live process at a time, until `expires_at` unless it renews it.

    Used for the sending role of a bot token without Redis (`alerts.roles`) and
    for each market's poller (`scraping.pollers`); see lib/leases.py.
    """

    name = models.CharField(max_length=64, unique=True)
    owner = models.CharField(max_length=64, blank=True, db_default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"lease {self.name} ({self.owner or 'free'})"
