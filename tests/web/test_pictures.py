"""Listing pictures without the network: the demo's are the project's own, and a picture
that is missing or fails to load shows the site's placeholder; every page has a favicon."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from alerts.models import Alert
from scraping.ingest import ingest_listings
from scraping.sources.demo import bundled_listings, next_demo_listings
from tests.builders import listing, make_filter, make_user
from tests.web.conftest import needs_chromium


@pytest.mark.django_db
def test_every_demo_listing_has_a_bundled_picture_from_this_site(settings):
    settings.SITE_URL = "http://127.0.0.1:9123"
    assert all(not item["image_url"] for item in bundled_listings())  # no outside service
    records = next_demo_listings(len(bundled_listings()))
    for record in records:
        parts = urlsplit(record.image_url)
        assert f"{parts.scheme}://{parts.netloc}" == settings.SITE_URL
        assert parts.path.startswith("/static/img/demo/")
        assert finders.find(parts.path.removeprefix("/static/")), record.image_url
    assert len({record.image_url for record in records}) >= 8  # what each one is, not one image


@pytest.mark.django_db
def test_the_favicon_is_linked_and_served_at_its_usual_address():
    page = Client().get("/").content.decode()
    assert '<link rel="icon" href="/static/img/favicon.svg"' in page
    answer = Client().get("/favicon.ico")
    assert answer.status_code == 302 and answer["Location"] == "/static/img/favicon.svg"
    assert finders.find("img/favicon.svg")


@needs_chromium
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pictures_load_without_the_network_and_a_broken_one_shows_the_placeholder(
    live_server, browser_page, settings
):
    settings.SITE_URL = live_server.url
    user = make_user()
    make_filter(user, "Everything Sacai", brands=["Sacai"])
    demo = next_demo_listings(1)[0]
    ingest_listings(
        [
            listing("Sacai demo knit", image_url=demo.image_url),
            listing("Sacai knit, picture gone", image_url=f"{live_server.url}/static/gone.jpg"),
            listing("Sacai knit, no picture"),
        ]
    )
    assert Alert.objects.filter(user=user).count() == 3
    client = Client()
    client.force_login(user)
    page = browser_page(viewport={"width": 1100, "height": 900})
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/alerts/")
    page.wait_for_load_state("networkidle")
    pictures = page.eval_on_selector_all(
        "img[data-fallback]", "images => images.map(i => [i.naturalWidth, i.getAttribute('src')])"
    )
    assert len(pictures) == 3
    assert all(width > 0 for width, _ in pictures), pictures  # none broken
    sources = [source for _, source in pictures]
    assert demo.image_url in sources
    assert sources.count("/static/img/no-picture.svg") == 2  # the gone one and the missing one
