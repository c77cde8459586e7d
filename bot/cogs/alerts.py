"""`/alerts …`: where alerts go, quiet hours, digests, status and a test alert.

Only a member who can manage a channel may point alerts into it, and only if
the bot can see it and post embeds there.
"""

from __future__ import annotations

import discord
from asgiref.sync import sync_to_async
from discord import app_commands
from discord.ext import commands
from django.utils import timezone

from alerts.services import delivery_status, queue_test_alert
from bot.replies import REFUSED, Apologizes, call_service, caller, reply
from lib.durations import parse_duration
from lib.errors import FieldError
from users.services import mute_alerts, set_destination, set_digest

DIGEST_CHOICES = [
    app_commands.Choice(name="Off: every alert at once", value="instant"),
    app_commands.Choice(name="Hourly", value="hourly"),
    app_commands.Choice(name="Daily", value="daily"),
]


def when(moment) -> str:
    return discord.utils.format_dt(moment, "f") if moment else "never"


def channel_refusal(
    channel: discord.abc.GuildChannel, bot_member: discord.Member, member: discord.Member
) -> str:
    """Why alerts may not go to the channel, or "" when they may."""
    mine = channel.permissions_for(bot_member)
    if not (mine.view_channel and mine.send_messages and mine.embed_links):
        return (
            f"I can't post in {channel.mention}: give me View Channel, Send Messages and "
            "Embed Links there, then try again."
        )
    if not channel.permissions_for(member).manage_channels:
        return (
            f"You need the Manage Channels permission in {channel.mention} to send alerts "
            "there, so nobody can fill a channel they don't look after."
        )
    return ""


class AlertCommands(
    Apologizes,
    commands.GroupCog,
    group_name="alerts",
    group_description="Where and when your alerts arrive",
):
    def __init__(self, bot: commands.Bot | commands.AutoShardedBot) -> None:
        self.bot = bot

    @app_commands.command(description="Send your alerts to your direct messages")
    async def dm(self, interaction: discord.Interaction) -> None:
        user = await caller(interaction)
        if user is None or await call_service(interaction, set_destination, user, "dm") is REFUSED:
            return
        await reply(
            interaction,
            "Your alerts now come by direct message. If they don't arrive, allow direct "
            "messages from members of a server we share.",
        )

    @app_commands.command(description="Send your alerts to a channel of this server")
    @app_commands.describe(channel="A text channel you manage")
    async def channel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        user = await caller(interaction)
        if user is None:
            return
        guild = interaction.guild
        if guild is None:
            await reply(interaction, "Run this in the server that has the channel.")
            return
        # In a server (guild is set) the caller is a Member.
        if refusal := channel_refusal(channel, guild.me, interaction.user):  # type: ignore[arg-type]
            await reply(interaction, refusal)
            return
        result = await call_service(
            interaction, set_destination, user, "channel", str(channel.id), str(guild.id)
        )
        if result is not REFUSED:
            await reply(
                interaction, f"Your alerts now go to {channel.mention}, with a ping for you."
            )

    @app_commands.command(description="Where your alerts go, and how delivery is going")
    async def status(self, interaction: discord.Interaction) -> None:
        user = await caller(interaction)
        if user is None:
            return
        status = await sync_to_async(delivery_status)(user)
        fields = [
            ("Destination", status.destination.capitalize()),
            ("Timing", status.digest),
            ("Muted until", when(status.muted_until) if status.muted_until else "Not muted"),
            (
                "Alerts",
                f"{status.sent:,} sent · {status.pending:,} waiting · "
                f"{status.failed:,} failed · {status.skipped:,} skipped",
            ),
            ("Last delivery", when(status.last_sent_at)),
        ]
        if status.problem:
            fields.append(("Problem", status.problem))
        embed = {
            "title": "Your alerts",
            "color": 0xED4245 if status.problem else 0x57F287,
            "fields": [{"name": n, "value": v[:1024], "inline": False} for n, v in fields],
        }
        await reply(interaction, embed=embed)

    @app_commands.command(description="Pause all your alerts for a while (they are skipped)")
    @app_commands.describe(duration="How long: 30m, 8h, 1d… (default 8h)")
    async def mute(self, interaction: discord.Interaction, duration: str = "8h") -> None:
        user = await caller(interaction)
        if user is None:
            return
        try:
            length = parse_duration("duration", duration)
        except FieldError as error:
            await reply(interaction, f"⚠️ {error.message}")
            return
        until = timezone.now() + length
        if await call_service(interaction, mute_alerts, user, until) is REFUSED:
            return
        await reply(interaction, f"Muted until {when(until)}. `/alerts unmute` ends it sooner.")

    @app_commands.command(description="Receive alerts again")
    async def unmute(self, interaction: discord.Interaction) -> None:
        user = await caller(interaction)
        if user is None or await call_service(interaction, mute_alerts, user, None) is REFUSED:
            return
        await reply(interaction, "Alerts are on again.")

    @app_commands.command(description="Get alerts at once, or collected hourly or daily")
    @app_commands.describe(mode="When alerts arrive")
    @app_commands.choices(mode=DIGEST_CHOICES)
    async def digest(
        self, interaction: discord.Interaction, mode: app_commands.Choice[str]
    ) -> None:
        user = await caller(interaction)
        if user is None or await call_service(interaction, set_digest, user, mode.value) is REFUSED:
            return
        texts = {
            "instant": "Alerts come one by one, as soon as listings appear.",
            "hourly": "Alerts come collected, once an hour.",
            "daily": "Alerts come collected, once a day.",
        }
        await reply(interaction, texts[mode.value])

    @app_commands.command(description="Send yourself a sample alert through the real delivery")
    async def test(self, interaction: discord.Interaction) -> None:
        user = await caller(interaction)
        if user is None or await call_service(interaction, queue_test_alert, user) is REFUSED:
            return
        await reply(
            interaction,
            f"A sample alert is on its way to your {user.destination_label}. "
            "If it doesn't arrive within a minute, `/alerts status` says why.",
        )
