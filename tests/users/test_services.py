"""Delivery preferences through the users service: destination, mute, digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from filters.errors import FieldError
from tests.builders import make_user
from users.services import mute_alerts, set_destination, set_digest

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
    assert "The channel id must be up to 20 digits, not '#general'." in str(error.value)
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
