"""The bot: application commands only (no message content), sharded past 2,500 servers.

Unset, DISCORD_SHARD_COUNT leaves sharding to discord.py: it asks Discord how many
shards the bot needs and runs them all in this process. Set, it fixes the total, and
DISCORD_SHARD_IDS (or `runbot --shards`) picks this process's share, so several runbot
processes split the shards between them; `sharding()` checks both.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord
import yarl
from discord.ext import commands
from discord.gateway import DiscordWebSocket
from django.conf import settings

from bot.cogs.alerts import AlertCommands
from bot.cogs.filters import FilterCommands
from bot.cogs.help import HelpCommand

log = logging.getLogger(__name__)


def use_api_base() -> None:
    """Send discord.py's REST calls to DISCORD_API_BASE (a local emulator in tests)."""
    discord.http.Route.BASE = settings.DISCORD_API_BASE


class ShardingError(ValueError):
    """A shard setting that cannot work; the message names the setting and says why."""


@dataclass(frozen=True)
class Sharding:
    count: int | None = None  # None: as many shards as Discord recommends
    ids: tuple[int, ...] | None = None  # None: every shard, in this process

    def describe(self) -> str:
        if self.count is None:
            return "automatic sharding"
        ids = range(self.count) if self.ids is None else self.ids
        return f"shards {', '.join(map(str, ids))} of {self.count}"


def sharding(ids: str | None = None) -> Sharding:
    """The shards this process runs: DISCORD_SHARD_COUNT, and `ids` (`runbot --shards`) or
    else DISCORD_SHARD_IDS; raises ShardingError naming the setting that is wrong."""
    count = settings.DISCORD_SHARD_COUNT
    ids_source = "--shards" if ids is not None else "DISCORD_SHARD_IDS"
    if ids is None:
        ids = settings.DISCORD_SHARD_IDS
    if count < 0:
        raise ShardingError(
            f"DISCORD_SHARD_COUNT must be the total number of shards over every runbot process "
            f"(1 or more), or 0 for automatic sharding, not {count}"
        )
    if not ids.strip():
        if ids_source == "--shards":
            raise ShardingError("--shards must list this process's shards, like 0,1")
        return Sharding(count or None)
    if not count:
        raise ShardingError(
            f"{ids_source} needs DISCORD_SHARD_COUNT: the total number of shards over every "
            "runbot process, of which these are this process's share"
        )
    chosen: list[int] = []
    for item in ids.split(","):
        try:
            shard = int(item)
        except ValueError:
            raise ShardingError(
                f"{ids_source} must be shard numbers separated by commas, like 0,1, not {ids!r}"
            ) from None
        if not 0 <= shard < count:
            raise ShardingError(
                f"{ids_source} lists shard {shard}, but with DISCORD_SHARD_COUNT={count} the "
                f"shards are 0 to {count - 1}"
            )
        if shard in chosen:
            raise ShardingError(f"{ids_source} lists shard {shard} twice")
        chosen.append(shard)
    return Sharding(count, tuple(chosen))


class AlertsBot(commands.AutoShardedBot):
    def __init__(self, shards: Sharding | None = None) -> None:
        # The bot never joins voice: no warning about voice libraries it does not need.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        # The guilds intent keeps channels and permissions cached for /alerts channel.
        intents = discord.Intents.none()
        intents.guilds = True
        application_id = settings.DISCORD_APPLICATION_ID or None
        shards = shards or Sharding()
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            # discord.py reads None as not given; its typed options leave None out.
            application_id=int(application_id) if application_id else None,  # type: ignore[arg-type]
            shard_count=shards.count,
            shard_ids=list(shards.ids) if shards.ids is not None else None,  # type: ignore[arg-type]
        )

    async def launch_shards(self) -> None:
        if self.shard_count is not None:
            # With a fixed count discord.py skips GET /gateway/bot and connects to its
            # built-in address; ask for the address as automatic sharding does (Discord
            # says to use the one it gives; tests point DISCORD_API_BASE at an emulator).
            _, url, _ = await self.http.get_bot_gateway()
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        await super().launch_shards()

    async def setup_hook(self) -> None:
        for cog in (FilterCommands, AlertCommands, HelpCommand):
            await self.add_cog(cog(self))

    async def on_shard_ready(self, shard_id: int) -> None:
        log.info("shard %d of %s is ready", shard_id, self.shard_count)

    async def on_ready(self) -> None:
        log.info("connected as %s to %d servers", self.user, len(self.guilds))


async def command_payload() -> list[dict]:
    """The application commands as Discord receives them when they are registered."""
    bot = AlertsBot()
    await bot.setup_hook()
    return [command.to_dict(bot.tree) for command in bot.tree.get_commands()]
