"""Moderation through the admin pages: bans, filter edits, brand aliases, requeueing."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from alerts.account_deletion import delete_account
from alerts.models import Alert
from alerts.moderation import ban_user
from filters.models import BrandAlias, Filter
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user
from users.models import KeptBan
from users.services import get_or_create_discord_user

pytestmark = pytest.mark.django_db


def run_action(client, model: str, action: str, ids: list[int]):
    url = reverse(f"admin:{model.replace('.', '_')}_changelist")
    return client.post(url, {"action": action, "_selected_action": ids}, follow=True)


def test_banning_a_user_stops_their_alerts_at_once(admin_client):
    spammer, other = make_user("spammer"), make_user("other")
    make_filter(spammer, brands=["Sacai"])
    make_filter(other, brands=["Sacai"])
    ingest_listings([listing("sacai knit")])
    response = run_action(admin_client, "users.user", "ban_selected", [spammer.pk])
    assert "Banned 1 user(s)." in response.content.decode()
    spammer.refresh_from_db()
    assert spammer.is_banned
    assert Alert.objects.get(user=spammer).status == "skipped"
    result = ingest_listings([listing("sacai coat")])
    assert list(
        Alert.objects.filter(listing__title="sacai coat").values_list("user__username", flat=True)
    ) == ["other"]
    assert result.alerts == 1
    run_action(admin_client, "users.user", "unban_selected", [spammer.pk])
    assert ingest_listings([listing("sacai vest")]).alerts == 2


def test_a_filter_edited_in_the_admin_follows_the_same_rules(admin_client):
    owner = make_user()
    made = make_filter(owner, "Sacai", brands=["Sacai"], price_max=30000)
    url = reverse("admin:filters_filter_change", args=[made.pk])
    form = {
        "owner": owner.pk,
        "name": "Sacai",
        "brands": "sacai",
        "keywords": "",
        "exclude": "",
        "price_min": "50000",
        "price_max": "30000",
        "active": "on",
    }
    page = admin_client.post(url, form).content.decode()
    assert "The minimum price (¥50,000) is above the maximum (¥30,000)." in page
    made.refresh_from_db()
    assert made.price_min is None
    admin_client.post(url, {**form, "price_min": "1000", "brands": "サカイ"})
    made.refresh_from_db()
    assert (made.price_min, made.brands) == (1000, ["Sacai"])


def test_deactivating_filters_takes_them_out_of_matching(admin_client):
    owner = make_user()
    made = make_filter(owner, brands=["Sacai"])
    run_action(admin_client, "filters.filter", "deactivate_selected", [made.pk])
    assert Filter.objects.get(pk=made.pk).active is False
    assert ingest_listings([listing("sacai knit")]).alerts == 0


def test_a_new_alias_matches_at_once_and_a_taken_one_is_refused(admin_client):
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    assert ingest_listings([listing("サカイ ニット")]).alerts == 1
    assert ingest_listings([listing("ｓａｃａｉ ニット")]).alerts == 1  # full width folds
    assert ingest_listings([listing("シャカイ ニット")]).alerts == 0
    sacai = BrandAlias.objects.get(alias="サカイ").brand
    add = reverse("admin:filters_brandalias_add")
    admin_client.post(add, {"brand": sacai.pk, "alias": "シャカイ"})
    assert ingest_listings([listing("シャカイ ブルゾン")]).alerts == 1
    page = admin_client.post(add, {"brand": sacai.pk, "alias": "CDG"}).content.decode()
    assert "“CDG” is already an alias of Comme des Garçons." in page


def test_failed_alerts_can_be_requeued(admin_client):
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    ingest_listings([listing("sacai knit")])
    alert = Alert.objects.get()
    Alert.objects.update(status="failed", attempts=8, last_error="gave up")
    response = run_action(admin_client, "alerts.alert", "requeue_selected", [alert.pk])
    assert "Requeued 1 alert." in response.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.attempts, alert.last_error) == ("pending", 0, "")


@pytest.mark.parametrize(
    "page",
    [
        "users_user",
        "filters_filter",
        "filters_brand",
        "filters_brandalias",
        "listings_listing",
        "scraping_scan",
        "scraping_sourcestate",
        "alerts_alert",
        "filters_indexversion",
        "lib_lease",
    ],
)
def test_every_admin_list_opens(admin_client, page):
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    ingest_listings([listing("sacai knit")])
    assert admin_client.get(reverse(f"admin:{page}_changelist")).status_code == 200


def test_only_staff_reach_the_admin(client):
    make_user("plain")
    response = client.get(reverse("admin:filters_filter_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def form_data(client, url: str) -> dict:
    """The admin change form's current values, as the browser would post them back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if field.disabled or value is None or value is False:
            continue
        data[name] = "on" if value is True else value
    return data


def test_ticking_banned_in_the_user_form_bans_through_the_same_service(admin_client):
    spammer = make_user("spammer")
    make_filter(spammer, brands=["Sacai"])
    ingest_listings([listing("sacai knit")])
    url = reverse("admin:users_user_change", args=[spammer.pk])
    response = admin_client.post(
        url, {**form_data(admin_client, url), "is_banned": "on", "ban_reason": "spam"}
    )
    assert response.status_code == 302
    spammer.refresh_from_db()
    assert (spammer.is_banned, spammer.ban_reason) == (True, "spam")
    assert spammer.banned_at is not None
    assert Alert.objects.get(user=spammer).status == "skipped"
    assert ingest_listings([listing("sacai coat")]).alerts == 0


def mute_form(client, url: str, until) -> dict:
    data = form_data(client, url)
    data.pop("muted_until", None)
    if until is not None:
        data["muted_until_0"] = until.strftime("%Y-%m-%d")
        data["muted_until_1"] = until.strftime("%H:%M:%S")
    return data


def test_a_mute_set_in_the_admin_follows_the_users_service_rule(admin_client):
    user = make_user("loud")
    url = reverse("admin:users_user_change", args=[user.pk])
    half_a_year = timezone.now() + timedelta(days=182)
    response = admin_client.post(url, mute_form(admin_client, url, half_a_year))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "muted_until": ["The longest mute is 30 days."]
    }
    user.refresh_from_db()
    assert user.muted_until is None
    week = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    assert admin_client.post(url, mute_form(admin_client, url, week)).status_code == 302
    user.refresh_from_db()
    assert user.muted_until == week
    assert admin_client.post(url, mute_form(admin_client, url, None)).status_code == 302
    user.refresh_from_db()
    assert user.muted_until is None


def test_a_banned_users_mute_is_refused_beside_the_field_not_with_an_error_page(admin_client):
    user = make_user("gone")
    ban_user(user, "spam")
    url = reverse("admin:users_user_change", args=[user.pk])
    week = (timezone.now() + timedelta(days=7)).replace(microsecond=0)
    response = admin_client.post(url, mute_form(admin_client, url, week))
    assert response.status_code == 200
    assert "unban them to set a mute" in response.context["adminform"].form.errors["muted_until"][0]
    user.refresh_from_db()
    assert user.muted_until is None


@pytest.fixture
def console():
    """What the console log handler prints, for the duration of a test."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    printed = io.StringIO()
    previous = handler.setStream(printed)
    yield printed
    handler.setStream(previous)


def test_a_refused_admin_page_logs_one_line_without_a_traceback(client, console):
    helper = make_user("helper", is_staff=True)
    client.force_login(helper)
    assert client.get(reverse("admin:alerts_alert_changelist")).status_code == 403
    lines = [json.loads(line) for line in console.getvalue().splitlines()]
    # The refusal is the request's one line, with no traceback.
    [refusal] = [line for line in lines if line.get("path") == "/admin/alerts/alert/"]
    assert refusal["logger"] == "web.request" and refusal["level"] == "WARNING"
    assert refusal["message"].startswith("GET /admin/alerts/alert/ 403 ")
    assert "exception" not in refusal
    assert not [line for line in lines if line["logger"] == "django.request"]


def test_the_admin_shows_no_oauth_app_or_token_pages_that_settings_make_meaningless(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Social applications" not in page
    assert "Social application tokens" not in page
    assert "Social accounts" in page  # which Discord identity an account signs in with


def test_a_deleted_accounts_ban_is_listed_and_deleting_it_lifts_it(admin_client):
    spammer = make_user("spammer", discord_id="412345678901234567")
    ban_user(spammer, "resold fakes")
    delete_account(spammer, "spammer")
    listed = admin_client.get(reverse("admin:users_keptban_changelist")).content.decode()
    assert "412345678901234567" in listed and "resold fakes" in listed
    assert admin_client.get(reverse("admin:users_keptban_add")).status_code == 403

    kept = KeptBan.objects.get()
    delete = reverse("admin:users_keptban_delete", args=[kept.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    back, _ = get_or_create_discord_user("412345678901234567", "spammer")
    assert not back.is_banned
