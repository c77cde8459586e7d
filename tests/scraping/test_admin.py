"""The scanners' pages in the admin: every source named, yen prices, nothing added by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from listings.models import Listing
from scraping.ingest import ingest_listings
from scraping.models import Scan, SourceState
from tests.builders import listing

pytestmark = pytest.mark.django_db


def test_jsonfeed_scans_and_states_are_named_and_filterable(admin_client):
    Scan.objects.create(source="jsonfeed", finished_at=timezone.now(), items_seen=4)
    SourceState.objects.create(source="jsonfeed", consecutive_failures=1, last_error="timeout")
    scans = admin_client.get(reverse("admin:scraping_scan_changelist"))
    states = admin_client.get(reverse("admin:scraping_sourcestate_changelist"))
    for page, row in ((scans, Scan.objects.get()), (states, SourceState.objects.get())):
        html = page.content.decode()
        change = reverse(f"admin:scraping_{row._meta.model_name}_change", args=[row.pk])
        assert f'<th class="field-source"><a href="{change}">JSON Lines feed</a></th>' in html
        # The "By source" filter in the sidebar offers it.
        assert '<a href="?source__exact=jsonfeed">JSON Lines feed</a>' in html
    only = admin_client.get(
        reverse("admin:scraping_scan_changelist"), {"source__exact": "jsonfeed"}
    )
    assert only.context["cl"].result_count == 1


def test_listings_and_source_states_are_not_made_by_hand(admin_client):
    ingest_listings([listing("Rick Owens geobasket", price=32000)])
    made = Listing.objects.get()
    assert admin_client.get(reverse("admin:listings_listing_add")).status_code == 403
    assert admin_client.get(reverse("admin:scraping_sourcestate_add")).status_code == 403
    url = reverse("admin:listings_listing_change", args=[made.pk])
    assert admin_client.post(url, {"title": "edited", "price": "1"}).status_code == 403
    made.refresh_from_db()
    assert (made.title, made.price) == ("Rick Owens geobasket", 32000)


def test_a_paused_source_is_resumed_by_the_action(admin_client):
    state = SourceState.objects.create(
        source="mercari", consecutive_failures=4, paused_until=timezone.now() + timedelta(hours=1)
    )
    response = admin_client.post(
        reverse("admin:scraping_sourcestate_changelist"),
        {"action": "resume_now", "_selected_action": [state.pk]},
        follow=True,
    )
    assert "Resumed mercari: scanned again" in response.content.decode()
    state.refresh_from_db()
    assert (state.paused_until, state.consecutive_failures, state.is_paused) == (None, 0, False)
