"""The staff's operations dashboard under the admin: who may see it, and what it shows.

The numbers come from rows seeded across the last 48 hours (and some older ones that
must not count); the browser test draws the page in Debian's Chromium under the CSP
and saves a screenshot to `.test-artifacts/operations.png`.
"""

from __future__ import annotations

import random
from datetime import timedelta
from itertools import count

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.models import Alert, DiscordHour
from filters.models import Filter
from listings.models import Listing
from scraping.models import Scan
from tests.builders import make_filter, make_user
from tests.conftest import ROOT
from tests.web.conftest import needs_chromium

SCREENSHOT = ROOT / ".test-artifacts" / "operations.png"
PASSWORD = "a staff member's password"
_listing_ids = count(1)


def operations_url() -> str:
    return reverse("staff-operations")


def a_listing(first_seen_at, title: str = "Rick Owens ジオバスケット") -> Listing:
    n = next(_listing_ids)
    return Listing.objects.create(
        market="mercari",
        external_id=f"ops{n}",
        title=f"{title} {n}",
        price=68000,
        url=f"https://jp.mercari.com/item/ops{n}",
        first_seen_at=first_seen_at,
    )


def an_alert(user, *, created_at, status=Alert.Status.PENDING, wait=None, **fields) -> Alert:
    """An alert queued at `created_at`; `wait` after the listing's first sighting if sent."""
    first_seen = created_at - (wait or timedelta(0))
    sent_at = created_at if status == Alert.Status.SENT else None
    fields.setdefault("filter_ids", [1])
    return Alert.objects.create(
        user=user,
        listing=a_listing(first_seen),
        status=status,
        created_at=created_at,
        sent_at=sent_at,
        next_attempt_at=fields.pop("next_attempt_at", created_at),
        **fields,
    )


def seed(now) -> None:
    """Known activity: the counts the page should show are spelled out in the test."""
    user = make_user("buyer")
    five_hours_ago = now - timedelta(hours=5)
    # Seven sends in one hour, waiting 1, 1, 1, 2, 2, 2 and 10 minutes: p50 2m, p95 10m.
    for minutes in (1, 1, 1, 2, 2, 2, 10):
        an_alert(
            user,
            created_at=five_hours_ago,
            status=Alert.Status.SENT,
            wait=timedelta(minutes=minutes),
        )
    # A test alert (no filter) of a week-old listing: sent, but not a delivery latency.
    an_alert(
        user,
        created_at=now - timedelta(hours=3),
        status=Alert.Status.SENT,
        wait=timedelta(days=7),
        filter_ids=[],
    )
    for _ in range(2):
        an_alert(user, created_at=now - timedelta(hours=30), status=Alert.Status.FAILED)
    an_alert(user, created_at=now - timedelta(hours=60), status=Alert.Status.FAILED)  # too old
    an_alert(user, created_at=now - timedelta(hours=1), status=Alert.Status.SKIPPED)
    # The backlog: two due (the oldest for ten minutes), one retry in an hour.
    an_alert(
        user, created_at=now - timedelta(minutes=20), next_attempt_at=now - timedelta(minutes=10)
    )
    an_alert(
        user, created_at=now - timedelta(minutes=2), next_attempt_at=now - timedelta(minutes=1)
    )
    an_alert(user, created_at=now - timedelta(minutes=30), next_attempt_at=now + timedelta(hours=1))

    def scan(source, hours_ago, **fields):
        Scan.objects.create(source=source, started_at=now - timedelta(hours=hours_ago), **fields)

    scan("mercari", 2, items_seen=120, new_items=20)
    scan("mercari", 4, items_seen=80, new_items=5, errors=1)  # one page failed: not a failed scan
    scan("mercari", 6, items_seen=0, errors=3, error_summary="mercari: HTTP 503")
    scan("mercari", 8, items_seen=50)
    scan("mercari", 70, items_seen=0, errors=9)  # too old
    scan("rakuma", 3, items_seen=40, new_items=7)
    scan("rakuma", 9, items_seen=30, new_items=1)
    scan("yahoo_auctions", 12, items_seen=0, errors=2)

    current_hour = now.replace(minute=0, second=0, microsecond=0)
    DiscordHour.objects.create(
        hour=current_hour - timedelta(hours=2),
        requests=500,
        rate_limited_global=3,
        rate_limited_route=4,
    )
    DiscordHour.objects.create(
        hour=current_hour - timedelta(hours=10), requests=100, rate_limited_route=1
    )
    DiscordHour.objects.create(
        hour=current_hour - timedelta(hours=72), requests=9999, rate_limited_global=50
    )

    # Rick Owens: three users, four filters (one names it in katakana); sacai: one user.
    ken, mai, yui = make_user("ken"), make_user("mai"), make_user("yui")
    make_filter(ken, "Rick boots", brands=["Rick Owens"])
    make_filter(ken, "Rick knits", brands=["rick owens", "sacai"])
    make_filter(mai, "Rick", brands=["Rick Owens"])
    Filter.objects.create(owner=yui, name="リック", brands=["リックオウエンス", "Rick Owens"])
    paused = make_filter(yui, "Visvim boots", brands=["Visvim"])
    Filter.objects.filter(pk=paused.pk).update(active=False)
    banned = make_user("banned")
    make_filter(banned, "Kapital", brands=["Kapital"])
    banned.is_banned = True
    banned.save(update_fields=["is_banned"])


def staff_client() -> Client:
    client = Client()
    client.force_login(make_user("moderator", is_staff=True))
    return client


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_the_admin_sign_in():
    answer = Client().get(operations_url())
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("admin:login"))
    assert "next=" in answer["Location"]


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_is_refused(signed_in):
    client, _ = signed_in()
    answer = client.get(operations_url())
    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("admin:login"))
    assert b"Operations dashboard" not in answer.content


@pytest.mark.django_db
def test_the_admin_index_links_to_the_dashboard_and_keeps_the_app_list(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert f'<a href="{operations_url()}">Operations dashboard</a>' in page
    assert reverse("admin:alerts_alert_changelist") in page  # the apps are still listed


@pytest.mark.django_db
def test_with_nothing_recorded_every_card_says_so():
    answer = staff_client().get(operations_url())
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "No alerts in the last 48 hours" in page
    assert "No alerts sent in the last 48 hours" in page
    assert "No Discord requests recorded in the last 48 hours" in page
    assert "No scans in the last 48 hours" in page
    assert "No new listings in the last 48 hours" in page
    assert "No active filter names a brand" in page
    assert '<dd data-stat="pending">0</dd>' in page


@pytest.mark.django_db
def test_the_dashboard_shows_the_last_48_hours_of_seeded_activity():
    seed(timezone.now())
    answer = staff_client().get(operations_url())
    assert answer.status_code == 200
    page = answer.content.decode()
    assert page.count('<svg class="chart ops-chart"') == 6
    assert 'aria-label="Alerts queued, sent, failed and skipped per hour, last 48 hours"' in page

    # Alerts: everything queued in the window, the old failure left out.
    assert "14 queued · 8 sent · 2 failed · 1 skipped" in page
    # Latency: the test alert's week is left out; the axis is in minutes.
    assert "Worst hour: p95 10m" in page
    assert "7 sends measured" in page
    assert "p50: 2m</title>" in page

    # The backlog now.
    assert '<dd data-stat="pending">3</dd>' in page
    assert '<dd data-stat="due-now">2</dd>' in page
    assert '<dd data-stat="scheduled-later">1</dd>' in page
    assert '<dd data-stat="oldest-due">10m' in page
    assert '<dd data-stat="failed">2</dd>' in page

    # Scans per source: Mercari had four cycles in the window, one of which failed outright.
    assert (
        '<tr data-source="mercari"><th scope="row">Mercari</th><td>4</td>'
        '<td class="ops-bad">1</td><td>4</td><td>250</td><td>25</td></tr>'
    ) in page
    assert (
        '<tr data-source="rakuma"><th scope="row">Rakuma</th><td>2</td><td class="">0</td>' in page
    )
    assert "Yahoo! Auctions · Failed scans: 1</title>" in page

    # Discord: the old hour is outside the window.
    assert "600 requests · 3 global 429s · 5 route 429s · 1.3% limited" in page

    # Brands: spellings folded together; paused filters and banned users left out.
    assert "Rick Owens: 3 users, 4 filters" in page
    assert "Sacai: 1 user, 1 filter" in page
    assert page.index("Rick Owens: 3 users") < page.index("Sacai: 1 user,")
    assert "Visvim" not in page
    assert "Kapital" not in page


# The browser: the page as a staff member sees it, under the site's CSP.


@pytest.fixture
def page(browser_page):
    return browser_page(viewport={"width": 1280, "height": 900})


def seed_busy_days(now) -> None:
    """Two days of plausible traffic for the screenshot: a daily rhythm, a bad afternoon."""
    rng = random.Random(48)
    user = make_user("busy")
    current_hour = now.replace(minute=0, second=0, microsecond=0)
    listings, alerts, scans, hours = [], [], [], []
    for back in range(47, -1, -1):
        hour = current_hour - timedelta(hours=back)
        busy = 1 + (hour.hour in range(10, 23))
        for _ in range(rng.randint(4, 12) * busy):
            at = hour + timedelta(minutes=rng.randint(0, 59))
            if at > now:
                continue
            n = next(_listing_ids)
            listing = Listing(
                market="mercari",
                external_id=f"busy{n}",
                title=f"listing {n}",
                price=10000,
                url=f"https://jp.mercari.com/item/busy{n}",
                first_seen_at=at - timedelta(seconds=rng.randint(5, 40)),
            )
            listings.append(listing)
            roll = rng.random()
            status = (
                Alert.Status.FAILED
                if roll < 0.03
                else Alert.Status.SKIPPED
                if roll < 0.06
                else Alert.Status.SENT
            )
            slow = 20 <= back <= 23  # an afternoon of 429s
            sent_at = at + timedelta(seconds=rng.randint(60, 240) if slow else rng.randint(1, 8))
            alerts.append(
                Alert(
                    user=user,
                    listing=listing,
                    filter_ids=[1],
                    status=status,
                    created_at=at,
                    next_attempt_at=at,
                    sent_at=sent_at if status == Alert.Status.SENT and sent_at <= now else None,
                )
            )
        for source in ("mercari", "rakuma", "yahoo_auctions", "paypay_fleamarket"):
            for minute in (5, 35):
                failed = slow and source == "yahoo_auctions"
                scans.append(
                    Scan(
                        source=source,
                        started_at=hour + timedelta(minutes=minute),
                        items_seen=0 if failed else rng.randint(40, 120),
                        new_items=0 if failed else rng.randint(0, 9) * busy,
                        errors=3 if failed else 0,
                    )
                )
        requests = rng.randint(200, 500) * busy
        hours.append(
            DiscordHour(
                hour=hour,
                requests=requests,
                rate_limited_global=rng.randint(2, 6) if slow else 0,
                rate_limited_route=rng.randint(5, 15) if slow else rng.randint(0, 1),
            )
        )
    # The backlog: a few due in the last minutes, a few retries scheduled for later.
    for minutes in (-7, -3, -2, -1, 0, 15, 40):
        n = next(_listing_ids)
        listing = Listing(
            market="rakuma",
            external_id=f"busy{n}",
            title=f"listing {n}",
            price=10000,
            url=f"https://fril.jp/item/busy{n}",
            first_seen_at=now - timedelta(minutes=9),
        )
        listings.append(listing)
        alerts.append(
            Alert(
                user=user,
                listing=listing,
                filter_ids=[1],
                created_at=now - timedelta(minutes=8),
                next_attempt_at=now + timedelta(minutes=minutes),
            )
        )
    Listing.objects.bulk_create(listings)
    Alert.objects.bulk_create(alerts)
    Scan.objects.bulk_create(scans)
    DiscordHour.objects.bulk_create(hours)
    brands = ["Rick Owens", "Sacai", "Kapital", "Visvim", "Comme des Garçons", "Yohji Yamamoto"]
    for n in range(24):
        follower = make_user(f"follower{n}")
        make_filter(follower, "Favourites", brands=brands[: 1 + n % len(brands)])


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@needs_chromium
def test_a_staff_member_sees_the_charts_in_the_browser_under_the_csp(live_server, page):
    seed_busy_days(timezone.now())
    staff = make_user("moderator", is_staff=True)
    staff.set_password(PASSWORD)
    staff.save(update_fields=["password"])
    problems: list[str] = []

    def console(message) -> None:
        # A CSP refusal is a console error. The site has no favicon: not this page's business.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            problems.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"{live_server.url}{reverse('admin:index')}")
    page.fill("input[name=username]", "moderator")
    page.fill("input[name=password]", PASSWORD)
    page.locator("input[type=submit]").click()
    page.get_by_role("link", name="Operations dashboard").click()
    page.wait_for_url(f"{live_server.url}{operations_url()}")

    charts = page.locator("svg.ops-chart")
    assert charts.count() == 6
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 100
    assert page.get_by_role("img", name="Discord 429 answers per hour, last 48 hours").is_visible()
    assert page.locator("svg.ops-chart polyline").count() >= 4  # queued, sent, p50, p95 at least
    # The stylesheet applied: the bars are coloured by their tone, not SVG's default black.
    fill = page.locator("svg.ops-chart rect.tone-bad").first.evaluate(
        "e => getComputedStyle(e).fill"
    )
    assert fill != "rgb(0, 0, 0)"
    assert not problems, problems  # no CSP refusal, no missing file, no script error

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
