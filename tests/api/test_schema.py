"""The OpenAPI 3 schema and its docs page: public, complete, served without a CDN."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from drf_spectacular.validation import validate_schema

from tests.api.test_filters_api import FILTER_FIELDS

pytestmark = pytest.mark.django_db

EVERY_ENDPOINT = {
    "/api/v1/filters/": {"get", "post"},
    "/api/v1/filters/{id}/": {"get", "patch", "delete"},
    "/api/v1/filters/{id}/pause/": {"post"},
    "/api/v1/filters/{id}/resume/": {"post"},
    "/api/v1/filters/{id}/preview/": {"get"},
    "/api/v1/me/": {"get", "patch", "delete"},
    "/api/v1/me/data/": {"get"},
    "/api/v1/alerts/": {"get"},
    "/api/v1/listings/": {"get"},
    "/api/v1/tokens/": {"get", "post"},
    "/api/v1/tokens/{id}/": {"delete"},
}


def test_the_schema_is_public_openapi_3_json_with_every_endpoint():
    answer = Client().get("/api/v1/schema/?format=json")
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("application/vnd.oai.openapi+json")
    schema = answer.json()
    validate_schema(schema)  # drf-spectacular's check against the OpenAPI 3 JSON schema
    assert schema["openapi"].startswith("3.")
    assert {path: set(ops) for path, ops in schema["paths"].items()} == EVERY_ENDPOINT
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token from POST /api/v1/tokens/.",
    }
    filter_fields = set(schema["components"]["schemas"]["Filter"]["properties"])
    assert filter_fields == FILTER_FIELDS


def test_the_schema_is_yaml_by_default():
    answer = Client().get("/api/v1/schema/")
    assert answer.status_code == 200
    assert answer.content.decode().startswith("openapi: 3.")


def test_the_docs_render_from_our_own_static_files():
    client = Client()
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    # The start-up script is a file of its own (no inline script for the CSP to allow).
    scripts = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert scripts and all(src.startswith("/") for src in scripts)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)
    start_up = client.get(next(src for src in scripts if src.startswith("/api/v1/docs/")))
    assert start_up.status_code == 200
    assert "SwaggerUIBundle" in start_up.content.decode()
    # Swagger UI itself, its stylesheet and icon are static files we ship (the sidecar).
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert len(assets) >= 3 and all(finders.find(asset) for asset in assets), assets
    for text in (html, start_up.content.decode()):
        for outside in ("cdn", "unpkg", "jsdelivr", "https://", "http://"):
            assert outside not in text.lower(), outside


def test_every_view_is_described_without_a_warning(run_command, tmp_path):
    # drf-spectacular warns when it has to guess a view's input or output.
    status, _, err = run_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml")
    )
    assert status == 0, err
    assert (tmp_path / "schema.yaml").read_text().startswith("openapi: 3.")
