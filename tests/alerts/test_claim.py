"""The claim's raw SQL reads "due" exactly as `AlertQuerySet.due` defines it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts.claim import _shares, due_condition_sql
from alerts.models import Alert

pytestmark = pytest.mark.django_db


def test_the_raw_due_condition_selects_what_the_queryset_does(queued_alerts):
    user = queued_alerts(6)
    now = timezone.now()
    first, future, live, lapsed, sent, failed = Alert.objects.order_by("id")
    Alert.objects.filter(pk=future.pk).update(next_attempt_at=now + timedelta(minutes=1))
    Alert.objects.filter(pk=live.pk).update(
        lease_owner="a", lease_expires_at=now + timedelta(seconds=30)
    )
    Alert.objects.filter(pk=lapsed.pk).update(
        lease_owner="a", lease_expires_at=now - timedelta(seconds=1)
    )
    Alert.objects.filter(pk=sent.pk).update(status=Alert.Status.SENT)
    Alert.objects.filter(pk=failed.pk).update(status=Alert.Status.FAILED)

    condition, params = due_condition_sql(now)
    table = connection.ops.quote_name(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {table}.id FROM {table} WHERE {condition}", params)
        raw = {pk for (pk,) in cursor.fetchall()}

    assert raw == set(Alert.objects.due(now).values_list("id", flat=True))
    assert raw == {first.pk, lapsed.pk}
    # The claim's share of the user is the same due alerts, on either database's path.
    shares = _shares(Alert.objects.due(now), [user.pk], now)
    assert {pk for pk, _ in shares} == raw
