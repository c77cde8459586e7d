"""`/filter …` through a fake interaction: what the caller sees and what is stored."""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync
from discord import app_commands
from django.db import connection

from alerts.moderation import ban_user
from bot.cogs.filters import FilterCommands, own_filter_names
from bot.replies import APOLOGY
from filters.models import Filter
from scraping.ingest import ingest_listings
from tests.bot.conftest import FakeInteraction, click
from tests.builders import listing, make_filter, make_user
from users.models import User

pytestmark = pytest.mark.django_db

cog = FilterCommands(bot=None)
MERCARI = app_commands.Choice(name="Mercari", value="mercari")


def account(member) -> User:
    return User.objects.get(discord_id=str(member.id))


def test_create_stores_the_filter_for_the_caller_and_shows_it(invoke, discord_user):
    alice = discord_user()
    answer = invoke(
        cog,
        "create",
        alice,
        name="Sacai knits",
        brands="sacai, Kapital",
        keywords="knit",
        exclude="kids",
        min_price=5000,
        max_price=30000,
        market=MERCARI,
    ).answer
    [created] = Filter.objects.all()
    assert created.owner == account(alice)  # the account was made on first use
    assert (created.brands, created.keywords, created.exclude) == (
        ["Sacai", "Kapital"],
        ["knit"],
        ["kids"],
    )
    assert (created.price_min, created.price_max, created.markets) == (5000, 30000, ["mercari"])
    assert answer.content == "Created “Sacai knits”."
    assert "Price: ¥5,000 – ¥30,000" in answer.text and "Markets: Mercari" in answer.text


def test_bad_input_is_explained_in_one_sentence_and_nothing_is_stored(invoke, discord_user):
    answer = invoke(
        cog,
        "create",
        discord_user(),
        name="Rick",
        brands="Rick Owens",
        min_price=50000,
        max_price=10000,
    ).answer
    assert answer.content == "⚠️ The minimum price (¥50,000) is above the maximum (¥10,000)."
    assert not Filter.objects.exists()
    answer = invoke(cog, "create", discord_user(), name="Nothing").answer
    assert answer.content == (
        "⚠️ Add at least one brand or keyword; a filter on nothing would match every listing."
    )


def test_list_shows_only_the_callers_filters_with_state_and_alert_counts(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "create", alice, name="Sacai", brands="Sacai")
    invoke(cog, "create", alice, name="Kapital", brands="Kapital")
    invoke(cog, "pause", alice, name="Kapital")
    make_filter(make_user(), "Somebody else's", brands="Sacai")
    ingest_listings([listing("sacai knit"), listing("sacai coat")])
    answer = invoke(cog, "list_filters", alice).answer
    assert answer.embed["title"] == "Your filters (2 of 25)"
    lines = answer.embed["description"].splitlines()
    assert lines == [
        "⏸️ **Kapital** · Kapital · 0 alerts",
        "🟢 **Sacai** · Sacai · 2 alerts",
    ]


def test_another_users_filter_cannot_be_seen_changed_or_deleted(invoke, discord_user):
    make_filter(make_user(), "Secret", brands="Sacai")
    mallory = discord_user("mallory")
    for command, options in [
        ("show", {}),
        ("edit", {"max_price": 1}),
        ("delete", {}),
        ("pause", {}),
        ("preview", {}),
    ]:
        answer = invoke(cog, command, mallory, name="Secret", **options).answers[-1]
        assert answer.content == "⚠️ You have no filter named “Secret”."
    secret = Filter.objects.get(name="Secret")
    assert (secret.active, secret.price_max) == (True, None)


def test_edit_changes_only_the_options_given(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "create", alice, name="Rick", brands="Rick Owens", keywords="geobasket, leather")
    answer = invoke(cog, "edit", alice, name="rick", max_price=80000, keywords="-").answer
    rick = Filter.objects.get()
    assert (rick.brands, rick.keywords, rick.price_max) == (["Rick Owens"], [], 80000)
    assert answer.content == "Updated “Rick”."
    answer = invoke(cog, "edit", alice, name="Rick").answer
    assert answer.content.startswith("Nothing to change")


def test_delete_asks_first_and_only_the_delete_button_deletes(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "create", alice, name="Rick", brands="Rick Owens")
    view = invoke(cog, "delete", alice, name="Rick").answer.view
    keep = click(view.cancel, FakeInteraction(alice))
    assert keep.response.edited["content"] == "Kept “Rick”." and Filter.objects.exists()

    view = invoke(cog, "delete", alice, name="Rick").answer.view
    press = click(view.confirm, FakeInteraction(alice))
    assert press.response.edited["content"] == "Deleted “Rick”."
    assert not Filter.objects.exists()


def test_pause_and_resume(invoke, discord_user):
    alice = discord_user()
    invoke(cog, "create", alice, name="Rick", brands="Rick Owens")
    assert invoke(cog, "pause", alice, name="Rick").answer.content == (
        "“Rick” is paused: no alerts until you resume it."
    )
    assert Filter.objects.get().active is False
    invoke(cog, "resume", alice, name="Rick")
    assert Filter.objects.get().active is True


def test_preview_shows_recent_listings_the_filter_matches(invoke, discord_user):
    ingest_listings(
        [
            listing("Rick Owens geobasket", price=45000),
            listing("sacai knit"),
            listing("rick owens ramones"),
        ]
    )
    alice = discord_user()
    invoke(cog, "create", alice, name="Rick", brands="Rick Owens")
    interaction = invoke(cog, "preview", alice, name="Rick")
    assert interaction.response.deferred  # scanning may take longer than Discord's 3 seconds
    answer = interaction.answer
    assert answer.embed["title"] == "Recent listings for “Rick”"
    lines = answer.embed["description"].splitlines()
    assert len(lines) == 2 and "rick owens ramones" in lines[0] and "**¥45,000**" in lines[1]


def test_name_autocompletes_over_the_callers_own_filters_only(discord_user):
    alice = discord_user()
    owner, _ = User.objects.get_or_create(discord_id=str(alice.id), defaults={"username": "alice"})
    make_filter(owner, "Sacai knits", brands="Sacai")
    make_filter(owner, "Sacai coats", brands="Sacai")
    make_filter(make_user(), "Sacai secret", brands="Sacai")
    choices = async_to_sync(own_filter_names)(FakeInteraction(alice), "sacai")
    assert [choice.name for choice in choices] == ["Sacai coats", "Sacai knits"]


def test_a_banned_user_gets_a_polite_refusal_and_changes_nothing(invoke, discord_user):
    mallory = discord_user("mallory")
    invoke(cog, "create", mallory, name="Rick", brands="Rick Owens")
    ban_user(account(mallory), "spam")
    answer = invoke(cog, "delete", mallory, name="Rick").answer
    assert answer.content.startswith("Your account is suspended")
    assert answer.view is None and Filter.objects.exists()
    assert async_to_sync(own_filter_names)(FakeInteraction(mallory), "") == []


def test_autocompletion_for_a_stranger_creates_no_account(discord_user):
    stranger = discord_user("stranger")
    for typed in ("s", "sa", "sac", "saca", "sacai"):
        assert async_to_sync(own_filter_names)(FakeInteraction(stranger), typed) == []
    assert not User.objects.filter(discord_id=str(stranger.id)).exists()


def test_a_failing_create_is_apologized_for_and_logged(invoke, discord_user, caplog):
    alice = discord_user()
    invoke(cog, "list_filters", alice)  # the account exists
    with connection.cursor() as cursor:  # the filters table is gone: nothing expects that
        cursor.execute("ALTER TABLE filters_filter RENAME TO filters_filter_gone")
    with caplog.at_level(logging.ERROR, logger="bot.replies"):
        answer = invoke(cog, "create", alice, name="Rick", brands="Rick Owens").answer
    assert answer.content == APOLOGY
    assert "/filter create failed for Discord user" in caplog.text
