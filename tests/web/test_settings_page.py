"""The settings page: back to DMs, mute and unmute, digest, with the bot's messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from users.models import User
from users.services import set_destination

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in():
    answer = Client().get("/settings/")
    assert answer.status_code == 302 and answer.url.startswith("/accounts/discord/login/")


def test_the_page_shows_the_channel_and_switches_back_to_dm(signed_in):
    client, alice = signed_in()
    set_destination(alice, "channel", "123456789012345678", "223456789012345678")
    page = client.get("/settings/").content.decode()
    assert "Now: your channel 123456789012345678 in server 223456789012345678." in page
    assert "/alerts channel" in page

    answer = client.post("/settings/", {"action": "dm"}, follow=True)
    alice.refresh_from_db()
    assert alice.destination_kind == User.Destination.DM
    assert alice.destination_channel_id == ""
    page = answer.content.decode()
    assert "Your alerts now come by direct message." in page
    assert "Now: your direct message." in page


def test_mute_for_a_duration_and_unmute(signed_in):
    client, alice = signed_in()
    answer = client.post("/settings/", {"action": "mute", "duration": "8h"}, follow=True)
    alice.refresh_from_db()
    left = alice.muted_until - timezone.now()
    assert timedelta(hours=7, minutes=59) < left <= timedelta(hours=8)
    assert "Muted until" in answer.content.decode()

    answer = client.post("/settings/", {"action": "unmute"}, follow=True)
    alice.refresh_from_db()
    assert alice.muted_until is None
    assert "Alerts are on again." in answer.content.decode()


def test_mute_errors_are_the_bots_beside_the_field(signed_in):
    client, alice = signed_in()
    answer = client.post("/settings/", {"action": "mute", "duration": "31d"})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert '<p class="error" id="error-duration">The longest mute is 30 days.</p>' in page
    assert 'value="31d"' in page
    answer = client.post("/settings/", {"action": "mute", "duration": "soon"})
    assert (
        "“soon” is not a duration; write it like 30m, 8h, 1d or 1d12h." in answer.content.decode()
    )
    alice.refresh_from_db()
    assert alice.muted_until is None


def test_digest(signed_in):
    client, alice = signed_in()
    answer = client.post("/settings/", {"action": "digest", "digest": "daily"}, follow=True)
    alice.refresh_from_db()
    assert alice.digest == "daily"
    page = answer.content.decode()
    assert "Alerts come collected, once a day." in page
    assert 'value="daily" checked' in page

    answer = client.post("/settings/", {"action": "digest", "digest": "weekly"})
    assert answer.status_code == 400
    assert (
        "The digest must be one of instant, hourly, daily, not &#x27;weekly&#x27;."
        in answer.content.decode()
    )
    alice.refresh_from_db()
    assert alice.digest == "daily"


def test_a_banned_user_is_told_why_nothing_changes(signed_in):
    client, alice = signed_in()
    User.objects.filter(pk=alice.pk).update(is_banned=True)
    answer = client.post("/settings/", {"action": "digest", "digest": "daily"})
    assert answer.status_code == 400
    assert "Your account is suspended" in answer.content.decode()
    alice.refresh_from_db()
    assert alice.digest == "instant"


def test_try_my_dms_again_shows_only_when_dms_failed(signed_in):
    client, alice = signed_in()
    assert "Try my DMs again" not in client.get("/settings/").content.decode()
    User.objects.filter(pk=alice.pk).update(dm_unreachable_reason="DMs are closed")
    page = client.get("/settings/").content.decode()
    assert "Try my DMs again" in page
    assert "Your direct messages could not be reached: DMs are closed." in page
    client.post("/settings/", {"action": "dm"})
    assert "Try my DMs again" not in client.get("/settings/").content.decode()


def test_a_test_alert_from_the_settings_page_goes_through_the_real_delivery(signed_in):
    from alerts.models import Alert

    client, alice = signed_in()
    answer = client.post("/settings/", {"action": "test"}, follow=True)
    assert answer.redirect_chain == [("/settings/", 302)]
    assert "A sample alert is on its way to your direct message." in answer.content.decode()
    [alert] = Alert.objects.filter(user=alice)
    assert alert.status == Alert.Status.PENDING and alert.is_test
