"""Moderation of accounts: find users by Discord id, ban and unban them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import Count

from users.models import User
from users.services import ban_user, unban_user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
        *BaseUserAdmin.fieldsets,
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
        return user.filter_count

    def save_model(self, request, obj: User, form, change: bool) -> None:
        # Ticking "banned" goes through the same service as the actions: the form
        # saves everything else, then the service makes the ban and its effects.
        ban_changed = change and "is_banned" in form.changed_data
        wants_ban = obj.is_banned
        if ban_changed:
            obj.is_banned = not wants_ban
        super().save_model(request, obj, form, change)
        if ban_changed and wants_ban:
            ban_user(obj, obj.ban_reason)
        elif ban_changed:
            unban_user(obj)

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
