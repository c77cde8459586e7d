"""The website in headless Chromium: sign in through the emulator, then a filter's whole life.

Debian's Chromium (`/usr/bin/chromium`, installed by `make test`) is driven by
Playwright; `playwright install` is never run. The test signs in with Discord
through the emulator's OAuth flow, creates a filter through the form while the
live preview follows the typing, edits it, deletes it, and saves a screenshot
of the dashboard with Japanese titles to `.test-artifacts/dashboard.png`.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from filters.models import Filter
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter
from tests.conftest import ROOT
from tests.web.conftest import needs_chromium
from users.models import User
from users.services import get_or_create_discord_user

SCREENSHOT = ROOT / ".test-artifacts" / "dashboard.png"

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    needs_chromium,
]


@pytest.fixture
def page(browser_page):
    return browser_page(viewport={"width": 1100, "height": 900}, locale="ja-JP")


def test_sign_in_create_preview_edit_and_delete_a_filter_then_the_account_in_the_browser(
    live_server, discord_oauth, page
):
    cache.clear()  # sign-in starts are rate limited per address
    # Somebody the bot already knows, with alerts waiting on their dashboard.
    kenji, _ = get_or_create_discord_user("412345678901234567", "kenji")
    make_filter(kenji, "Rick Owens", brands=["Rick Owens"])
    ingest_listings(
        [
            listing("Rick Owens リックオウエンス ジオバスケット 42 黒", price=68000),
            listing("Rick Owens DRKSHDW ラモーンズ スニーカー", price=32000, market="rakuma"),
            listing("サカイ sacai ドッキング ニット", price=12000, brand="sacai"),
            listing("sacai MA-1 ブルゾン", price=45000),
        ]
    )
    discord_oauth.sign_in_as(kenji.discord_id, "kenji")

    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Sign in with Discord").click()
    page.get_by_role("button", name="Continue to Discord").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "kenji" in page.content()
    assert "リックオウエンス ジオバスケット" in page.content()  # their alerts, on the dashboard

    page.goto(f"{live_server.url}/filters/new/")
    page.fill("input[name=name]", "Sacai knits")
    page.locator("input[name=brands]").press_sequentially("sacai", delay=30)
    preview = page.locator("#preview")
    preview.get_by_text("sacai MA-1 ブルゾン").wait_for()
    assert "ドッキング ニット" in preview.inner_text()
    page.locator("input[name=keywords]").press_sequentially("ニット", delay=30)
    preview.get_by_text("sacai MA-1 ブルゾン").wait_for(state="detached")
    assert "ドッキング ニット" in preview.inner_text()  # the preview followed the typing
    page.get_by_role("button", name="Create filter").click()
    page.wait_for_url(f"{live_server.url}/")
    made = Filter.objects.get(owner=kenji, name="Sacai knits")
    assert (made.brands, made.keywords) == (["Sacai"], ["ニット"])

    page.goto(f"{live_server.url}/filters/{made.pk}/edit/")
    page.fill("input[name=price_max]", "20000")
    page.get_by_role("button", name="Save changes").click()
    page.wait_for_url(f"{live_server.url}/")
    made.refresh_from_db()
    assert made.price_max == 20000

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.goto(f"{live_server.url}/filters/{made.pk}/delete/")
    page.get_by_role("button", name="Delete").click()
    page.wait_for_url(f"{live_server.url}/")
    assert not Filter.objects.filter(pk=made.pk).exists()
    assert page.locator("table.filters").get_by_text("Sacai knits").count() == 0
    assert "Deleted “Sacai knits”." in page.content()

    page.goto(f"{live_server.url}/accounts/")
    page.get_by_role("link", name="Delete your account").click()
    page.fill("input[name=confirm]", "kenji")
    page.get_by_role("button", name="Delete my account").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Your account and everything we held about you are deleted." in page.content()
    assert page.get_by_role("link", name="Sign in with Discord").count() == 1
    assert not User.objects.filter(discord_id=kenji.discord_id).exists()
