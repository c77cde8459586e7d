"""The listings in the admin: read-only, in yen, and found at their old address too."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from listings.models import Listing
from scraping.ingest import ingest_listings
from tests.builders import listing


def test_listing_prices_read_in_yen(admin_client):
    ingest_listings([listing("Rick Owens geobasket", price=32000)])
    page = admin_client.get(reverse("admin:listings_listing_changelist")).content.decode()
    assert '<td class="field-price_display">¥32,000</td>' in page


def test_an_old_bookmark_of_the_listings_admin_leads_to_its_new_place(admin_client):
    ingest_listings([listing("Rick Owens geobasket", price=32000)])
    made = Listing.objects.get()
    old = f"/{settings.ADMIN_URL}scraping/listing/{made.pk}/change/?_changelist_filters=q%3Drick"
    response = admin_client.get(old, follow=True)
    assert response.redirect_chain[0][0] == (
        reverse("admin:listings_listing_change", args=[made.pk]) + "?_changelist_filters=q%3Drick"
    )
    assert response.status_code == 200 and "Rick Owens geobasket" in response.content.decode()
