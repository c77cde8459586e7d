"""A small fake of a Discord interaction: who calls, from where, and what the bot answered."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from asgiref.sync import async_to_sync
from discord import app_commands

_ids = itertools.count(700_000_000_000_000_001)


@dataclass
class Answer:
    content: str | None
    embed: dict | None
    view: discord.ui.View | None
    ephemeral: bool

    @property
    def text(self) -> str:
        """Everything the caller reads: the content and the embed's words."""
        parts = [self.content or ""]
        if self.embed:
            parts += [self.embed.get("title", ""), self.embed.get("description", "")]
            parts += [f"{f['name']}: {f['value']}" for f in self.embed.get("fields", [])]
        return "\n".join(parts)


@dataclass
class FakeMember:
    id: int
    name: str
    permissions: discord.Permissions = field(default_factory=discord.Permissions.none)

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"


@dataclass
class FakeChannel:
    id: int
    grants: dict[int, discord.Permissions]

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def permissions_for(self, member: FakeMember) -> discord.Permissions:
        return self.grants.get(member.id, discord.Permissions.none())


@dataclass
class FakeGuild:
    id: int
    me: FakeMember


class FakeResponse:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.done = False
        self.deferred = False
        self.edited: dict[str, Any] | None = None

    def is_done(self) -> bool:
        return self.done

    async def send_message(self, content=None, *, embed=None, view=None, ephemeral=False) -> None:
        assert not self.done, "an interaction is answered once"
        self.done = True
        self.answers.append(Answer(content, embed and embed.to_dict(), view, ephemeral))

    async def defer(self, *, ephemeral: bool = False, thinking: bool = False) -> None:
        self.done = self.deferred = True

    async def edit_message(self, *, content=None, view=None) -> None:
        self.done = True
        self.edited = {"content": content, "view": view}


class FakeFollowup:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers

    async def send(self, content=None, *, embed=None, view=None, ephemeral=False) -> None:
        self.answers.append(Answer(content, embed and embed.to_dict(), view, ephemeral))


class FakeInteraction:
    def __init__(self, user: FakeMember, guild: FakeGuild | None = None) -> None:
        self.user = user
        self.guild = guild
        self.command: app_commands.Command | None = None
        self.answers: list[Answer] = []
        self.response = FakeResponse(self.answers)
        self.followup = FakeFollowup(self.answers)

    @property
    def answer(self) -> Answer:
        [only] = self.answers
        assert only.ephemeral, "replies are only for the caller"
        return only


def click(button: discord.ui.Button, interaction: FakeInteraction) -> FakeInteraction:
    """Press a button of a view the bot sent."""

    async def press() -> None:
        await button.callback(interaction)

    async_to_sync(press)()
    return interaction


@pytest.fixture
def discord_user():
    """A Discord member (not yet known to the service) who calls commands."""

    def make(name: str = "alice", **permissions: bool) -> FakeMember:
        return FakeMember(next(_ids), name, discord.Permissions(**permissions))

    return make


@pytest.fixture
def invoke():
    """Run a slash command as discord.py's command tree does: its callback, then, if it
    raised, the command's error handlers. Return the interaction to inspect."""

    def run(cog, command, caller: FakeMember, guild: FakeGuild | None = None, **options):
        interaction = FakeInteraction(caller, guild)
        found: app_commands.Command = getattr(cog, command)
        interaction.command = found

        async def dispatch() -> None:
            try:
                await found._do_call(interaction, options)
            except app_commands.AppCommandError as error:
                if not found._has_any_error_handlers():
                    raise
                await found._invoke_error_handlers(interaction, error)

        async_to_sync(dispatch)()
        return interaction

    return run
