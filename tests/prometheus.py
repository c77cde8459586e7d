"""Reading the host's metrics the way Prometheus does: a scrape of the web app's /metrics."""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def host_metrics() -> Samples:
    """Every sample of one /metrics scrape from loopback: {(name, sorted labels): value}.

    The web app sums the files of every process of the run (METRICS_DIR is shared
    through the environment), so a sender that has already exited still counts.
    """
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200, response.content
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def grew(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample went up between two scrapes (the run shares one directory,
    so counters never start at zero)."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)
