"""Bodies no JSON route can take get a JSON 400 naming the problem, and one log line: JSON
nested too deeply to parse, and a body over Django's size limit."""

from __future__ import annotations

import json
import logging

import pytest

from filters.models import Filter

pytestmark = pytest.mark.django_db

ROUTES = ["/api/v1/filters/", "/api/v1/tokens/"]


@pytest.mark.parametrize("route", ROUTES)
def test_json_nested_too_deeply_is_a_json_400(api_as, route, caplog):
    deep = "[" * 950 + "]" * 950
    with caplog.at_level(logging.INFO):
        answer = api_as().post(route, deep, content_type="application/json")
    assert answer.status_code == 400
    assert answer.json() == {"detail": "JSON parse error - the body is nested too deeply."}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not Filter.objects.exists()


@pytest.mark.parametrize("route", ROUTES)
def test_a_body_over_the_size_limit_is_a_json_400_naming_the_limit(api_as, route, caplog, settings):
    big = json.dumps({"name": "x", "keywords": ["a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)]})
    with caplog.at_level(logging.INFO):
        answer = api_as().post(route, big, content_type="application/json")
    assert answer.status_code == 400
    assert answer["Content-Type"] == "application/json"
    limit = f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}"
    assert answer.json() == {
        "detail": f"The request body is larger than {limit} bytes, the most this API takes."
    }
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
