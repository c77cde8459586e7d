"""`manage.py runbot`: host the Discord bot; `--print-commands` and `--sync` manage its commands.

The bot logs in over REST, then keeps a gateway connection for interactions.
When the gateway can't be reached it logs why and tries again with backoff;
SIGTERM or Ctrl-C closes it cleanly. `--shards 0,1` runs those shards of
DISCORD_SHARD_COUNT (overriding DISCORD_SHARD_IDS), so several processes split
the bot's shards.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal

import discord
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bot.client import AlertsBot, Sharding, ShardingError, command_payload, sharding, use_api_base

log = logging.getLogger("bot.runbot")
NO_TOKEN = (
    "DISCORD_BOT_TOKEN is not set. Create an application at "
    "https://discord.com/developers/applications, add a bot under Bot, reset and copy its "
    "token, and set DISCORD_BOT_TOKEN (and DISCORD_APPLICATION_ID) in the environment or .env."
)
RETRY_MAX_SECONDS = 300
# View Channels, Send Messages, Embed Links: all that posting alerts in a channel needs.
BOT_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True)


class Command(BaseCommand):
    help = "Run the Discord bot; --print-commands prints its commands, --sync registers them."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--print-commands", action="store_true", help="print the command payload as JSON"
        )
        parser.add_argument("--sync", action="store_true", help="register the commands, then exit")
        parser.add_argument("--guild", type=int, help="with --sync: register in this server only")
        parser.add_argument(
            "--invite-url", action="store_true", help="print the link that adds the bot to a server"
        )
        parser.add_argument(
            "--shards",
            help="this process's shard ids, like 0,1, of DISCORD_SHARD_COUNT (overrides "
            "DISCORD_SHARD_IDS)",
        )

    def handle(
        self,
        *args,
        print_commands: bool = False,
        sync: bool = False,
        guild: int | None = None,
        invite_url: bool = False,
        shards: str | None = None,
        **options,
    ) -> None:
        if invite_url:
            if not settings.DISCORD_APPLICATION_ID:
                raise CommandError("Set DISCORD_APPLICATION_ID (the application's id) first.")
            self.stdout.write(
                discord.utils.oauth_url(
                    settings.DISCORD_APPLICATION_ID,
                    permissions=BOT_PERMISSIONS,
                    scopes=("bot", "applications.commands"),
                )
            )
            return
        if print_commands:
            payload = asyncio.run(command_payload())
            self.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False))
            return
        if not settings.DISCORD_BOT_TOKEN:
            raise CommandError(NO_TOKEN)
        use_api_base()
        if sync:
            synced = asyncio.run(self._sync(guild))
            where = (
                f"server {guild}" if guild else "all servers (global commands take up to an hour)"
            )
            self.stdout.write(f"registered {synced} commands for {where}")
            return
        try:
            chosen = sharding(shards)
        except ShardingError as error:
            raise CommandError(str(error)) from None
        asyncio.run(self._run(chosen))

    async def _sync(self, guild_id: int | None) -> int:
        bot = AlertsBot()
        async with bot:
            await bot.login(settings.DISCORD_BOT_TOKEN)
            target = discord.Object(id=guild_id) if guild_id else None
            if target:
                bot.tree.copy_global_to(guild=target)
            return len(await bot.tree.sync(guild=target))

    async def _run(self, shards: Sharding) -> None:
        bot = AlertsBot(shards)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        async with bot:
            try:
                await bot.login(settings.DISCORD_BOT_TOKEN)
            except discord.LoginFailure as error:
                raise CommandError(f"Discord refused the bot token: {error}") from None
            log.info(
                "logged in as %s (application %s), %s",
                bot.user,
                bot.application_id,
                shards.describe(),
            )
            connection = asyncio.create_task(self._stay_connected(bot))
            await stopping.wait()
            log.info("stopping: closing the gateway connection")
            await bot.close()
            connection.cancel()
            await asyncio.gather(connection, return_exceptions=True)
        log.info("runbot stopped")

    async def _stay_connected(self, bot: AlertsBot) -> None:
        delay = 5.0
        while not bot.is_closed():
            try:
                await bot.connect(reconnect=True)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.error("gateway unreachable (%s); trying again in %.0fs", error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX_SECONDS)
