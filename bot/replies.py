"""How the bot answers: ephemeral replies, the caller's account, service errors in one sentence.

Anything unexpected in a command is logged with its traceback and the caller gets an
apology, never Discord's bare "The application did not respond" or "interaction failed".
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from asgiref.sync import sync_to_async
from discord import app_commands

from lib.errors import ServiceError, ValidationFailed
from users.models import User
from users.services import get_or_create_discord_user

log = logging.getLogger(__name__)

APOLOGY = "Something went wrong on our side; it has been logged. Please try again."
SUSPENDED = (
    "Your account is suspended, so the bot can't do anything for you. "
    "If you think this is a mistake, contact the server's moderators."
)


def error_sentence(error: ServiceError) -> str:
    """The service's own wording, every wrong field at once."""
    if isinstance(error, ValidationFailed):
        return " ".join(e.message for e in error.errors)
    return error.message


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: dict | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Answer only the caller, whether or not the interaction was deferred."""
    kwargs: dict[str, Any] = {"ephemeral": True}
    if embed is not None:
        kwargs["embed"] = discord.Embed.from_dict(embed)
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        # discord.py sends None as no content; its type says str.
        await interaction.followup.send(content, **kwargs)  # type: ignore[arg-type]
    else:
        await interaction.response.send_message(content, **kwargs)


async def caller(interaction: discord.Interaction) -> User | None:
    """The caller's account, created on first use; None (and a polite refusal) when banned."""
    user, _ = await sync_to_async(get_or_create_discord_user)(
        str(interaction.user.id), interaction.user.name
    )
    if user.is_banned:
        await reply(interaction, SUSPENDED)
        return None
    return user


REFUSED = object()


async def call_service(interaction: discord.Interaction, function, *args) -> Any:
    """Run a service function off the event loop; on a refusal or a failure, tell the caller
    and return REFUSED."""
    try:
        return await sync_to_async(function)(*args)
    except ServiceError as error:
        await reply(interaction, f"⚠️ {error_sentence(error)}")
    except Exception as error:
        await apologize(interaction, error)
    return REFUSED


def _command_name(interaction: discord.Interaction) -> str:
    command = getattr(interaction, "command", None)
    return f"/{command.qualified_name}" if command is not None else "a command"


async def apologize(interaction: discord.Interaction, error: BaseException) -> None:
    """Log an unexpected failure with its traceback; tell the caller, politely, if we still can."""
    log.error(
        "%s failed for Discord user %s",
        _command_name(interaction),
        interaction.user.id,
        exc_info=error,
    )
    try:
        await reply(interaction, APOLOGY)
    except discord.HTTPException:
        log.warning(
            "could not send the apology for %s (the interaction expired?)",
            _command_name(interaction),
        )


class Apologizes:
    """Cog mixin: a command that raises is logged and answered with an apology. discord.py
    calls this for every command of the cog, so nothing reaches its "Ignoring exception"."""

    async def cog_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await apologize(interaction, getattr(error, "original", error))
