"""The filter pages: create and edit through the services, delete, pause, resume, the preview."""

from __future__ import annotations

import pytest
from django.test import Client

from filters.models import Filter
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Sacai knits",
    "brands": "sacai, kapital",
    "keywords": "knit",
    "exclude": "kids",
    "price_min": "5000",
    "price_max": "¥30,000",
    "markets": ["mercari", "rakuma"],
    "active": "on",
    "action": "save",
}


def test_anonymous_new_filter_redirects_to_sign_in():
    answer = Client().get("/filters/new/")
    assert answer.status_code == 302
    assert answer.url.startswith("/accounts/discord/login/?next=/filters/new/")


def test_the_new_filter_form_has_the_api_field_names(signed_in):
    client, _ = signed_in()
    page = client.get("/filters/new/").content.decode()
    for name in ("name", "brands", "keywords", "exclude", "price_min", "price_max", "active"):
        assert f'name="{name}"' in page
    for code in ("mercari", "yahoo_auctions", "rakuma", "paypay_fleamarket"):
        assert f'type="checkbox" name="markets" value="{code}"' in page
    assert 'value="demo"' not in page
    assert 'src="/static/js/preview.js"' in page
    assert "<script>" not in page  # no inline script: a CSP can forbid them


def test_creating_a_filter_stores_it_through_the_services(signed_in):
    client, alice = signed_in()
    answer = client.post("/filters/new/", FORM, follow=True)
    assert answer.redirect_chain == [("/", 302)]
    saved = Filter.objects.get(owner=alice)
    assert saved.name == "Sacai knits"
    assert saved.brands == ["Sacai", "Kapital"]
    assert (saved.keywords, saved.exclude) == (["knit"], ["kids"])
    assert (saved.price_min, saved.price_max) == (5000, 30000)
    assert saved.markets == ["mercari", "rakuma"] and saved.active
    assert "Created “Sacai knits”." in answer.content.decode()


def test_errors_are_the_services_messages_beside_their_fields_with_the_input_kept(signed_in):
    client, _ = signed_in()
    answer = client.post(
        "/filters/new/",
        {**FORM, "name": "My <b>filter</b>", "price_min": "40000", "markets": ["ebay"]},
    )
    assert answer.status_code == 400
    assert not Filter.objects.exists()
    form = answer.context["form"]
    assert form.errors["markets"] == [
        "'ebay' is not a market you can choose; choose from mercari, yahoo_auctions, rakuma, "
        "paypay_fleamarket."
    ]
    page = answer.content.decode()
    assert 'value="My &lt;b&gt;filter&lt;/b&gt;"' in page
    assert 'value="sacai, kapital"' in page

    answer = client.post("/filters/new/", {**FORM, "price_min": "40000"})
    page = answer.content.decode()
    message = "The minimum price (¥40,000) is above the maximum (¥30,000)."
    assert answer.context["form"].errors["price_min"] == [message]
    # Beside its field: after the minimum price's input, before the maximum's.
    field = page[page.index('name="price_min"') : page.index('name="price_max"')]
    assert message in field
    assert 'value="40000"' in page


def test_a_filter_on_nothing_and_a_refused_character_get_the_services_words(signed_in):
    client, _ = signed_in()
    answer = client.post("/filters/new/", {"name": "empty", "action": "save"})
    assert answer.context["form"].errors["brands"] == [
        "Add at least one brand or keyword; a filter on nothing would match every listing."
    ]
    answer = client.post("/filters/new/", {**FORM, "keywords": "knit\u202e"})
    [message] = answer.context["form"].errors["keywords"]
    assert message.startswith("Keyword 1 contains")


def test_a_taken_name_and_the_quota_are_shown(signed_in):
    client, alice = signed_in(make_user(filter_quota=1))
    make_filter(alice, "Sacai knits", brands=["sacai"])
    answer = client.post("/filters/new/", FORM)
    assert answer.context["form"].errors["name"] == [
        "You already have a filter named “Sacai knits”."
    ]
    answer = client.post("/filters/new/", {**FORM, "name": "Another"})
    assert answer.context["form"].non_field_errors() == [
        "You have 1 of your 1 filters; delete one to make room for another."
    ]


def test_editing_shows_the_saved_values_and_changes_them(signed_in):
    client, alice = signed_in()
    found = make_filter(alice, "Knits", brands=["sacai"], keywords=["knit"], price_max=9000)
    page = client.get(f"/filters/{found.pk}/edit/").content.decode()
    assert 'value="Sacai"' in page and 'value="9000"' in page
    answer = client.post(f"/filters/{found.pk}/edit/", {**FORM, "name": "Knits", "active": ""})
    assert answer.status_code == 302
    found.refresh_from_db()
    assert found.price_max == 30000 and found.active is False


def test_delete_asks_first_then_deletes(signed_in):
    client, alice = signed_in()
    found = make_filter(alice, "Knits")
    page = client.get(f"/filters/{found.pk}/delete/").content.decode()
    assert "Delete “Knits” for good?" in page
    assert Filter.objects.filter(pk=found.pk).exists()
    answer = client.post(f"/filters/{found.pk}/delete/", follow=True)
    assert not Filter.objects.filter(pk=found.pk).exists()
    assert "Deleted “Knits”." in answer.content.decode()


def test_pause_and_resume_use_the_bots_words(signed_in):
    client, alice = signed_in()
    found = make_filter(alice, "Knits")
    assert client.get(f"/filters/{found.pk}/pause/").status_code == 405
    page = client.post(f"/filters/{found.pk}/pause/", follow=True).content.decode()
    found.refresh_from_db()
    assert found.active is False
    assert "“Knits” is paused: no alerts until you resume it." in page
    page = client.post(f"/filters/{found.pk}/resume/", follow=True).content.decode()
    found.refresh_from_db()
    assert found.active is True
    assert "“Knits” is resumed: its alerts come again." in page


def test_another_users_filter_is_a_404_on_every_page(signed_in):
    alice = make_user()
    found = make_filter(alice, "Alice's", keywords=["jacket"])
    bob, _ = signed_in()
    assert bob.get(f"/filters/{found.pk}/edit/").status_code == 404
    assert bob.post(f"/filters/{found.pk}/edit/", FORM).status_code == 404
    assert bob.get(f"/filters/{found.pk}/delete/").status_code == 404
    assert bob.post(f"/filters/{found.pk}/delete/").status_code == 404
    assert bob.post(f"/filters/{found.pk}/pause/").status_code == 404
    assert bob.post(f"/filters/{found.pk}/resume/").status_code == 404
    assert bob.get("/filters/999999/edit/").status_code == 404
    found.refresh_from_db()
    assert found.name == "Alice's" and found.active


def test_the_preview_shows_recent_listings_the_unsaved_input_would_match(signed_in):
    client, _ = signed_in()
    ingest_listings(
        [
            listing("Sacai ドッキング ニット", price=20000),
            listing("Sacai knit for kids", price=20000),
            listing("Sacai knit", price=90000),
            listing("Kapital knit", price=12000, market="rakuma"),
            listing("Undercover jacket", price=15000),
        ]
    )
    answer = client.post(
        "/filters/preview/", {"brands": "sacai, kapital", "exclude": "kids", "price_max": "30000"}
    )
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Sacai ドッキング ニット" in page and "Kapital knit" in page
    assert "¥20,000 · Mercari" in page and "¥12,000 · Rakuma" in page
    assert "for kids" not in page and "¥90,000" not in page and "Undercover" not in page
    assert not Filter.objects.exists()  # nothing saved


def test_the_preview_says_what_is_wrong_and_shows_nothing_else(signed_in):
    client, _ = signed_in()
    ingest_listings([listing("Sacai knit", price=20000)])
    page = client.post("/filters/preview/", {"brands": "sacai", "price_min": "abc"}).content
    assert "The minimum price must be a whole number of yen" in page.decode()
    assert "Sacai knit" not in page.decode()
    empty = client.post("/filters/preview/", {}).content.decode()
    assert "No recent listing matches" in empty


def test_the_preview_shows_no_other_users_data(signed_in):
    alice = make_user()
    make_filter(alice, "Alice's secret filter", brands=["sacai"])
    ingest_listings([listing("Sacai knit", price=20000)])
    bob, _ = signed_in()
    page = bob.post("/filters/preview/", {"brands": "kapital"}).content.decode()
    assert "Sacai knit" not in page and "Alice" not in page
    assert "No recent listing matches" in page
    assert Client().post("/filters/preview/", {"brands": "sacai"}).status_code == 302


def test_the_preview_button_works_without_javascript(signed_in):
    client, _ = signed_in()
    ingest_listings([listing("Sacai knit", price=20000)])
    answer = client.post("/filters/new/", {**FORM, "keywords": "", "action": "preview"})
    assert answer.status_code == 200
    assert "Sacai knit" in answer.content.decode()
    assert not Filter.objects.exists()


def test_listing_titles_and_names_are_escaped_on_the_form_and_preview(signed_in):
    client, alice = signed_in()
    found = make_filter(alice, "<script>x</script>", keywords=["knit"])
    ingest_listings([listing("<script>alert(1)</script> knit")])
    page = client.get(f"/filters/{found.pk}/edit/").content.decode()
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; knit" in page
    fragment = client.post("/filters/preview/", {"keywords": "knit"}).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; knit" in fragment
    assert "<script>" not in fragment


def test_after_a_refused_save_the_preview_follows_the_fields_as_they_are(signed_in):
    client, user = signed_in()
    ingest_listings([listing("Sacai knit", price=20000)])
    found = make_filter(user, "Knits", brands=["Sacai"])
    too_long = {"name": "n" * 65, "brands": "sacai", "action": "save"}
    for page in ("/filters/new/", f"/filters/{found.pk}/edit/"):
        answer = client.post(page, too_long)
        assert answer.status_code == 400
        html = answer.content.decode()
        assert "keep it to 64" in html
        preview = html.split('id="preview"', 1)[1]
        assert "Sacai knit" in preview and "No recent listing matches" not in preview, page

    priced = client.post("/filters/new/", {**too_long, "name": "Knits 2", "price_min": "abc"})
    preview = priced.content.decode().split('id="preview"', 1)[1]
    assert "The minimum price must be a whole number of yen" in preview
    assert "Add a brand or a keyword" not in preview


def test_the_name_field_says_its_limit_as_people_type(signed_in):
    client, _ = signed_in()
    page = client.get("/filters/new/").content.decode()
    assert 'name="name" maxlength="64"' in page
