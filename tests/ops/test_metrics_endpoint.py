"""`GET /metrics`: only for the holder of METRICS_TOKEN (or local scrapes without one); every
family of lib/metrics.py and the database's gauges in the very first scrape."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families

import lib.metrics
from alerts.models import Alert
from lib.markets import Source
from scraping.ingest import ingest_listings
from scraping.models import SourceState
from tests.builders import listing, make_filter, make_user
from users.models import User

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-test"
DATABASE_GAUGES = {
    "marketalerts_outbox_pending": {},
    "marketalerts_outbox_oldest_due_seconds": {},
    "marketalerts_source_paused": {"source": set(Source.values)},
    "marketalerts_filter_index_filters": {},
}
# Every label's values, as lib/metrics.py creates them at zero.
KNOWN_LABEL_VALUES = {
    "outcome": set(lib.metrics.DISCORD_OUTCOMES),
    "scope": set(lib.metrics.RATE_LIMIT_SCOPES),
    "source": set(lib.metrics.SOURCES),
}


def scrape(client, **headers) -> dict:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        family.name: family for family in text_string_to_metric_families(response.content.decode())
    }


def value(families: dict, name: str, **labels: str) -> float:
    (sample,) = [s for s in families[name].samples if s.name == name and s.labels == labels]
    return sample.value


def declared_families() -> dict[str, dict[str, set[str]]]:
    """Every family lib/metrics.py declares, with each of its labels' known values (those
    this process holds, and at least the ones of KNOWN_LABEL_VALUES)."""
    families = {}
    for metric in vars(lib.metrics).values():
        if isinstance(metric, MetricWrapperBase):
            (family,) = metric.collect()
            labels: dict[str, set[str]] = {}
            for sample in family.samples:
                for label, label_value in sample.labels.items():
                    if label != "le":  # a histogram's buckets, not a label of ours
                        labels.setdefault(label, set(KNOWN_LABEL_VALUES.get(label, ())))
                        labels[label].add(label_value)
            families[family.name] = labels
    return families


def test_with_a_token_set_a_scrape_needs_it_as_a_bearer_token(client, settings):
    settings.METRICS_TOKEN = TOKEN

    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert missing["WWW-Authenticate"].startswith("Bearer")
    assert "Authorization: Bearer <METRICS_TOKEN>" in missing.content.decode()

    wrong = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}x")
    assert wrong.status_code == 403
    assert "marketalerts" not in wrong.content.decode()
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401

    assert scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    # The token counts from anywhere, not only from this host.
    assert scrape(client, HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR="203.0.113.7")


def test_without_a_token_only_local_scrapes_are_answered(client, settings):
    settings.METRICS_TOKEN = ""

    assert scrape(client, REMOTE_ADDR="127.0.0.1")
    assert scrape(client, REMOTE_ADDR="::1")
    for refused in (
        {"REMOTE_ADDR": "203.0.113.7"},
        {"REMOTE_ADDR": "10.0.0.5"},
        # Through a reverse proxy on this host: the address is local, the client is not.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"},
    ):
        response = client.get("/metrics", **refused)
        assert response.status_code == 403, refused
        assert "set METRICS_TOKEN" in response.content.decode()


def test_the_first_scrape_has_every_family_with_its_help_and_every_label_value(client):
    families = scrape(client)

    expected = {**declared_families(), **DATABASE_GAUGES}
    assert len(expected) > len(DATABASE_GAUGES) + 10
    missing = set(expected) - set(families)
    assert not missing, f"families missing from /metrics: {sorted(missing)}"
    for name, labels in expected.items():
        family = families[name]
        assert family.documentation and family.documentation != "Multiprocess metric", name
        for label, values in labels.items():
            seen = {s.labels[label] for s in family.samples if label in s.labels}
            assert seen == values, (name, label)


def test_the_database_gauges_show_the_database_as_it_is_now(client):
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    make_filter(owner, name="switched off", keywords=["coat"], active=False)
    banned = make_user()
    make_filter(banned, keywords=["boots"])
    User.objects.filter(pk=banned.pk).update(is_banned=True)  # banned after filing it
    ingest_listings([listing(f"sacai item {n}") for n in range(3)])
    Alert.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    SourceState.objects.create(
        source="rakuma", consecutive_failures=3, paused_until=timezone.now() + timedelta(hours=1)
    )
    SourceState.objects.create(
        source="mercari", consecutive_failures=5, paused_until=timezone.now() - timedelta(hours=1)
    )

    families = scrape(client)

    assert value(families, "marketalerts_outbox_pending") == 3
    assert 120 <= value(families, "marketalerts_outbox_oldest_due_seconds") < 600
    assert value(families, "marketalerts_filter_index_filters") == 1
    paused = {s.labels["source"]: s.value for s in families["marketalerts_source_paused"].samples}
    assert paused == {code: 1.0 if code == "rakuma" else 0.0 for code in Source.values}

    Alert.objects.update(status=Alert.Status.SENT, sent_at=timezone.now())
    families = scrape(client)
    assert value(families, "marketalerts_outbox_pending") == 0
    assert value(families, "marketalerts_outbox_oldest_due_seconds") == 0


@pytest.mark.parametrize(
    "header",
    [
        "HTTP_X_REAL_IP",
        "HTTP_TRUE_CLIENT_IP",
        "HTTP_X_CLIENT_IP",
        "HTTP_VIA",
        "HTTP_X_FORWARDED_HOST",
        "HTTP_FORWARDED",
    ],
)
def test_a_loopback_request_carrying_any_proxy_header_is_not_local(client, settings, header):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **{header: "203.0.113.7"})
    assert response.status_code == 403
    assert "set METRICS_TOKEN" in response.content.decode()
