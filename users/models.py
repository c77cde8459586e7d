"""The account: a Discord identity, where its alerts go, its quota and its ban."""

from __future__ import annotations

from typing import ClassVar, Self

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models


def default_filter_quota() -> int:
    return settings.FILTER_QUOTA_DEFAULT


class User(AbstractUser):
    class Destination(models.TextChoices):
        DM = "dm", "Direct message"
        CHANNEL = "channel", "Server channel"

    class Digest(models.TextChoices):
        INSTANT = "instant", "Instant"
        HOURLY = "hourly", "Hourly digest"
        DAILY = "daily", "Daily digest"

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

    # Delivery state, kept by the sender: the DM channel is opened once and remembered;
    # a closed DM or a broken channel stops the requests until the user changes something.
    dm_channel_id = models.CharField("DM channel id", max_length=32, blank=True)
    dm_unreachable_reason = models.CharField(
        "DM unreachable",
        max_length=200,
        blank=True,
        help_text="Why direct messages to the user fail; their DM alerts are skipped while set.",
    )
    channel_broken_reason = models.CharField(
        "channel broken",
        max_length=200,
        blank=True,
        help_text="Why the chosen channel fails; alerts go to the user's DM while set.",
    )
    delivery_notice = models.CharField(
        max_length=500, blank=True, help_text="A one-time note sent with the next DM alert."
    )
    muted_until = models.DateTimeField(
        null=True, blank=True, help_text="No alerts are sent (they are skipped) until then."
    )
    digest = models.CharField(
        "alert timing", max_length=16, choices=Digest.choices, default=Digest.INSTANT
    )

    objects: ClassVar[UserManager[Self]] = UserManager()

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


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, user) -> ApiTokenQuerySet:
        return self.filter(user=user)


class ApiToken(models.Model):
    """A personal API token (`Authorization: Bearer <token>`), kept only as its SHA-256.

    The secret itself is shown once, when it is made (users.services.create_token); a
    leaked database gives nobody a usable token.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=64)
    key_hash = models.CharField("SHA-256 of the token", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"


class KeptBan(models.Model):
    """The ban of a deleted account, kept by its Discord id and nothing else, so the ban
    holds when the same person signs in again. Staff lift it by deleting the row (or by
    unbanning the new account)."""

    discord_id = models.CharField(max_length=32, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    banned_at = models.DateTimeField(null=True, blank=True)
    account_deleted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "ban of a deleted account"

    def __str__(self) -> str:
        return f"Discord id {self.discord_id}"
