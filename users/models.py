"""The account: a Discord identity, where its alerts go, its quota and its ban."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


def default_filter_quota() -> int:
    return settings.FILTER_QUOTA_DEFAULT


class User(AbstractUser):
    class Destination(models.TextChoices):
        DM = "dm", "Direct message"
        CHANNEL = "channel", "Server channel"

    discord_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    destination_kind = models.CharField(
        "alert destination", max_length=16, choices=Destination.choices, default=Destination.DM
    )
    destination_channel_id = models.CharField(max_length=32, blank=True)
    destination_guild_id = models.CharField(max_length=32, blank=True)
    is_banned = models.BooleanField(
        "banned",
        default=False,
        help_text="A banned user's filters stop matching and no alert is sent.",
    )
    banned_at = models.DateTimeField(null=True, blank=True)
    ban_reason = models.CharField(max_length=200, blank=True)
    filter_quota = models.PositiveIntegerField(default=default_filter_quota)

    objects = UserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="channel_destination_has_ids",
                condition=models.Q(destination_kind="dm")
                | (~models.Q(destination_channel_id="") & ~models.Q(destination_guild_id="")),
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def destination_label(self) -> str:
        if self.destination_kind == self.Destination.CHANNEL:
            return f"channel {self.destination_channel_id} in server {self.destination_guild_id}"
        return "direct message"
