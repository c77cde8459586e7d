"""The real sender and Discord transport against the local Discord API emulator."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Alert
from alerts.sender import Sender
from alerts.transports import get_transport
from scraping.ingest import ingest_listings
from tests.alerts.conftest import open_dm, posted_urls
from tests.builders import listing, make_filter, make_user
from users.models import User
from users.services import set_destination

pytestmark = pytest.mark.django_db


def send_all() -> Sender:
    sender = Sender(get_transport())
    sender.drain()
    return sender


def sacai_fans(count: int, **user_fields) -> list[User]:
    users = [make_user(**user_fields) for _ in range(count)]
    for user in users:
        make_filter(user, f"Sacai for {user.username}", brands=["Sacai"])
    return users


def test_each_user_gets_their_alerts_where_they_chose_packed_within_every_limit(discord):
    emulator = discord()
    emulator.add_channel("777", guild_id="9")
    warm, cold = sacai_fans(2)
    open_dm(emulator, warm)
    in_channel = sacai_fans(2)
    for user in in_channel:
        set_destination(user, "channel", "777", "9")
    titles = [
        "sacai ドッキング ニット " + "🔥" * 200,
        "Sacai " + "archive bomber jacket with an extremely long description " * 8,
    ] + [f"sacai item {n}" for n in range(10)]
    ingest_listings([listing(title, price=12345 + n) for n, title in enumerate(titles)])
    sender = send_all()

    assert sender.stats.sent == Alert.objects.count() == 48
    assert set(emulator.statuses) == {200}  # nothing rejected, nothing rate limited
    urls = posted_urls(emulator)
    assert sorted(urls) == sorted(Alert.objects.values_list("listing__url", flat=True))
    # Two DMs and one shared channel: 12 alerts each in a DM (2 messages), 24 in the channel (3).
    cold.refresh_from_db()
    assert cold.dm_channel_id == emulator.dm_of_user[cold.discord_id]  # opened once, remembered
    assert len(emulator.messages_in(warm.dm_channel_id)) == 2
    assert len(emulator.messages_in(cold.dm_channel_id)) == 2
    channel_messages = emulator.messages_in("777")
    assert len(channel_messages) == 3
    for message in channel_messages:
        pinged = {e["description"].split(">")[0][2:] for e in message["embeds"]}
        assert set(message["allowed_mentions"]["users"]) == pinged
        assert message["allowed_mentions"]["parse"] == []
    embed = emulator.messages_in(warm.dm_channel_id)[0]["embeds"][0]
    assert embed["title"].startswith("sacai ドッキング ニット") and embed["title"].endswith("…")
    assert embed["description"] == "**¥12,345** · Mercari"
    assert embed["fields"][0]["value"] == f"Sacai for {warm.username}"
    assert all(message["nonce"] and len(message["nonce"]) <= 25 for message in emulator.messages)
    assert set(Alert.objects.values_list("message_id", flat=True)) == {
        m["id"] for m in emulator.messages
    }


def test_one_user_with_many_alerts_does_not_delay_everybody_else(discord):
    emulator = discord(channel_window=1.0)  # 5 messages per second per channel
    [busy] = sacai_fans(1)
    open_dm(emulator, busy)
    ingest_listings([listing(f"sacai item {n}") for n in range(100)])
    for user in sacai_fans(8):
        open_dm(emulator, user)
        make_filter(user, brands=["Kapital"])
    ingest_listings([listing("kapital coat")])  # newer than every one of the busy user's alerts
    send_all()

    order = [m["channel_id"] for m in emulator.messages]
    assert len(order) == 10 + 8
    busy_positions = [n for n, channel in enumerate(order) if channel == busy.dm_channel_id]
    others_done = max(n for n, channel in enumerate(order) if channel != busy.dm_channel_id)
    assert others_done < busy_positions[2]  # everybody else went before the busy user's 3rd
    assert emulator.statuses[429] == 0


def test_users_with_hundreds_of_alerts_waiting_on_their_buckets_hold_back_nobody(discord):
    emulator = discord()  # 5 messages per 5 s per channel, as at Discord
    heavy = sacai_fans(6)
    for user in heavy:
        open_dm(emulator, user)
    ingest_listings([listing(f"sacai item {n}") for n in range(120)])  # 12 messages each
    light = [make_user() for _ in range(30)]
    for user in light:
        open_dm(emulator, user)
        make_filter(user, brands=["Kapital"])
    ingest_listings([listing("kapital coat")])  # newer than every heavy user's alerts
    send_all()

    heavy_channels = {user.dm_channel_id for user in heavy}
    order = [m["channel_id"] for m in emulator.messages]
    assert len(order) == 6 * 12 + 30
    light_done = max(n for n, channel in enumerate(order) if channel not in heavy_channels)
    # Each heavy user's first five messages fill their channel's bucket; everybody else goes
    # while those buckets refill, not after the heavy users' backlogs.
    assert light_done < 6 * 5 + 30
    assert emulator.statuses[429] == 0


def test_429s_are_obeyed_and_a_message_never_comes_back_before_its_retry_after(discord):
    emulator = discord(global_limit=10)  # Discord says less than we pace for
    users = sacai_fans(60)
    for user in users:
        open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    sender = send_all()

    assert emulator.rate_limited["global"] > 0
    assert sender.transport.counters.rate_limited["global"] == emulator.rate_limited["global"]
    assert emulator.early_retries == 0
    assert posted_urls(emulator) == [Alert.objects.first().listing.url] * 60  # each user once
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.parametrize(
    ("closed_as", "reason"),
    [
        (
            "closed_dm_users",
            "the user's DMs are closed or they blocked the bot (Discord error 50007)",
        ),
        ("no_mutual_guild_users", "the user shares no server with the bot (Discord error 50278)"),
    ],
)
def test_unreachable_dms_are_remembered_and_never_asked_again(discord, closed_as, reason):
    [user] = sacai_fans(1)
    emulator = discord(**{closed_as: {user.discord_id}})
    ingest_listings([listing(f"sacai item {n}") for n in range(25)])
    send_all()
    assert emulator.statuses[403] == 1  # one refusal, not one per alert or per message
    assert set(Alert.objects.values_list("status", "last_error")) == {
        ("skipped", f"Direct messages are unreachable: {reason}")
    }
    user.refresh_from_db()
    assert user.dm_unreachable_reason == reason

    ingest_listings([listing("sacai cap")])
    send_all()
    assert emulator.statuses[403] == 1


def test_a_channel_the_bot_cannot_post_in_falls_back_to_each_users_dm_with_a_note(discord):
    emulator = discord()
    emulator.add_channel("777", can_send=False)
    users = sacai_fans(2)
    for user in users:
        set_destination(user, "channel", "777", "9")
        open_dm(emulator, user)
    ingest_listings([listing("sacai coat"), listing("sacai vest")])
    send_all()

    assert emulator.error_codes[50013] == 1
    for user in users:
        [message] = emulator.messages_in(user.dm_channel_id)
        assert message["content"].startswith("⚠️ Your alerts could not be posted in <#777>")
        assert "may not post in the channel" in message["content"]
        assert len(message["embeds"]) == 2
    assert set(Alert.objects.values_list("status", flat=True)) == {"sent"}

    ingest_listings([listing("sacai scarf")])
    send_all()
    assert emulator.error_codes[50013] == 1  # the broken channel is not tried again
    for user in users:
        assert emulator.messages_in(user.dm_channel_id)[-1]["content"] == ""  # the note came once


def test_a_rejected_payload_fails_only_that_message_and_logs_it(discord, caplog):
    emulator = discord()
    emulator.add_channel("777")
    rejected, fine = sacai_fans(2)
    set_destination(rejected, "channel", "777", "9")
    open_dm(emulator, fine)
    emulator.config.invalid_form_channels.add("777")
    ingest_listings([listing("sacai coat")])
    with caplog.at_level(logging.ERROR, logger="alerts.sender"):
        send_all()
    failed = Alert.objects.get(user=rejected)
    assert failed.status == "failed"
    assert (
        failed.last_error
        == "Discord rejected the message (50035): embeds.0.url: Not a well formed URL."
    )
    assert Alert.objects.get(user=fine).status == "sent"
    assert "payload" in caplog.text and "sacai coat" in caplog.text
    assert emulator.error_codes[50035] == 1


def test_a_server_error_is_retried_later_and_delivers_once(discord):
    emulator = discord(failing_message_posts=1)
    [user] = sacai_fans(1)
    open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    send_all()
    alert = Alert.objects.get()
    assert (alert.status, alert.last_error) == ("pending", "Discord answered 502")
    Alert.objects.update(next_attempt_at=timezone.now())
    send_all()
    alert.refresh_from_db()
    assert alert.status == "sent"
    assert len(emulator.messages) == 1


def test_opening_dms_too_fast_pauses_dm_opens_and_opens_each_once(discord, settings):
    emulator = discord(dm_opens_per_second=1)
    settings.DISCORD_DM_OPENS_PER_SECOND = 20.0  # faster than this Discord tolerates
    settings.DISCORD_DM_OPEN_BACKOFF_SECONDS = 0.5
    users = sacai_fans(4)
    ingest_listings([listing("sacai coat")])
    started = time.monotonic()
    send_all()
    assert emulator.error_codes[40003] >= 1
    assert time.monotonic() - started >= 0.5
    assert len(emulator.dm_of_user) == 4
    assert len(emulator.messages) == 4
    for user in users:
        user.refresh_from_db()
        assert user.dm_channel_id == emulator.dm_of_user[user.discord_id]


def test_refused_requests_pause_the_sender_before_discord_would_ban_it(
    discord, settings, monkeypatch, caplog
):
    from alerts.transports import discord as transport_module

    monkeypatch.setattr(transport_module, "INVALID_WINDOW_SECONDS", 1.0)
    settings.DISCORD_INVALID_REQUESTS_LIMIT = 2
    users = sacai_fans(3)
    emulator = discord(closed_dm_users={user.discord_id for user in users})
    for user in users:
        open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    started = time.monotonic()
    send_all()
    assert emulator.statuses[403] == 3
    assert time.monotonic() - started >= 0.9  # the third waited for the window to move on
    assert "refused requests (401/403/429) in 10 minutes; pausing" in caplog.text


def post_unanswered(discord, settings):
    """One alert whose post Discord takes but never answers (the sender times out first)."""
    emulator = discord(latency=(0.6, 0.6))
    settings.DISCORD_REQUEST_TIMEOUT = 0.3
    [user] = sacai_fans(1)
    open_dm(emulator, user)
    ingest_listings([listing("sacai coat")])
    send_all()
    alert = Alert.objects.get()
    assert alert.status == "pending" and alert.ambiguous_since is not None
    assert alert.next_attempt_at <= timezone.now() + timedelta(seconds=1)  # retried soon
    time.sleep(0.5)  # Discord finishes the request the sender gave up on
    assert len(emulator.messages) == 1
    emulator.config.latency = (0.0, 0.0)
    return emulator, user


def test_a_timed_out_request_is_retried_and_posts_once_though_discord_took_the_first(
    discord, settings
):
    emulator, _ = post_unanswered(discord, settings)
    assert Alert.objects.get().last_error.startswith("no answer from Discord")
    Alert.objects.update(next_attempt_at=timezone.now())
    send_all()
    alert = Alert.objects.get()
    assert alert.status == "sent" and alert.message_id == emulator.messages[0]["id"]
    assert len(emulator.messages) == 1  # the nonce made Discord answer with the first message


def much_later(emulator, settings) -> None:
    """The retry comes after the nonce window: Discord no longer knows the nonce."""
    emulator.config.nonce_window = 0.0
    long_ago = timezone.now() - timedelta(seconds=settings.ALERTS_NONCE_WINDOW_SECONDS + 60)
    Alert.objects.update(ambiguous_since=long_ago, next_attempt_at=timezone.now())


def test_past_the_nonce_window_a_post_that_landed_unanswered_is_found_not_posted_again(
    discord, settings
):
    emulator, user = post_unanswered(discord, settings)
    much_later(emulator, settings)
    send_all()
    alert = Alert.objects.get()
    assert alert.status == "sent" and alert.message_id == emulator.messages[0]["id"]
    assert len(emulator.messages) == 1
    assert emulator.reads[user.dm_channel_id] == 1


def test_past_the_nonce_window_a_post_that_never_landed_is_posted_once(discord, settings):
    emulator, user = post_unanswered(discord, settings)
    emulator.messages.clear()  # as if the request had died on its way
    much_later(emulator, settings)
    send_all()
    alert = Alert.objects.get()
    assert emulator.reads[user.dm_channel_id] == 1  # looked before posting
    [message] = emulator.messages
    assert alert.status == "sent" and alert.message_id == message["id"]
