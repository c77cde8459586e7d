"""How the bot answers: ephemeral replies, the caller's account, service errors in one sentence."""

from __future__ import annotations

from typing import Any

import discord
from asgiref.sync import sync_to_async

from filters.errors import ServiceError, ValidationFailed
from users.models import User
from users.services import get_or_create_discord_user

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
        await interaction.followup.send(content, **kwargs)
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
    """Run a service function off the event loop; on a refusal, tell the caller and return
    REFUSED."""
    try:
        return await sync_to_async(function)(*args)
    except ServiceError as error:
        await reply(interaction, f"⚠️ {error_sentence(error)}")
        return REFUSED
