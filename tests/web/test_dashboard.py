"""The home page: a landing page for visitors, the dashboard for a signed-in user."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from alerts.models import Alert
from filters.services import set_filter_active
from lib.charts import bar_chart
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user
from users.services import mute_alerts

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_gets_the_landing_page_with_sign_in():
    answer = Client().get("/")
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "Sign in with Discord" in page
    assert 'href="/accounts/discord/login/"' in page
    assert "/admin/" not in page


def test_the_dashboard_lists_the_users_filters_with_state_and_recent_alerts(signed_in):
    client, alice = signed_in()
    knits = make_filter(alice, "Sacai knits", brands=["sacai"])
    paused = make_filter(alice, "Old jackets", keywords=["jacket"])
    set_filter_active(alice, paused.pk, False)
    make_filter(make_user(), "Bob's secret filter", brands=["sacai"])
    ingest_listings([listing("Sacai knit 1"), listing("Sacai knit 2")])
    # An alert older than a week counts in the chart's month but not in the 7 days.
    Alert.objects.filter(listing__title="Sacai knit 2").update(
        created_at=timezone.now() - timedelta(days=10)
    )

    page = client.get("/").content.decode()

    assert "Your filters (2 of 25)" in page
    assert "Bob&#x27;s secret filter" not in page and "Bob's secret filter" not in page
    row = page[page.index("Sacai knits") :]
    assert "Active" in row[: row.index("</tr>")]
    assert 'last 7 days">1</td>' in row[: row.index("</tr>")]
    old = page[page.index("Old jackets") :]
    assert "Paused" in old[: old.index("</tr>")]
    assert f'action="/filters/{paused.pk}/resume/"' in page
    assert f'action="/filters/{knits.pk}/pause/"' in page
    assert "last 30 days (2 in all)" in page


def test_the_chart_has_a_bar_per_day_with_its_count(signed_in):
    client, alice = signed_in()
    make_filter(alice, brands=["sacai"])
    ingest_listings([listing("Sacai knit"), listing("Sacai coat")])
    page = client.get("/").content.decode()
    assert page.count('class="chart-bar"') == 30
    today = timezone.localdate().strftime("%b %d")
    assert f"<title>{today}: 2</title>" in page


def test_the_chart_escapes_its_text():
    svg = bar_chart([("<b>&", 3)], 'a "title" <script>')
    assert "<script>" not in svg and "<b>" not in svg
    assert "&lt;b&gt;&amp;: 3" in svg
    assert 'aria-label="a &quot;title&quot; &lt;script&gt;"' in svg


def test_closed_dms_are_said_in_plain_words(signed_in):
    client, alice = signed_in()
    alice.dm_unreachable_reason = "Cannot send messages to this user (50007)"
    alice.save(update_fields=["dm_unreachable_reason"])
    page = client.get("/").content.decode()
    assert "Your DMs are closed — open them" in page
    assert "or choose a channel" in page


def test_healthy_delivery_and_a_mute_are_said_too(signed_in):
    client, alice = signed_in()
    page = client.get("/").content.decode()
    assert "Nothing has been delivered yet; your alerts will go to your direct message." in page
    mute_alerts(alice, timezone.now() + timedelta(hours=8))
    page = client.get("/").content.decode()
    assert "Your alerts are muted" in page


def test_a_filter_name_with_a_script_is_escaped(signed_in):
    client, alice = signed_in()
    make_filter(alice, "<script>alert(1)</script>", keywords=["jacket"])
    page = client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_layout_is_usable_on_a_phone_and_logs_out_by_post(signed_in):
    client, _ = signed_in()
    page = client.get("/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "/static/css/site.css" in page
    logout = page[page.index('action="/accounts/logout/"') - 40 :]
    assert 'method="post"' in logout[:80]
    assert "csrfmiddlewaretoken" in logout[:400]
    for link in ('href="/"', 'href="/alerts/"', 'href="/settings/"', 'href="/accounts/"'):
        assert link in page
    assert "Sign in" not in page
