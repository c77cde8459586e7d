"""The admin as staff read it: only sections in use, long texts cut with the whole on hover,
and the demo's cycles counted as scans on the staff dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from scraping.ingest import ingest_listings
from scraping.models import Scan
from scraping.tasks import replay_demo_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db

LONG_TITLE = (
    "Rick Owens リックオウエンス ジオバスケット ハイカット スニーカー 42 黒 本物 美品 箱付き 正規品"
)


def test_the_index_has_no_unused_sections_and_loads_the_admins_own_styles(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    for unused in ("Sites", "Groups", "Email addresses"):
        assert f">{unused}<" not in page, unused
    assert "/static/css/admin.css" in page
    assert 'rel="icon"' in page


def test_long_titles_are_cut_in_the_lists_with_the_whole_on_hover(admin_client):
    owner = make_user("kenji")
    make_filter(
        owner, "Rick Owens sneakers and everything else he ever made", brands=["Rick Owens"]
    )
    ingest_listings([listing(LONG_TITLE)])
    for page in ("alerts_alert", "listings_listing", "filters_filter"):
        html = admin_client.get(reverse(f"admin:{page}_changelist")).content.decode()
        assert 'title="' in html and "…</span>" in html, page
    alerts = admin_client.get(reverse("admin:alerts_alert_changelist")).content.decode()
    assert f'title="{LONG_TITLE} → @kenji"' in alerts


def test_the_demos_cycles_are_scans_on_the_staff_dashboard(admin_client):
    make_filter(make_user(), "Anything Helmut", brands=["Helmut Lang"])
    replay_demo_listings(4)
    scan = Scan.objects.get()
    assert (scan.source, scan.items_seen, scan.new_items) == ("demo", 4, 4)
    assert scan.finished_at is not None
    page = admin_client.get(reverse("staff-operations")).content.decode()
    assert "No scans in the last 48 hours" not in page
    assert "No new listings in the last 48 hours" not in page


def test_leases_are_listed_as_leases_and_left_to_the_processes_holding_them(admin_client):
    from lib.leases import take_lease
    from lib.models import Lease

    assert take_lease("poller:rakuma", "host-a:4242", 30)
    page = admin_client.get(reverse("admin:lib_lease_changelist")).content.decode()
    assert "Leases" in page and "poller:rakuma" in page and "host-a:4242" in page
    assert admin_client.get(reverse("admin:lib_lease_add")).status_code == 403
    change = reverse("admin:lib_lease_change", args=[Lease.objects.get().pk])
    assert admin_client.post(change, {"owner": "me"}).status_code == 403
