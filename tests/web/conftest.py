"""Signed-in test clients for the pages, and headless Chromium for the browser tests."""

from __future__ import annotations

import shutil

import pytest
from django.db import connections
from django.test import Client

from tests.builders import make_user


@pytest.fixture
def signed_in():
    """A client signed in as a new user (or the one given); returns (client, user)."""

    def make(user=None):
        user = user or make_user()
        client = Client()
        client.force_login(user)
        return client, user

    return make


CHROMIUM = "/usr/bin/chromium"
# Chromium as root, on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="Debian's chromium is not installed"
)


@pytest.fixture
def browser_page(monkeypatch):
    """Open a page in Debian's headless Chromium: browser_page(viewport=…, locale=…)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own ORM calls
    # are still plain synchronous ones, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        def open_page(**context_options):
            return browser.new_context(**context_options).new_page()

        yield open_page
        browser.close()
        # Inside sync_playwright the ORM has connections of its own (Django keeps them per
        # context, and Playwright runs this code in a greenlet with its own): left open, the
        # test's would keep the test database from being dropped at the end of the run.
        connections.close_all()
