"""Moderation of accounts: find users by Discord id, ban and unban them, mute them.

Here, above every app, because a ban reaches filters and alerts (alerts/moderation.py).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.core.exceptions import ValidationError
from django.db.models import Count

from alerts.moderation import ban_user, unban_user
from lib.errors import FieldError
from users.models import KeptBan, User
from users.services import LONGEST_MUTE, check_mute_until, mute_alerts

# The admin is the staff's moderation and operations tool: named for the service.
admin.site.site_header = "Market alerts administration"
admin.site.site_title = "Market alerts admin"
admin.site.index_title = "Moderation and operations"


class UserChangeForm(BaseUserChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "muted_until" in self.fields:
            self.fields["muted_until"].help_text = (
                "No alerts are sent (they are skipped) until then; "
                f"at most {LONGEST_MUTE.days} days ahead (UTC). Empty: not muted."
            )

    def clean_muted_until(self):
        # The service's rule and message, shown beside the field; the mute itself is
        # written in save_model through mute_alerts.
        until = self.cleaned_data.get("muted_until")
        if "muted_until" in self.changed_data and self.instance.pk is not None:
            try:
                check_mute_until(until, "muted_until")
            except FieldError as error:
                raise ValidationError(error.message) from None
        return until

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data  # what ModelForm.clean returns
        if "muted_until" in self.changed_data and cleaned.get("is_banned"):
            self.add_error(
                "muted_until",
                "A banned user's alerts are all skipped already; unban them to set a mute.",
            )
        return cleaned


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    list_display = (
        "username",
        "discord_id",
        "destination_kind",
        "is_banned",
        "delivery_problem",
        "filter_count",
        "filter_quota",
        "date_joined",
    )
    list_filter = ("is_banned", "destination_kind", "digest", "is_staff")
    search_fields = ("username", "discord_id", "email", "destination_channel_id")
    readonly_fields = ("banned_at", "last_login", "date_joined")
    actions = ["ban_selected", "unban_selected"]
    fieldsets = (
        *BaseUserAdmin.fieldsets,  # type: ignore[misc]  # set by UserAdmin; stubs: Optional
        (
            "Discord",
            {
                "fields": (
                    "discord_id",
                    "destination_kind",
                    "destination_channel_id",
                    "destination_guild_id",
                )
            },
        ),
        (
            "Delivery",
            {
                "description": "Learned by the sender. Clearing a reason makes it try again.",
                "fields": (
                    "digest",
                    "muted_until",
                    "dm_channel_id",
                    "dm_unreachable_reason",
                    "channel_broken_reason",
                    "delivery_notice",
                ),
            },
        ),
        ("Moderation", {"fields": ("is_banned", "banned_at", "ban_reason", "filter_quota")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(filter_count=Count("filters"))

    @admin.display(description="delivery problem")
    def delivery_problem(self, user: User) -> str:
        if user.dm_unreachable_reason:
            return f"DM: {user.dm_unreachable_reason}"
        if user.channel_broken_reason:
            return f"channel: {user.channel_broken_reason}"
        return ""

    @admin.display(description="filters", ordering="filter_count")
    def filter_count(self, user: User) -> int:
        return user.filter_count  # type: ignore[attr-defined]  # annotated by get_queryset

    def save_model(self, request, obj: User, form, change: bool) -> None:
        # Ticking "banned" and setting a mute go through the same services as the
        # bot and the actions: the form saves everything else, then the services
        # make the ban or the mute with their rules and effects.
        ban_changed = change and "is_banned" in form.changed_data
        wants_ban = obj.is_banned
        if ban_changed:
            obj.is_banned = not wants_ban
        mute_changed = change and "muted_until" in form.changed_data
        wants_mute = obj.muted_until
        if mute_changed:
            obj.muted_until = form.initial.get("muted_until")
        super().save_model(request, obj, form, change)
        if ban_changed and not wants_ban:
            unban_user(obj)
        if mute_changed:
            mute_alerts(obj, wants_mute)
        if ban_changed and wants_ban:
            ban_user(obj, obj.ban_reason)

    @admin.action(description="Ban selected users (stops all their alerts)")
    def ban_selected(self, request, queryset) -> None:
        users = list(queryset.filter(is_banned=False))
        for user in users:
            ban_user(user, f"banned by {request.user.username}")
        self.message_user(request, f"Banned {len(users)} user(s).", messages.SUCCESS)

    @admin.action(description="Unban selected users")
    def unban_selected(self, request, queryset) -> None:
        users = list(queryset.filter(is_banned=True))
        for user in users:
            unban_user(user)
        self.message_user(request, f"Unbanned {len(users)} user(s).", messages.SUCCESS)


@admin.register(KeptBan)
class KeptBanAdmin(admin.ModelAdmin):
    """Bans of deleted accounts (users.models.KeptBan): deleting a row lifts the ban."""

    list_display = ("discord_id", "reason", "banned_at", "account_deleted_at")
    search_fields = ("=discord_id",)
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        # Made only by deleting a banned account; a ban on a live account is the user's page.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
