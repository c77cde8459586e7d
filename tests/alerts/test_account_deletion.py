"""Deleting an account: everything of the owner goes, nobody else's; delivered alerts stay
only as anonymous counts, a ban stays by Discord id, and matching goes on without them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from alerts.account_deletion import delete_account
from alerts.models import Alert, AlertTally, outcomes_per_hour
from alerts.moderation import ban_user, unban_user
from filters.matching import current_index
from filters.models import Filter
from lib.errors import FieldError, ServiceError
from listings.models import Listing
from scraping import ingest
from scraping.ingest import ingest_listings
from scraping.retention import purge_old_records
from tests.builders import listing, make_filter, make_user, write_jsonl
from users.models import ApiToken, KeptBan, User
from users.services import create_token, get_or_create_discord_user

pytestmark = pytest.mark.django_db


def kenji_and_mika():
    kenji, mika = make_user("kenji"), make_user("mika")
    for user in (kenji, mika):
        make_filter(user, "Sacai", brands=["Sacai"])
        create_token(user, "laptop")
        SocialAccount.objects.create(user=user, provider="discord", uid=user.discord_id)
    ingest_listings([listing("Sacai knit", price=30000), listing("Sacai coat", price=50000)])
    return kenji, mika


def sessions_of(user_id: int) -> int:
    return sum(
        session.get_decoded().get("_auth_user_id") == str(user_id)
        for session in Session.objects.all()
    )


def test_everything_of_the_owner_goes_and_nothing_of_anyone_else():
    kenji, mika = kenji_and_mika()
    kenji_id = kenji.pk
    browsers = [Client(), Client()]
    for browser in browsers:
        browser.force_login(kenji)
    Client().force_login(mika)
    mikas_before = {
        "filters": list(Filter.objects.filter(owner=mika).values()),
        "tokens": list(ApiToken.objects.filter(user=mika).values()),
        "alerts": list(Alert.objects.filter(user=mika).values()),
    }

    delete_account(kenji, "kenji")

    assert not User.objects.filter(pk=kenji_id).exists()
    assert not Filter.objects.filter(owner_id=kenji_id).exists()
    assert not ApiToken.objects.filter(user_id=kenji_id).exists()
    assert not Alert.objects.filter(user_id=kenji_id).exists()
    assert not SocialAccount.objects.filter(user_id=kenji_id).exists()
    assert sessions_of(kenji_id) == 0
    for browser in browsers:  # signed out on every device
        answer = browser.get("/filters/new/")
        assert answer.status_code == 302 and "/accounts/discord/login/" in answer["Location"]
    assert {
        "filters": list(Filter.objects.filter(owner=mika).values()),
        "tokens": list(ApiToken.objects.filter(user=mika).values()),
        "alerts": list(Alert.objects.filter(user=mika).values()),
    } == mikas_before
    assert sessions_of(mika.pk) == 1
    assert SocialAccount.objects.filter(user=mika).exists()


def test_a_wrong_or_missing_confirmation_deletes_nothing():
    kenji, _ = kenji_and_mika()
    for typed, says in [
        (None, "Type your username, kenji, to confirm"),
        ("  ", "Type your username, kenji, to confirm"),
        ("mika", "That is not your username: type kenji exactly"),
        ("Kenji", "That is not your username: type kenji exactly"),
    ]:
        with pytest.raises(FieldError) as refused:
            delete_account(kenji, typed)
        assert refused.value.field == "confirm" and says in refused.value.message
    assert Filter.objects.filter(owner=kenji).count() == 1
    delete_account(kenji, " kenji ")  # white space around is forgiven
    assert not User.objects.filter(username="kenji").exists()


def test_staff_accounts_are_not_deleted_by_themselves():
    moderator = make_user("moderator", is_staff=True)
    with pytest.raises(ServiceError, match="another admin removes them in the admin"):
        delete_account(moderator, "moderator")
    assert User.objects.filter(username="moderator").exists()


def test_the_staff_chart_keeps_delivered_alerts_as_counts_without_names():
    kenji, _ = kenji_and_mika()
    now = timezone.now()
    ingest_listings([listing("Sacai vest", price=20000)])
    sent, skipped, _pending = Alert.objects.filter(user=kenji).order_by("pk")
    Alert.objects.filter(pk=sent.pk).update(status="sent", sent_at=now + timedelta(hours=1))
    Alert.objects.filter(pk=skipped.pk).update(status="skipped")
    since = now - timedelta(hours=2)
    before = outcomes_per_hour(since)

    delete_account(kenji, "kenji")

    after = outcomes_per_hour(since)
    hour = now.replace(minute=0, second=0, microsecond=0)
    # Only the pending alert, never sent, leaves the chart: one fewer queued.
    assert after["queued"][hour] == before["queued"][hour] - 1
    assert {k: v for k, v in after.items() if k != "queued"} == {
        k: v for k, v in before.items() if k != "queued"
    }
    assert after["sent"][hour + timedelta(hours=1)] == 1
    tallies = set(AlertTally.objects.values_list("outcome", "count"))
    assert tallies == {("queued", 2), ("sent", 1), ("skipped", 1)}


def test_old_counts_go_with_the_alerts_retention(settings):
    settings.RETENTION_ALERTS_DAYS = 90
    old = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=91)
    AlertTally.objects.add({"sent": {old: 3, old + timedelta(days=2): 4}})
    assert purge_old_records()["alert counts"] == 1
    assert list(AlertTally.objects.values_list("count", flat=True)) == [4]


def test_matching_goes_on_without_the_deleted_filters():
    kenji, mika = kenji_and_mika()
    ingest_listings([listing("Sacai jacket", price=40000)])  # the index is built with kenji's
    delete_account(kenji, "kenji")
    result = ingest_listings([listing("Sacai shirt", price=15000)])
    assert result.alerts == 1
    assert Alert.objects.filter(listing__title="Sacai shirt").get().user == mika


def test_a_banned_account_deleted_stays_banned_when_it_comes_back():
    kenji, _ = kenji_and_mika()
    discord_id = kenji.discord_id
    ban_user(kenji, "resold fakes")
    delete_account(kenji, "kenji")
    assert KeptBan.objects.get().discord_id == discord_id

    again, created = get_or_create_discord_user(discord_id, "kenji")
    assert created and again.is_banned and again.ban_reason == "resold fakes"
    assert not Filter.objects.filter(owner=again).exists()

    unban_user(again)  # lifting the ban lifts the kept one too
    assert not KeptBan.objects.exists()


def test_an_import_makes_no_account_for_a_deleted_banned_one(tmp_path, run_command):
    kenji, _ = kenji_and_mika()
    discord_id = kenji.discord_id
    ban_user(kenji, "spam")
    delete_account(kenji, "kenji")
    line = {
        "discord_id": discord_id,
        "username": "kenji",
        "destination": {"kind": "dm"},
        "filters": [{"name": "Sacai", "brands": ["Sacai"]}],
    }
    status, _, err = run_command("import_filters", str(write_jsonl(tmp_path / "a.jsonl", [line])))
    assert status == 1
    assert f"line 1: discord_id: Discord id {discord_id} is banned" in err
    assert not User.objects.filter(discord_id=discord_id).exists()


# The database checks foreign keys at commit; serialized_rollback as in every such test.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_scan_matching_with_the_old_filters_keeps_the_rest_of_its_batch(monkeypatch):
    """The race: a scan took the index just before the account went, and matches with it."""
    kenji, mika = make_user("kenji"), make_user("mika")
    make_filter(kenji, "Sacai", brands=["Sacai"])
    make_filter(mika, "Kapital", brands=["Kapital"])
    stale = current_index()
    delete_account(kenji, "kenji")
    monkeypatch.setattr(ingest, "current_index", lambda: stale)

    coat = listing("Sacai coat")
    result = ingest.ingest_listings([coat, listing("Kapital scarf")])

    assert [position for position, _ in result.refused] == [0]
    assert Alert.objects.get().user == mika
    assert list(Listing.objects.values_list("title", flat=True)) == ["Kapital scarf"]
    monkeypatch.undo()  # the next cycle, with the index as it is now, stores the other
    again = ingest.ingest_listings([coat])
    assert again.refused == [] and again.alerts == 0
