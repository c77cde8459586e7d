"""With Redis, matching reads the index stamp from a copy in Redis; the database stays the truth."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from filters import matching
from filters.matching import bump_index_version, current_index, database_stamp, index_stamp
from lib.redis_link import redis_link
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SACAI = listing("sacai knit", price=20000)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch):
    monkeypatch.setattr(matching, "_cache", None)


def matched() -> list[int]:
    return sorted(current_index().match(SACAI))


def switch_in_another_process(manage_py, filter_id: int, active: bool, redis_url: str) -> None:
    """Switch the filter on or off as its owner would, from a process of its own."""
    code = (
        "from filters.models import Filter; from filters.services import set_filter_active; "
        f"f = Filter.objects.get(pk={filter_id}); "
        f"set_filter_active(f.owner, f.pk, {active})"
    )
    editor = manage_py("shell", "-c", code, env={"REDIS_URL": redis_url})
    _, err = editor.communicate(timeout=60)
    assert editor.returncode == 0, err


def test_an_edit_in_another_process_is_seen_at_the_next_match_through_redis(
    settings, own_redis, manage_py, django_assert_num_queries
):
    settings.REDIS_URL = own_redis.url
    sacai = make_filter(make_user(), brands=["Sacai"])
    assert matched() == [sacai.pk]
    with django_assert_num_queries(0):  # the stamp comes from Redis, not the database
        stamp = index_stamp()
    assert stamp == database_stamp()

    switch_in_another_process(manage_py, sacai.pk, False, own_redis.url)

    assert matched() == []  # the very next match
    with django_assert_num_queries(0):
        stamp = index_stamp()
    assert stamp == database_stamp()


def test_a_copy_left_stale_by_a_lost_redis_write_is_corrected_within_seconds(
    settings, own_redis, manage_py
):
    settings.REDIS_URL = own_redis.url
    sacai = make_filter(make_user(), brands=["Sacai"])
    assert matched() == [sacai.pk]
    redis = redis_link(own_redis.url).client
    copy_before = redis.get(matching.STAMP_KEY)

    # The editing process cannot reach Redis: its bump commits, its delete of the copy is
    # lost, and Redis still holds the copy from before the edit.
    switch_in_another_process(manage_py, sacai.pk, False, "redis://127.0.0.1:1/0")
    redis.set(matching.STAMP_KEY, copy_before, px=matching.STAMP_TTL_MS)

    assert matched() == [sacai.pk]  # the copy is trusted while it lives...
    deadline = time.monotonic() + 15
    while matched() != []:  # ...which is two seconds
        assert time.monotonic() < deadline, "the stale copy was trusted for good"
        time.sleep(0.1)
    assert index_stamp() == database_stamp()


def test_with_redis_stopped_the_database_stamp_is_used(
    settings, own_redis, manage_py, django_assert_num_queries
):
    settings.REDIS_URL = own_redis.url
    sacai = make_filter(make_user(), brands=["Sacai"])
    assert matched() == [sacai.pk]

    own_redis.stop()
    switch_in_another_process(manage_py, sacai.pk, False, own_redis.url)
    assert matched() == []
    with django_assert_num_queries(1):  # the stamp row
        stamp = index_stamp()
    assert stamp == database_stamp()

    own_redis.start()
    switch_in_another_process(manage_py, sacai.pk, True, own_redis.url)
    assert matched() == [sacai.pk]
    # Redis is asked again within a second, and the copy is back in it.
    deadline = time.monotonic() + 15
    while True:
        with CaptureQueriesContext(connection) as read:
            stamp = index_stamp()
        if not read.captured_queries:
            break
        assert time.monotonic() < deadline, "the stamp never came from Redis again"
        time.sleep(0.1)
    assert stamp == database_stamp()


def test_a_stamp_read_inside_a_transaction_never_becomes_the_copy(settings, own_redis):
    settings.REDIS_URL = own_redis.url
    committed = index_stamp()
    redis = redis_link(own_redis.url).client
    redis.delete(matching.STAMP_KEY)

    with transaction.atomic():
        bump_index_version()
        assert index_stamp().version == committed.version + 1  # the transaction's own bump
        assert redis.get(matching.STAMP_KEY) is None  # which may never be committed...
        transaction.set_rollback(True)  # ...and is not

    assert index_stamp() == committed
