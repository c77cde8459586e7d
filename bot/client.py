"""The bot: application commands only (no message content), sharded automatically past 2,500 servers."""

from __future__ import annotations

import logging

import discord
from discord.ext import commands
from django.conf import settings

from bot.cogs.alerts import AlertCommands
from bot.cogs.filters import FilterCommands
from bot.cogs.help import HelpCommand

log = logging.getLogger(__name__)


def use_api_base() -> None:
    """Send discord.py's REST calls to DISCORD_API_BASE (a local emulator in tests)."""
    discord.http.Route.BASE = settings.DISCORD_API_BASE


class AlertsBot(commands.AutoShardedBot):
    def __init__(self) -> None:
        # The bot never joins voice: no warning about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # The guilds intent keeps channels and permissions cached for /alerts channel.
        intents = discord.Intents.none()
        intents.guilds = True
        application_id = settings.DISCORD_APPLICATION_ID or None
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            application_id=int(application_id) if application_id else None,
        )

    async def setup_hook(self) -> None:
        for cog in (FilterCommands, AlertCommands, HelpCommand):
            await self.add_cog(cog(self))

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))


async def command_payload() -> list[dict]:
    """The application commands as Discord receives them when they are registered."""
    bot = AlertsBot()
    await bot.setup_hook()
    return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
