"""`/help`: what the bot does and its commands."""

from __future__ import annotations

import discord
from discord import app_commands
from discord.ext import commands
from django.conf import settings

from bot.replies import Apologizes, reply

HELP = """I watch Mercari, Yahoo! Auctions, Rakuma and PayPay Fleamarket for you and send an \
alert the moment a new listing matches one of your filters.

**Filters**
`/filter create` · `/filter list` · `/filter show` · `/filter edit` · `/filter preview` · \
`/filter pause` · `/filter resume` · `/filter delete`

**Alerts**
`/alerts dm` or `/alerts channel` (where they go) · `/alerts mute` · `/alerts unmute` · \
`/alerts digest` (hourly or daily) · `/alerts status` · `/alerts test`

Only you see my answers, and only you can see or change your filters."""


class HelpCommand(Apologizes, commands.Cog):
    def __init__(self, bot: commands.Bot | commands.AutoShardedBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What this bot does and how to use it")
    async def help(self, interaction: discord.Interaction) -> None:
        embed = {
            "title": "Marketplace alerts",
            "description": f"{HELP}\n\nWeb dashboard: {settings.SITE_URL}/\n"
            f"Your data, all of it, to download: {settings.SITE_URL}/accounts/data/\n"
            f"To delete your account and everything in it: {settings.SITE_URL}/accounts/delete/",
            "color": 0x5865F2,
        }
        await reply(interaction, embed=embed)
