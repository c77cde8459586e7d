"""The users service: Discord ids, names, delivery preferences, and what a ban stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.moderation import ban_user, unban_user
from lib.errors import Banned, FieldError
from tests.builders import make_user
from users.models import User
from users.services import (
    clean_snowflake,
    get_or_create_discord_user,
    mark_channel_broken,
    mark_dm_unreachable,
    mute_alerts,
    remember_dm_channel,
    set_destination,
    set_digest,
)

pytestmark = pytest.mark.django_db


def test_choosing_a_destination_again_clears_what_delivery_learned():
    user = make_user(
        dm_unreachable_reason="the user's DMs are closed",
        channel_broken_reason="the channel no longer exists",
        delivery_notice="⚠️ Your alerts could not be posted…",
    )
    set_destination(user, "dm")
    user.refresh_from_db()
    assert (user.dm_unreachable_reason, user.channel_broken_reason, user.delivery_notice) == (
        "",
        "",
        "",
    )


def test_a_channel_destination_needs_real_ids():
    user = make_user()
    with pytest.raises(FieldError) as error:
        set_destination(user, "channel", "#general", "123")
    assert error.value.field == "channel_id"
    assert "The channel id must be a number written with the digits 0-9, not '#general'." in str(
        error.value
    )
    user.refresh_from_db()
    assert user.destination_kind == "dm"


def test_mute_until_a_future_time_and_unmute():
    user = make_user()
    until = timezone.now() + timedelta(hours=8)
    mute_alerts(user, until)
    user.refresh_from_db()
    assert user.muted_until == until
    mute_alerts(user, None)
    user.refresh_from_db()
    assert user.muted_until is None
    with pytest.raises(FieldError, match=r"The mute must end in the future\."):
        mute_alerts(user, timezone.now() - timedelta(minutes=1))
    with pytest.raises(FieldError, match=r"The longest mute is 30 days\."):
        mute_alerts(user, timezone.now() + timedelta(days=31))


def test_digest_choices_are_named_when_the_value_is_wrong():
    user = make_user()
    set_digest(user, "daily")
    user.refresh_from_db()
    assert user.digest == "daily"
    with pytest.raises(FieldError, match="one of instant, hourly, daily, not 'weekly'"):
        set_digest(user, "weekly")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("guild_id", "", "Give the server (guild) id of the channel."),
        ("guild_id", None, "Give the server (guild) id of the channel."),
        ("channel_id", "  ", "Give the channel id."),
        ("discord_id", None, "Give the Discord user id."),
        (
            "discord_id",
            "0",
            "The Discord user id must be between 1 and 18446744073709551615, not '0'.",
        ),
        (
            "channel_id",
            str(2**64),
            "The channel id must be between 1 and 18446744073709551615, not '18446744073709551616'.",
        ),
        (
            "channel_id",
            "9" * 25,
            f"The channel id must be between 1 and 18446744073709551615, not '{'9' * 25}'.",
        ),
        (
            "discord_id",
            "١٢٣",  # Arabic-Indic digits: str.isdigit() says yes, Discord says no
            "The Discord user id must be a number written with the digits 0-9, not '١٢٣'.",
        ),
        (
            "guild_id",
            -5,
            "The server (guild) id must be a number written with the digits 0-9, not -5.",
        ),
        (
            "discord_id",
            True,
            "The Discord user id must be a number written with the digits 0-9, not True.",
        ),
    ],
)
def test_discord_ids_are_snowflakes_and_each_mistake_is_worded(field, value, message):
    with pytest.raises(FieldError) as error:
        clean_snowflake(field, value)
    assert (error.value.field, error.value.message) == (field, message)


def test_a_snowflake_is_kept_in_one_spelling():
    assert clean_snowflake("discord_id", str(2**64 - 1)) == "18446744073709551615"
    assert clean_snowflake("discord_id", 1) == "1"
    assert clean_snowflake("channel_id", " 00042 ") == "42"


def test_a_rename_is_cut_and_made_unique_like_a_new_name():
    long_name = "x" * 300
    user, created = get_or_create_discord_user("501", long_name)
    assert created and user.username == "x" * 120
    get_or_create_discord_user("502", "bob")
    user, created = get_or_create_discord_user("501", "y" * 300)
    assert not created and User.objects.get(pk=user.pk).username == "y" * 120
    get_or_create_discord_user("501", "bob")  # taken by 502
    assert User.objects.get(pk=user.pk).username == "bob-501"


def test_a_banned_users_name_stays_as_the_moderators_saw_it():
    user, _ = get_or_create_discord_user("601", "spammer")
    ban_user(user, "spam")
    get_or_create_discord_user("601", "nice_person")
    assert User.objects.get(pk=user.pk).username == "spammer"


def test_a_ban_stops_every_write_of_the_user_but_not_the_senders_or_the_staffs():
    user = make_user(digest="instant")
    ban_user(user, "spam")
    until = timezone.now() + timedelta(hours=1)
    for write in (
        lambda: set_destination(user, "channel", "555", "42"),
        lambda: set_destination(user, "dm"),
        lambda: mute_alerts(user, until),
        lambda: mute_alerts(user, None),
        lambda: set_digest(user, "daily"),
    ):
        with pytest.raises(Banned, match="Your account is suspended"):
            write()
    stored = User.objects.get(pk=user.pk)
    assert (stored.destination_kind, stored.muted_until, stored.digest) == ("dm", None, "instant")

    # What the sender learns about delivery is not the user's write: it is still kept.
    User.objects.filter(pk=user.pk).update(
        destination_kind="channel", destination_channel_id="77", destination_guild_id="1"
    )
    remember_dm_channel(user.pk, "900")
    mark_dm_unreachable(user.pk, "the user's DMs are closed")
    mark_channel_broken("77", "the channel no longer exists")
    stored = User.objects.get(pk=user.pk)
    assert (stored.dm_channel_id, stored.dm_unreachable_reason, stored.channel_broken_reason) == (
        "900",
        "the user's DMs are closed",
        "the channel no longer exists",
    )
    unban_user(stored)  # a staff action; then the user may write again
    assert set_digest(stored, "daily").digest == "daily"
