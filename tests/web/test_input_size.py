"""Input too large to be meant is refused by its size, before any of it is normalized: on
every door (the web's form and preview, the API), with the services' words, and the web's
preview and saves are limited per user like the API's requests."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from filters import validation
from filters.brands import BrandTable
from filters.models import Filter
from lib.errors import ValidationFailed
from tests.builders import make_filter, make_user

pytestmark = pytest.mark.django_db

MANY_ITEMS = ["a"] * 200_000  # a 1 MB JSON body, well within Django's 2.5 MiB
LONG_TEXT = "a," * 300_000  # what a form field can carry


@pytest.fixture
def nothing_normalized(monkeypatch):
    """Cleaning the items is the costly part: none of the oversized input's may reach it (the
    other fields of a form are cleaned as usual)."""

    def guarded(clean):
        def refuse_oversized(text: str) -> str:
            if text.strip(", ") == "a" or text.startswith(("a,", "nnnn", "9999")):
                raise AssertionError(f"cleaned {text[:20]!r} before the size was checked")
            return clean(text)

        return refuse_oversized

    monkeypatch.setattr(validation, "normalize", guarded(validation.normalize))
    monkeypatch.setattr(validation, "strip_invisible", guarded(validation.strip_invisible))


def test_the_services_refuse_by_size_before_normalizing(nothing_normalized):
    with pytest.raises(ValidationFailed) as failed:
        validation.clean_filter_fields(
            {
                "keywords": MANY_ITEMS,
                "exclude": LONG_TEXT,
                "name": "n" * 5000,
                "price_max": "9" * 5000,
            },
            BrandTable(),
        )
    assert failed.value.as_dict() == {
        "keywords": ["At most 20 keywords are allowed; you gave 200,000."],
        "exclude": [
            "The excluded words given are 600,000 characters long in all; keep them to 5,120."
        ],
        "name": ["The name is 5,000 characters long; keep it to 64."],
        "price_max": ["The maximum price can be at most ¥100,000,000."],
    }


def test_a_real_list_with_repeats_is_still_taken():
    cleaned = validation.clean_filter_fields(
        {"keywords": ["coat", " Coat", "COAT"] * 10}, BrandTable()
    )
    assert cleaned == {"keywords": ["coat"]}


def test_the_web_form_and_preview_refuse_by_size(signed_in, nothing_normalized):
    client, user = signed_in()
    found = make_filter(user, "Sacai knits", brands=["Sacai"])
    message = "The keywords given are 600,000 characters long in all; keep them to 5,120."
    form = {"name": "Knits", "brands": "Sacai", "keywords": LONG_TEXT}
    for page in ("/filters/new/", f"/filters/{found.pk}/edit/", "/filters/preview/"):
        answer = client.post(page, form)
        assert message in answer.content.decode(), page
    assert list(Filter.objects.values_list("name", "keywords")) == [("Sacai knits", [])]


def test_the_api_refuses_by_size(nothing_normalized):
    client = APIClient()
    client.force_authenticate(make_user())
    answer = client.post(
        "/api/v1/filters/", {"name": "Knits", "keywords": MANY_ITEMS}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json() == {"keywords": ["At most 20 keywords are allowed; you gave 200,000."]}
    assert not Filter.objects.exists()


def test_the_web_preview_and_saves_are_limited_per_user(signed_in, settings):
    cache.clear()  # counts of earlier tests' users
    settings.API_THROTTLE_RATE = "3/min"
    client, _ = signed_in()
    form = {"name": "Knits", "brands": "Sacai"}
    statuses = [client.post("/filters/preview/", form).status_code for _ in range(3)]
    over = client.post("/filters/new/", form)
    assert statuses == [200, 200, 200]
    assert over.status_code == 429
    assert int(over["Retry-After"]) > 0
    assert "Too many requests: try again in" in over.content.decode()
    assert not Filter.objects.exists()
    assert client.get("/filters/new/").status_code == 200  # reading is not counted
    other, _ = signed_in()
    assert other.post("/filters/preview/", form).status_code == 200  # a budget of their own
