"""`/alerts …` and `/help` through a fake interaction."""

from __future__ import annotations

import logging
from datetime import timedelta

import discord
import pytest
from asgiref.sync import async_to_sync
from django.db import connection
from django.utils import timezone

from alerts.models import Alert
from alerts.sender import Sender
from bot.cogs.alerts import AlertCommands
from bot.cogs.help import HelpCommand
from bot.replies import APOLOGY, REFUSED, call_service
from tests.alerts.conftest import FlakyTransport
from tests.bot.conftest import FakeChannel, FakeGuild, FakeInteraction, FakeMember
from users.models import User

pytestmark = pytest.mark.django_db

cog = AlertCommands(bot=None)
POSTS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)
MANAGES = discord.Permissions(manage_channels=True)
BOT = FakeMember(1000, "alerts-bot")


def account(member) -> User:
    return User.objects.get(discord_id=str(member.id))


def server(channel_grants: dict[int, discord.Permissions]) -> tuple[FakeGuild, FakeChannel]:
    return FakeGuild(42, BOT), FakeChannel(555, channel_grants)


def test_alerts_go_to_a_channel_only_when_the_bot_can_post_and_the_caller_manages_it(
    invoke, discord_user
):
    alice = discord_user()
    guild, channel = server({alice.id: MANAGES})  # the bot may not post there
    answer = invoke(cog, "channel", alice, guild, channel=channel).answer
    assert answer.content.startswith("I can't post in <#555>: give me View Channel")
    assert account(alice).destination_kind == "dm"

    guild, channel = server({BOT.id: POSTS})  # alice does not manage it
    answer = invoke(cog, "channel", alice, guild, channel=channel).answer
    assert answer.content.startswith("You need the Manage Channels permission in <#555>")
    assert account(alice).destination_kind == "dm"

    guild, channel = server({BOT.id: POSTS, alice.id: MANAGES})
    answer = invoke(cog, "channel", alice, guild, channel=channel).answer
    assert answer.content == "Your alerts now go to <#555>, with a ping for you."
    user = account(alice)
    assert (user.destination_kind, user.destination_channel_id, user.destination_guild_id) == (
        "channel",
        "555",
        "42",
    )
    invoke(cog, "dm", alice)
    assert account(alice).destination_kind == "dm"


def test_status_says_where_alerts_go_and_what_stops_them(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "dm", alice)
    User.objects.filter(discord_id=str(alice.id)).update(
        dm_unreachable_reason="the user's DMs are closed or they blocked the bot (Discord error 50007)"
    )
    answer = invoke(cog, "status", alice).answer
    assert "Destination: Direct message" in answer.text
    assert "Timing: Instant" in answer.text
    assert "Problem: Your DMs can't be reached: the user's DMs are closed" in answer.text


def test_mute_for_a_while_unmute_and_a_clear_error_for_a_bad_duration(invoke, discord_user):
    alice = discord_user()
    before = timezone.now()
    answer = invoke(cog, "mute", alice, duration="1d12h").answer
    muted = account(alice).muted_until
    assert timedelta(hours=35, minutes=59) < muted - before < timedelta(hours=36, minutes=1)
    assert answer.content.startswith("Muted until <t:")
    answer = invoke(cog, "mute", alice, duration="soon").answer
    assert answer.content == "⚠️ “soon” is not a duration; write it like 30m, 8h, 1d or 1d12h."
    answer = invoke(cog, "mute", alice, duration="90d").answer
    assert answer.content == "⚠️ The longest mute is 30 days."
    answer = invoke(cog, "mute", alice, duration="99999999999d").answer
    assert answer.content == "⚠️ “99999999999d” is longer than 10 years."
    answer = invoke(cog, "mute", alice, duration="１d").answer  # digits 0-9 only, as for prices
    assert answer.content.startswith("⚠️ “１d” is not a duration")
    assert account(alice).muted_until == muted
    invoke(cog, "unmute", alice)
    assert account(alice).muted_until is None


def test_digest_choice(invoke, discord_user):
    from discord import app_commands

    alice = discord_user()
    hourly = app_commands.Choice(name="Hourly", value="hourly")
    assert invoke(cog, "digest", alice, mode=hourly).answer.content == (
        "Alerts come collected, once an hour."
    )
    assert account(alice).digest == "hourly"


def test_a_test_alert_goes_through_the_real_sender_even_when_muted(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "mute", alice, duration="8h")
    answer = invoke(cog, "test", alice).answer
    assert answer.content.startswith("A sample alert is on its way to your direct message.")
    transport = FlakyTransport()
    Sender(transport).drain()
    [outgoing] = transport.delivered
    assert outgoing.recipient_id == str(alice.id)
    assert outgoing.message.embeds[0]["title"].startswith("Test alert")
    assert Alert.objects.get().status == "sent"


def test_help_lists_the_commands_and_links_the_dashboard(invoke, discord_user, settings):
    settings.SITE_URL = "https://alerts.example.com"
    answer = invoke(HelpCommand(bot=None), "help", discord_user()).answer
    assert "`/filter create`" in answer.text and "`/alerts mute`" in answer.text
    assert "Web dashboard: https://alerts.example.com/" in answer.text
    assert "Your data, all of it, to download: https://alerts.example.com/accounts/data/" in (
        answer.text
    )
    assert (
        "delete your account and everything in it: https://alerts.example.com/accounts/delete/"
        in (answer.text)
    )


def test_two_test_alerts_in_the_same_second_both_go_out(invoke, discord_user):
    alice = discord_user()
    first = invoke(cog, "test", alice).answer
    second = invoke(cog, "test", alice).answer
    for answer in (first, second):
        assert answer.content.startswith("A sample alert is on its way")
    assert Alert.objects.filter(user=account(alice)).count() == 2


def test_a_failure_nobody_expected_is_logged_and_the_caller_gets_an_apology(
    invoke, discord_user, caplog
):
    alice = discord_user()
    invoke(cog, "dm", alice)  # the account exists
    with connection.cursor() as cursor:  # the alerts table is gone: no command expects that
        cursor.execute("ALTER TABLE alerts_alert RENAME TO alerts_alert_gone")
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        answer = invoke(cog, "status", alice).answer
    assert answer.content == APOLOGY
    [record] = [r for r in caplog.records if r.name == "bot.replies"]
    assert record.getMessage() == f"/alerts status failed for Discord user {alice.id}"
    assert record.exc_info is not None  # with its traceback


def test_a_service_failing_unexpectedly_is_apologized_for_too(discord_user, caplog):
    interaction = FakeInteraction(discord_user())
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        result = async_to_sync(call_service)(interaction, int, "not a number")
    assert result is REFUSED
    assert interaction.answer.content == APOLOGY
    assert "ValueError" in caplog.text
