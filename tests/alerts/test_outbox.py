"""The outbox contract: claimed once, settled once, retried with backoff, never lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts import claim, outbox, roles
from alerts.models import Alert
from tests.builders import make_filter, make_user


@pytest.mark.django_db
def test_a_claimed_alert_is_not_claimed_again_until_its_lease_expires(queued_alerts):
    queued_alerts(3)
    first = claim.claim_due("a", 10, lease_seconds=60)
    assert len(first) == 3
    assert claim.claim_due("b", 10) == []
    Alert.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))  # "a" died
    again = claim.claim_due("b", 10)
    assert {a.pk for a in again} == {a.pk for a in first}
    assert all(a.attempts == 2 for a in again)


@pytest.mark.django_db
def test_a_late_sender_cannot_settle_an_alert_it_no_longer_holds(queued_alerts):
    queued_alerts(1)
    [alert] = claim.claim_due("a", 10)
    Alert.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    claim.claim_due("b", 10)
    assert outbox.mark_sent("a", [alert.pk], "late") == 0
    assert outbox.mark_sent("b", [alert.pk], "on-time") == 1
    alert.refresh_from_db()
    assert (alert.status, alert.message_id) == ("sent", "on-time")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_senders_share_the_work_without_overlap():
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    for _ in range(6):
        make_filter(make_user(), brands=["Sacai"])
    ingest_listings([listing(f"sacai item {n}") for n in range(50)])  # 300 alerts, 50 a user
    claims: dict[str, list[int]] = {}

    def take_turns(owner: str) -> None:
        mine: list[int] = []
        while batch := claim.claim_due(owner, 7):
            mine += [a.pk for a in batch]
            outbox.mark_sent(owner, [a.pk for a in batch], f"message of {owner}")  # as senders do
        claims[owner] = mine
        connection.close()

    workers = [threading.Thread(target=take_turns, args=(f"w{i}",)) for i in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    everything = [pk for ids in claims.values() for pk in ids]
    assert len(everything) == len(set(everything)) == 300


@pytest.mark.django_db
def test_a_clean_stop_gives_back_unsent_leases_without_counting_them(queued_alerts):
    queued_alerts(2)
    claim.claim_due("stopping", 10)
    assert outbox.release("stopping") == 2
    assert set(Alert.objects.values_list("attempts", "lease_owner")) == {(0, "")}
    assert len(claim.claim_due("next", 10)) == 2


@pytest.mark.django_db
def test_a_busy_users_alerts_wait_so_others_are_claimed(queued_alerts):
    busy = queued_alerts(30)
    other = queued_alerts(0, user=make_user())
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    make_filter(other, brands=["Kapital"])
    ingest_listings([listing(f"kapital item {n}") for n in range(3)])
    claimed = claim.claim_due("a", 10, exclude_users={busy.pk})
    assert {a.user_id for a in claimed} == {other.pk}
    assert len(claimed) == 3


@pytest.mark.django_db
def test_a_heartbeat_renews_only_the_leases_the_sender_still_holds(queued_alerts):
    queued_alerts(3)
    first = claim.claim_due("a", 10, lease_seconds=2)
    ids = [a.pk for a in first]
    assert outbox.renew_leases("a", ids, lease_seconds=60) == 3
    assert all(
        lease > timezone.now() + timedelta(seconds=50)
        for lease in Alert.objects.values_list("lease_expires_at", flat=True)
    )
    # "a" stalls past its lease; "b" takes the alerts over; "a" wakes up and beats again.
    Alert.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert len(claim.claim_due("b", 10, lease_seconds=5)) == 3
    assert outbox.renew_leases("a", ids, lease_seconds=60) == 0
    assert set(Alert.objects.values_list("lease_owner", flat=True)) == {"b"}
    assert all(
        lease < timezone.now() + timedelta(seconds=6)
        for lease in Alert.objects.values_list("lease_expires_at", flat=True)
    )


@pytest.mark.django_db
def test_a_destination_another_sender_holds_waits_until_it_is_done(queued_alerts):
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    busy = queued_alerts(2)
    assert {a.user_id for a in claim.claim_due("a", 10)} == {busy.pk}
    other = make_user()
    make_filter(other, brands=["Sacai"])
    ingest_listings([listing("sacai coat")])  # a new alert for both users
    # "b" must not open the busy user's DM (or post beside "a") while "a" holds it.
    assert {a.user_id for a in claim.claim_due("b", 10)} == {other.pk}
    outbox.release("a")
    assert {a.user_id for a in claim.claim_due("b", 10)} == {busy.pk}


@pytest.mark.django_db
def test_alerts_taken_over_from_a_sender_that_stopped_renewing_count_as_maybe_posted(
    queued_alerts, settings
):
    queued_alerts(2)
    claimed = claim.claim_due("a", 10, lease_seconds=30)
    outbox.fix_nonce([claimed[0].pk], "n1")  # packed and maybe sent; the other never planned
    lapsed = timezone.now() - timedelta(seconds=1)
    Alert.objects.update(lease_expires_at=lapsed)
    claim.claim_due("b", 10)
    margin = timedelta(seconds=settings.ALERTS_LEASE_SECONDS + settings.DISCORD_REQUEST_TIMEOUT)
    assert dict(Alert.objects.values_list("nonce", "ambiguous_since")) == {
        "n1": lapsed - margin,
        "": None,
    }


@pytest.mark.django_db
def test_one_sender_holds_the_role_for_a_token_until_it_lets_go_or_stops_renewing():
    from lib.models import Lease

    assert roles.take_role("a", lease_seconds=30)
    assert roles.take_role("a", lease_seconds=30)  # the heartbeat keeps it
    assert not roles.take_role("b", lease_seconds=30)
    roles.give_up_role("a")
    assert roles.take_role("b", lease_seconds=30)
    Lease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))  # "b" died
    assert roles.take_role("a", lease_seconds=30)
    assert not roles.take_role("b", lease_seconds=30)


@pytest.mark.django_db
def test_enqueue_stores_what_the_orm_would_store():
    """enqueue skips model instances (COPY on PostgreSQL, one prepared INSERT over tuples
    elsewhere); its rows must read back exactly as bulk_create's do, defaults included."""
    from listings.models import Listing

    users = [make_user() for _ in range(3)]
    matches = [[7], [3, 11, 12], [101, 5]]
    fields = [f.name for f in Alert._meta.concrete_fields if f.name not in ("id", "listing")]

    def stored(listing: Listing) -> list[dict]:
        return list(Alert.objects.filter(listing=listing).order_by("user_id").values(*fields))

    # A time with microseconds, and one without (written in a shorter form by some backends).
    for n, now in enumerate([timezone.now(), timezone.now().replace(microsecond=0)]):
        by_orm, by_enqueue = (
            Listing.objects.create(
                market="mercari",
                external_id=f"same-rows-{n}-{kind}",
                title="Sacai coat",
                price=10000,
                url=f"https://jp.mercari.com/item/same-rows-{n}-{kind}",
            )
            for kind in ("orm", "enqueue")
        )
        Alert.objects.bulk_create(
            Alert(
                user=user,
                listing=by_orm,
                filter_ids=ids,
                next_attempt_at=now,
                created_at=now,
            )
            for user, ids in zip(users, matches, strict=True)
        )
        written = outbox.enqueue(
            [(user.pk, by_enqueue.pk, ids) for user, ids in zip(users, matches, strict=True)], now
        )
        assert written == 3
        assert stored(by_enqueue) == stored(by_orm)
        assert stored(by_orm)[1]["filter_ids"] == [3, 11, 12]
        assert {row["status"] for row in stored(by_enqueue)} == {"pending"}


@pytest.mark.django_db
def test_a_claim_from_a_long_backlog_takes_whole_shares_so_messages_are_full():
    from collections import Counter

    from scraping.ingest import ingest_listings
    from tests.builders import listing

    for _ in range(300):
        make_filter(make_user(), brands=["Sacai"])
    # Every listing alerts all 300 users: the oldest thousand alerts hold a few of each.
    ingest_listings([listing(f"sacai item {n}") for n in range(30)])

    claimed = Counter(alert.user_id for alert in claim.claim_due("a", 100))
    assert len(claimed) == 3  # three users' 30 alerts, three full messages each
    assert set(claimed.values()) == {30}


@pytest.mark.django_db
def test_a_users_share_is_their_oldest_due_alerts_lapsed_leases_included_none_waiting():
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    user = make_user()
    make_filter(user, brands=["Sacai"])
    for n in range(7):  # ten alerts an ingest, each ingest a little later
        ingest_listings([listing(f"sacai item {n}-{k}") for k in range(10)])
    oldest_first = list(
        Alert.objects.order_by("next_attempt_at", "id").values_list("id", flat=True)
    )
    now = timezone.now()
    lapsed, waiting = oldest_first[:5], oldest_first[5:15]
    # A dead sender's lapsed leases are due again; a retry's backoff is not due yet.
    Alert.objects.filter(id__in=lapsed).update(
        lease_owner="dead", lease_expires_at=now - timedelta(seconds=1)
    )
    Alert.objects.filter(id__in=waiting).update(next_attempt_at=now + timedelta(minutes=5))

    claimed = [alert.id for alert in claim.claim_due("a", 100)]
    assert claimed == lapsed + oldest_first[15:60]  # the share's 50, oldest first
    outbox.release("a")
    Alert.objects.filter(id__in=oldest_first[40:]).delete()
    claimed = [alert.id for alert in claim.claim_due("b", 100)]
    assert claimed == lapsed + oldest_first[15:40]  # every due one; still none waiting
