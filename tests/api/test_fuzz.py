"""A property-based fuzz of the whole REST API from its own OpenAPI schema (schemathesis).

Every operation of /api/v1/schema/ gets generated requests, valid and invalid, sent in-process
through the WSGI app as a real user with a real personal token. No answer may be a 5xx, and
every answer must conform to the schema: a documented status code and content type, and a
body matching the documented schema.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.models import Alert
from config.wsgi import application
from filters.models import Filter
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user
from users.models import ApiToken
from users.services import create_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_user(db, settings):
    """A user with filters, alerts (pending and sent) and a token, so real ids exist."""
    # Hundreds of requests a minute from one user: the throttle reads the rate per request.
    settings.API_THROTTLE_RATE = "100000/min"
    user = make_user()
    make_filter(user, "Sacai knits", brands=["Sacai"])
    make_filter(user, "jackets", keywords=["jacket"], price_min=1000, price_max=50000)
    make_filter(user, "paused", keywords=["coat"], active=False)
    ingest_listings(
        [
            listing("sacai ドッキング ニット", market="rakuma"),
            listing("wool jacket", market="mercari"),
            listing("sacai jacket", market="mercari"),
        ]
    )
    Alert.objects.filter(user=user, listing__title="wool jacket").update(status="sent")
    assert Alert.objects.filter(user=user).count() == 3
    return user


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Django closes the database connection when a request ends, which inside the test's
    transaction would lose it; its own test client unhooks the same signal handlers."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class Bearer:
    """The user's token, made again when a fuzzed DELETE /tokens/{id}/ revoked it."""

    def __init__(self, user) -> None:
        self.user = user
        self.token, self.secret = create_token(user, "fuzz")

    def header(self) -> dict[str, str]:
        if not ApiToken.objects.filter(pk=self.token.pk).exists():
            # Make room under the token quota that fuzzed POST /tokens/ may have filled.
            ApiToken.objects.filter(user=self.user).delete()
            self.token, self.secret = create_token(self.user, "fuzz")
        return {"Authorization": f"Bearer {self.secret}"}


@pytest.fixture
def bearer(fuzzed_user) -> Bearer:
    return Bearer(fuzzed_user)


# The schema as the app serves it, read at collection: one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    derandomize=True,  # the same examples on every run, so CI is repeatable
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_5xx_or_an_answer_outside_the_schema(case, bearer):
    headers = bearer.header()
    aim_at_a_real_object(case, bearer)
    case.call_and_validate(headers=headers, checks=CHECKS)


def aim_at_a_real_object(case, bearer: Bearer) -> None:
    """Even generated ids become ids of the user's own objects, so the fuzz also reaches the
    code past the ownership check (random integers are nearly always a 404)."""
    value = case.path_parameters.get("id") if case.path_parameters else None
    if not isinstance(value, int) or isinstance(value, bool) or value % 2:
        return
    if case.path.startswith("/api/v1/filters/"):
        ids = list(Filter.objects.filter(owner=bearer.user).values_list("pk", flat=True))
    else:  # tokens: never the one the requests are signed with
        ids = list(
            ApiToken.objects.filter(user=bearer.user)
            .exclude(pk=bearer.token.pk)
            .values_list("pk", flat=True)
        )
    if ids:
        case.path_parameters["id"] = sorted(ids)[value // 2 % len(ids)]


@pytest.mark.parametrize("path", ["/api/v1/filters/0.5/", "/api/v1/tokens/1.0/"])
def test_an_id_with_a_dot_is_the_apis_json_404_not_djangos_page(db, api_as, path):
    # Found by the fuzz: DRF's default route stopped at the dot and Django answered in HTML.
    client = api_as()
    answer = client.delete(path) if "tokens" in path else client.get(path)
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json"
    assert answer.json()["detail"]
