"""`/filter …`: create, list, show, edit, delete, pause, resume and preview the caller's filters.

Every write goes through filters/services.py, so the rules and messages are
those of the web and the API. `name` autocompletes over the caller's own
filters only; no option can name another user. Markets are offered as one
choice (all markets, or one); combinations can be set on the web.
"""

from __future__ import annotations

import discord
from asgiref.sync import sync_to_async
from discord import app_commands
from discord.ext import commands

from alerts.embeds import filter_embed, filter_line
from alerts.models import Alert
from bot.replies import REFUSED, Apologizes, apologize, call_service, caller, reply
from filters.models import Filter
from filters.preview import recent_matches
from filters.services import (
    access_filter_by_name,
    create_filter,
    delete_filter,
    set_filter_active,
    update_filter,
)
from lib.formatting import format_price, market_label
from lib.markets import CHOOSABLE
from users.models import User

MARKET_CHOICES = [
    app_commands.Choice(name="All markets", value="all"),
    *(app_commands.Choice(name=market_label(code), value=code) for code in CHOOSABLE),
]
CLEAR = "-"
DESCRIBE = {
    "name": "The filter's name",
    "brands": "Brands, comma-separated (Sacai, Kapital…)",
    "keywords": "Words that must all be in the title, comma-separated",
    "exclude": "Words that must not be in the title, comma-separated",
    "min_price": "Lowest price in yen",
    "max_price": "Highest price in yen",
    "market": "Where to look",
}
EDIT_DESCRIBE = {
    **{key: f"{text} ({CLEAR} clears)" for key, text in DESCRIBE.items() if key != "name"},
    "min_price": "Lowest price in yen (0 clears)",
    "max_price": "Highest price in yen (0 clears)",
    "name": "The filter to change",
    "new_name": "A new name",
}


def filter_data(
    brands: str | None,
    keywords: str | None,
    exclude: str | None,
    min_price: int | None,
    max_price: int | None,
    market: app_commands.Choice[str] | None,
    new_name: str | None = None,
) -> dict:
    """Service input from the options that were given; `-` or 0 clears a field."""
    data: dict = {}
    for field, text in (("brands", brands), ("keywords", keywords), ("exclude", exclude)):
        if text is not None:
            data[field] = [] if text.strip() == CLEAR else text
    for field, price in (("price_min", min_price), ("price_max", max_price)):
        if price is not None:
            data[field] = price or None
    if market is not None:
        data["markets"] = [] if market.value == "all" else [market.value]
    if new_name is not None:
        data["name"] = new_name
    return data


def _own_filter_names(discord_id: str, current: str) -> list[str]:
    # A read only: autocompletion runs on every keystroke, of strangers too, and must not
    # create their account (their first command does).
    mine = Filter.objects.filter(owner__discord_id=discord_id, owner__is_banned=False)
    return mine.names_like(current)


async def own_filter_names(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    names = await sync_to_async(_own_filter_names)(str(interaction.user.id), current)
    return [app_commands.Choice(name=name, value=name) for name in names]


class ConfirmDelete(discord.ui.View):
    """Delete or keep; only the caller sees it (the reply is ephemeral)."""

    def __init__(self, user: User, filter_id: int, name: str) -> None:
        super().__init__(timeout=120)
        self.user, self.filter_id, self.name = user, filter_id, name

    @discord.ui.button(label="Delete", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        if await call_service(interaction, delete_filter, self.user, self.filter_id) is REFUSED:
            return
        await interaction.response.edit_message(content=f"Deleted “{self.name}”.", view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item
    ) -> None:
        await apologize(interaction, error)

    @discord.ui.button(label="Keep", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        self.stop()
        await interaction.response.edit_message(content=f"Kept “{self.name}”.", view=None)


class FilterCommands(
    Apologizes,
    commands.GroupCog,
    group_name="filter",
    group_description="Create and manage your alert filters",
):
    def __init__(self, bot: commands.Bot | commands.AutoShardedBot) -> None:
        self.bot = bot

    @app_commands.command(description="Create a filter: brands, keywords, a price range, a market")
    @app_commands.describe(**DESCRIBE)
    @app_commands.choices(market=MARKET_CHOICES)
    async def create(
        self,
        interaction: discord.Interaction,
        name: str,
        brands: str | None = None,
        keywords: str | None = None,
        exclude: str | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        market: app_commands.Choice[str] | None = None,
    ) -> None:
        user = await caller(interaction)
        if user is None:
            return
        data = filter_data(brands, keywords, exclude, min_price, max_price, market)
        created = await call_service(interaction, create_filter, user, {"name": name, **data})
        if created is not REFUSED:
            await reply(interaction, f"Created “{created.name}”.", embed=filter_embed(created, 0))

    @app_commands.command(name="list", description="Your filters, with their state and alerts")
    async def list_filters(self, interaction: discord.Interaction) -> None:
        user = await caller(interaction)
        if user is None:
            return
        await interaction.response.defer(ephemeral=True)  # counting alerts may take a moment

        def lines() -> list[str]:
            counts = Alert.objects.count_by_filter(user)
            mine = Filter.objects.owned_by(user).order_by("name")
            return [filter_line(found, counts.get(found.pk, 0)) for found in mine]

        found = await sync_to_async(lines)()
        if not found:
            await reply(interaction, "You have no filters yet. Create one with `/filter create`.")
            return
        title = f"Your filters ({len(found)} of {user.filter_quota})"
        await reply(interaction, embed={"title": title, "description": "\n".join(found)})

    @app_commands.command(description="Everything about one of your filters")
    @app_commands.describe(name=DESCRIBE["name"])
    @app_commands.autocomplete(name=own_filter_names)
    async def show(self, interaction: discord.Interaction, name: str) -> None:
        user = await caller(interaction)
        if user is None:
            return
        await interaction.response.defer(ephemeral=True)  # counting alerts may take a moment
        found = await call_service(interaction, access_filter_by_name, user, name)
        if found is REFUSED:
            return
        counts = await sync_to_async(Alert.objects.count_by_filter)(user)
        await reply(interaction, embed=filter_embed(found, counts.get(found.pk, 0)))

    @app_commands.command(description="Change a filter; only the options you give change")
    @app_commands.describe(**EDIT_DESCRIBE)
    @app_commands.choices(market=MARKET_CHOICES)
    @app_commands.autocomplete(name=own_filter_names)
    async def edit(
        self,
        interaction: discord.Interaction,
        name: str,
        new_name: str | None = None,
        brands: str | None = None,
        keywords: str | None = None,
        exclude: str | None = None,
        min_price: int | None = None,
        max_price: int | None = None,
        market: app_commands.Choice[str] | None = None,
    ) -> None:
        user = await caller(interaction)
        if user is None:
            return
        data = filter_data(brands, keywords, exclude, min_price, max_price, market, new_name)
        if not data:
            await reply(
                interaction, "Nothing to change: give at least one option besides the name."
            )
            return
        found = await call_service(interaction, access_filter_by_name, user, name)
        if found is REFUSED:
            return
        changed = await call_service(interaction, update_filter, user, found.pk, data)
        if changed is not REFUSED:
            counts = await sync_to_async(Alert.objects.count_by_filter)(user)
            embed = filter_embed(changed, counts.get(changed.pk, 0))
            await reply(interaction, f"Updated “{changed.name}”.", embed=embed)

    @app_commands.command(description="Delete one of your filters (asks first)")
    @app_commands.describe(name=DESCRIBE["name"])
    @app_commands.autocomplete(name=own_filter_names)
    async def delete(self, interaction: discord.Interaction, name: str) -> None:
        user = await caller(interaction)
        if user is None:
            return
        found = await call_service(interaction, access_filter_by_name, user, name)
        if found is REFUSED:
            return
        view = ConfirmDelete(user, found.pk, found.name)
        await reply(interaction, f"Delete “{found.name}” for good?", view=view)

    @app_commands.command(description="Stop a filter's alerts for now")
    @app_commands.describe(name=DESCRIBE["name"])
    @app_commands.autocomplete(name=own_filter_names)
    async def pause(self, interaction: discord.Interaction, name: str) -> None:
        await self._set_active(interaction, name, False)

    @app_commands.command(description="Start a paused filter's alerts again")
    @app_commands.describe(name=DESCRIBE["name"])
    @app_commands.autocomplete(name=own_filter_names)
    async def resume(self, interaction: discord.Interaction, name: str) -> None:
        await self._set_active(interaction, name, True)

    async def _set_active(self, interaction: discord.Interaction, name: str, active: bool) -> None:
        user = await caller(interaction)
        if user is None:
            return
        found = await call_service(interaction, access_filter_by_name, user, name)
        if found is REFUSED:
            return
        if await call_service(interaction, set_filter_active, user, found.pk, active) is REFUSED:
            return
        state = (
            "resumed: its alerts come again" if active else "paused: no alerts until you resume it"
        )
        await reply(interaction, f"“{found.name}” is {state}.")

    @app_commands.command(description="Recent listings a filter would have matched")
    @app_commands.describe(name=DESCRIBE["name"])
    @app_commands.autocomplete(name=own_filter_names)
    async def preview(self, interaction: discord.Interaction, name: str) -> None:
        user = await caller(interaction)
        if user is None:
            return
        await interaction.response.defer(ephemeral=True, thinking=True)  # scans listings
        found = await call_service(interaction, access_filter_by_name, user, name)
        if found is REFUSED:
            return
        matches = await sync_to_async(recent_matches)(found)
        if not matches:
            await reply(interaction, f"No recent listing matches “{found.name}”.")
            return
        lines = [
            f"[{listing.title[:90]}]({listing.url}) · **{format_price(listing.price)}** · "
            f"{market_label(listing.market)}"
            for listing in matches
        ]
        title = f"Recent listings for “{found.name}”"
        await reply(interaction, embed={"title": title, "description": "\n".join(lines)})
