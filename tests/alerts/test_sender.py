"""The sender's rules, through a transport that answers as told: routing, retries, quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from alerts import outbox
from alerts.models import Alert
from alerts.moderation import ban_user
from alerts.routing import next_digest_time
from alerts.sender import Sender
from alerts.transports import Outcome, Result
from scraping.ingest import ingest_listings
from tests.alerts.conftest import FlakyTransport
from tests.builders import listing, make_filter, make_user
from users.models import User
from users.services import set_destination

pytestmark = pytest.mark.django_db


def statuses(user) -> set[tuple[str, str]]:
    return set(Alert.objects.filter(user=user).values_list("status", "last_error"))


def test_alerts_are_packed_ten_to_a_message_and_marked_sent_with_its_id(queued_alerts):
    user = queued_alerts(25)
    transport = FlakyTransport()
    stats = Sender(transport, batch_size=100).drain()
    assert stats.sent == 25
    assert [len(o.alerts) for o in transport.delivered] == [10, 10, 5]
    for outgoing in transport.delivered:
        ids = outgoing.alert_ids
        assert set(Alert.objects.filter(pk__in=ids).values_list("message_id", flat=True)) == {
            f"msg-{ids[0]}"
        }
    assert set(Alert.objects.filter(user=user).values_list("status", "lease_owner")) == {
        ("sent", "")
    }


def test_each_user_gets_their_own_dm_and_a_shared_channel_gets_everybody_with_pings(
    queued_alerts,
):
    dm_user = queued_alerts(2)
    in_channel = [make_user(), make_user()]
    for user in in_channel:
        set_destination(user, "channel", "555", "666")
        make_filter(user, brands=["Sacai"])
    ingest_listings([listing("sacai coat")])  # matches all three users
    transport = FlakyTransport()
    Sender(transport).drain()
    by_route = {(o.route.kind, o.route.key): o for o in transport.delivered}
    assert set(by_route) == {("dm", str(dm_user.pk)), ("channel", "555")}
    assert len(by_route[("dm", str(dm_user.pk))].alerts) == 3
    assert by_route[("dm", str(dm_user.pk))].recipient_id == dm_user.discord_id
    channel_payload = by_route[("channel", "555")].message.payload()
    assert channel_payload["allowed_mentions"]["users"] == [u.discord_id for u in in_channel]
    assert all(e["description"].startswith("<@") for e in channel_payload["embeds"])


def test_a_temporary_failure_backs_off_then_succeeds(queued_alerts):
    queued_alerts(1)
    transport = FlakyTransport([Outcome(Result.RETRY, error="Discord answered 502")])
    sender = Sender(transport)
    sender.drain()
    alert = Alert.objects.get()
    assert (alert.status, alert.attempts, alert.last_error) == (
        "pending",
        1,
        "Discord answered 502",
    )
    assert alert.next_attempt_at > timezone.now() + timedelta(seconds=2)
    sender.drain()
    assert transport.delivered == []  # not due yet
    Alert.objects.update(next_attempt_at=timezone.now())
    sender.drain()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", 2)


def test_an_alert_fails_after_its_last_attempt_and_can_be_requeued(queued_alerts, settings):
    settings.ALERTS_MAX_ATTEMPTS = 3
    queued_alerts(1)
    sender = Sender(FlakyTransport([Outcome(Result.RETRY, error="timeout")] * 3))
    for _ in range(3):
        Alert.objects.update(next_attempt_at=timezone.now())
        sender.drain()
    alert = Alert.objects.get()
    assert (alert.status, alert.attempts) == ("failed", 3)
    assert alert.last_error == "gave up after 3 attempts: timeout"
    assert outbox.requeue([alert.pk]) == 1
    Sender(FlakyTransport()).drain()
    alert.refresh_from_db()
    assert alert.status == "sent"


def test_a_permanent_failure_fails_only_that_message(queued_alerts):
    queued_alerts(12)
    transport = FlakyTransport([Outcome(Result.INVALID, error="Discord rejected the message")])
    stats = Sender(transport).drain()
    assert (stats.failed, stats.sent) == (10, 2)
    assert Alert.objects.filter(status="failed", attempts=1).count() == 10


def test_a_transport_bug_backs_off_then_fails_without_stopping_the_sender(queued_alerts, settings):
    settings.ALERTS_MAX_ATTEMPTS = 2
    queued_alerts(1)
    sender = Sender(FlakyTransport([RuntimeError("bug")] * 2))
    sender.drain()
    alert = Alert.objects.get()
    assert (alert.status, alert.last_error) == ("pending", "unexpected error: RuntimeError('bug')")
    Alert.objects.update(next_attempt_at=timezone.now())
    sender.drain()
    alert.refresh_from_db()
    assert alert.status == "failed"


def test_a_banned_users_pending_alerts_are_skipped(queued_alerts):
    user = queued_alerts(2)
    other = queued_alerts(1, user=make_user())
    ban_user(user, "spam")
    Sender(FlakyTransport()).drain()
    assert statuses(user) == {("skipped", "The user is banned.")}
    assert Alert.objects.get(user=other).status == "sent"


def test_a_muted_user_gets_nothing_until_the_mute_ends(queued_alerts):
    user = queued_alerts(2)
    User.objects.filter(pk=user.pk).update(muted_until=timezone.now() + timedelta(hours=8))
    transport = FlakyTransport()
    Sender(transport).drain()
    assert transport.delivered == []
    [(status, reason)] = statuses(user)
    assert status == "skipped" and reason.startswith("Alerts were muted until ")
    User.objects.filter(pk=user.pk).update(muted_until=timezone.now() - timedelta(seconds=1))
    ingest_listings([listing("sacai vest")])
    Sender(transport).drain()
    assert len(transport.delivered) == 1


def test_digest_alerts_wait_for_their_hour_then_go_out_as_compact_lines(queued_alerts):
    user = queued_alerts(40)
    User.objects.filter(pk=user.pk).update(digest="hourly")
    transport = FlakyTransport()
    stats = Sender(transport).drain()
    assert transport.delivered == [] and stats.postponed == 40
    alert = Alert.objects.filter(user=user).first()
    user.refresh_from_db()
    assert alert.next_attempt_at == next_digest_time(user, alert.created_at)
    assert alert.attempts == 0 and alert.status == "pending"

    Alert.objects.update(
        next_attempt_at=timezone.now(), created_at=timezone.now() - timedelta(hours=1)
    )
    Sender(transport).drain()
    assert sum(len(o.alerts) for o in transport.delivered) == 40
    assert len(transport.delivered) == 1  # 40 lines in one message, not 4 messages of 10 embeds
    [embed] = transport.delivered[0].message.payload()["embeds"]
    assert embed["title"] == "Alert digest"
    assert (
        embed["description"].count("\n") == 39 and "**¥10,000** · Mercari" in embed["description"]
    )


def test_digest_times_are_the_next_hour_or_the_next_daily_digest_hour(settings):
    settings.ALERTS_DAILY_DIGEST_HOUR = 9
    hourly, daily = User(digest="hourly"), User(digest="daily")
    at = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    assert next_digest_time(hourly, at) == datetime(2026, 11, 23, 11, tzinfo=UTC)
    assert next_digest_time(daily, at) == datetime(2026, 11, 24, 9, tzinfo=UTC)
    early = at.replace(hour=8)
    assert next_digest_time(daily, early) == datetime(2026, 11, 23, 9, tzinfo=UTC)


def test_closed_dms_skip_the_users_alerts_until_they_change_something(queued_alerts):
    user = queued_alerts(12)
    closed = Outcome(Result.DM_UNREACHABLE, error="the user's DMs are closed (Discord error 50007)")
    transport = FlakyTransport([closed])
    Sender(transport).drain()
    assert transport.delivered == []
    assert statuses(user) == {
        (
            "skipped",
            "Direct messages are unreachable: the user's DMs are closed (Discord error 50007)",
        )
    }
    assert transport.counters.requests == 1  # the second message was never tried

    ingest_listings([listing("sacai cap")])
    Sender(transport).drain()
    assert transport.counters.requests == 1  # nor are new alerts
    set_destination(User.objects.get(pk=user.pk), "dm")
    ingest_listings([listing("sacai belt")])
    Sender(transport).drain()
    assert len(transport.delivered) == 1


def test_a_broken_channel_sends_to_the_dm_with_a_one_time_note(queued_alerts):
    user = make_user()
    set_destination(user, "channel", "555", "666")
    queued_alerts(3, user=user)
    broken = Outcome(Result.CHANNEL_BROKEN, error="the bot may not post in the channel")
    transport = FlakyTransport([broken])
    Sender(transport).drain()
    [outgoing] = transport.delivered
    assert outgoing.route.is_dm and len(outgoing.alerts) == 3
    assert (
        "could not be posted in <#555> (the bot may not post in the channel)"
        in (outgoing.message.payload()["content"])
    )
    assert statuses(user) == {("sent", "")}
    ingest_listings([listing("sacai scarf")])
    Sender(transport).drain()
    assert transport.delivered[-1].route.is_dm
    assert "content" not in transport.delivered[-1].message.payload()  # the note came once
    user.refresh_from_db()
    assert user.channel_broken_reason and user.delivery_notice == ""


def test_a_crashed_senders_message_is_claimed_again_whole_under_its_nonce(queued_alerts):
    queued_alerts(10)
    crashed = Sender(FlakyTransport(), owner="crashed")
    _, [outgoing] = crashed._claim_and_plan(set())
    nonce = outgoing.message.payload()["nonce"]
    assert set(Alert.objects.values_list("nonce", flat=True)) == {nonce}
    # The crashed sender's leases expire. A smaller claim still takes the whole message: sent
    # alone under the nonce, a part would make Discord answer the rest with the part's message.
    Alert.objects.update(lease_owner="", lease_expires_at=None)
    _, [again] = Sender(FlakyTransport(), batch_size=4)._claim_and_plan(set())
    assert len(again.alerts) == 10 and again.message.payload()["nonce"] == nonce


def test_a_send_with_no_answer_is_retried_within_seconds_every_time(queued_alerts, settings):
    settings.ALERTS_MAX_ATTEMPTS = 8
    queued_alerts(1)
    unanswered = Outcome(Result.RETRY, error="no answer from Discord", ambiguous=True)
    sender = Sender(FlakyTransport([unanswered] * 7))
    waited = timedelta()
    for _ in range(7):
        sender.drain()
        alert = Alert.objects.get()
        wait = alert.next_attempt_at - timezone.now()
        assert wait <= timedelta(seconds=10)
        waited += wait
        Alert.objects.update(next_attempt_at=timezone.now())
    # Every attempt lands well inside Discord's nonce window ("a few minutes").
    assert waited < timedelta(seconds=settings.ALERTS_NONCE_WINDOW_SECONDS)
    assert alert.ambiguous_since is not None and alert.status == "pending"
    sender.drain()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts) == ("sent", 8)
