"""The alert history: the user's own alerts, newest first, by status and market, 50 a page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in():
    answer = Client().get("/alerts/")
    assert answer.status_code == 302 and answer.url.startswith("/accounts/discord/login/")


def test_the_history_shows_the_users_alerts_with_their_details(signed_in):
    client, alice = signed_in()
    make_filter(alice, "Sacai knits", brands=["sacai"])
    make_filter(alice, "Knits", keywords=["knit"])
    bob = make_user()
    make_filter(bob, "Bob's", keywords=["coat"])
    ingest_listings(
        [
            listing("Sacai knit", price=23000, image_url="https://img.example/1.jpg"),
            listing("Kapital coat", price=5000, market="rakuma"),
        ]
    )
    Alert.objects.filter(user=alice).update(status=Alert.Status.SENT, sent_at=timezone.now())

    page = client.get("/alerts/").content.decode()

    assert "Sacai knit" in page and "Kapital coat" not in page
    assert "¥23,000</strong> · Mercari" in page
    assert 'src="https://img.example/1.jpg"' in page
    shown = Alert.objects.get(user=alice).listing
    assert f'href="{shown.url}"' in page
    assert "Matched Knits, Sacai knits" in page or "Matched Sacai knits, Knits" in page
    assert "Sent</span>" in page and "· delivered" in page


def test_newest_first_and_filtered_by_status_and_market(signed_in):
    client, alice = signed_in()
    make_filter(alice, keywords=["knit"])
    ingest_listings([listing("first knit")])
    ingest_listings([listing("second knit", market="rakuma")])
    ingest_listings([listing("third knit")])
    Alert.objects.filter(listing__title="first knit").update(status=Alert.Status.FAILED)

    page = client.get("/alerts/").content.decode()
    assert page.index("third knit") < page.index("second knit") < page.index("first knit")

    page = client.get("/alerts/?status=failed").content.decode()
    assert "first knit" in page and "second knit" not in page and "third knit" not in page
    assert '<option value="failed" selected>' in page

    page = client.get("/alerts/?market=rakuma").content.decode()
    assert "second knit" in page and "first knit" not in page and "third knit" not in page

    page = client.get("/alerts/?status=pending&market=mercari").content.decode()
    assert "third knit" in page and "first knit" not in page and "second knit" not in page


def test_an_unknown_status_is_named_and_ignored(signed_in):
    client, alice = signed_in()
    make_filter(alice, keywords=["knit"])
    ingest_listings([listing("a knit")])
    answer = client.get("/alerts/?status=<lost>")
    page = answer.content.decode()
    assert "“&lt;lost&gt;” is not a status; choose from pending, sent, failed, skipped." in page
    assert "a knit" in page


def test_the_history_paginates_by_50_keeping_the_choices(signed_in):
    client, alice = signed_in()
    make_filter(alice, keywords=["knit"])
    ingest_listings([listing(f"knit number {n:03d}") for n in range(55)])
    ingest_listings([listing("rakuma knit", market="rakuma")])

    first = client.get("/alerts/?market=mercari").content.decode()
    assert first.count('class="alert"') == 50
    assert "Page 1 of 2" in first
    assert 'href="?market=mercari&amp;page=2"' in first
    second = client.get("/alerts/?market=mercari&page=2").content.decode()
    assert second.count('class="alert"') == 5
    assert "rakuma knit" not in first + second


def test_a_listing_title_with_a_script_is_escaped(signed_in):
    client, alice = signed_in()
    make_filter(alice, "<script>f</script>", keywords=["knit"])
    ingest_listings([listing("<script>alert(1)</script> knit")])
    page = client.get("/alerts/").content.decode()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; knit" in page
    assert "Matched &lt;script&gt;f&lt;/script&gt;" in page
