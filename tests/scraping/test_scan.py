"""Scanning against a local marketplace server: planning, politeness, resilience, records."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import settings as django_settings

from alerts.models import Alert
from listings.models import Listing
from scraping.breaker import state_of
from scraping.http import SourceClient
from scraping.models import Scan
from scraping.scanner import scan_source
from tests.builders import make_filter, make_user
from tests.scraping.conftest import Reply

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "marketplaces"
RAKUMA_PAGE = (FIXTURES / "rakuma" / "search_built_from_docs.html").read_text(encoding="utf-8")
PAYPAY_PAGE = (FIXTURES / "paypay_fleamarket" / "search_built_from_docs.json").read_text()


def quick_client(source: str) -> SourceClient:
    """The settings' client with short backoffs, so retries take milliseconds in tests."""
    return SourceClient(
        source,
        requests_per_minute=django_settings.SCRAPING_REQUESTS_PER_MINUTE,
        concurrency=2,
        timeout=django_settings.SCRAPING_TIMEOUT_SECONDS,
        retries=django_settings.SCRAPING_RETRIES,
        backoff_base=0.05,
    )


def sacai_fans_on(market: str, count: int = 2) -> list:
    users = [make_user() for _ in range(count)]
    for user in users:
        make_filter(user, brands=["Sacai"], markets=[market])
    return users


def test_one_search_per_spelling_for_every_user_and_new_listings_alert_once(marketplace):
    fans = sacai_fans_on("rakuma", 3)
    make_filter(make_user(), brands=["Sacai"], keywords=["MA-1"], markets=["rakuma"])
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    scan = scan_source("rakuma", client=quick_client("rakuma"))

    queries = sorted(parse_qs(query)["query"][0] for _, query, _ in marketplace.requests)
    assert queries == ["sacai", "サカイ"]  # 4 filters, 2 searches
    _, query, headers = marketplace.requests[0]
    assert parse_qs(query)["transaction"] == ["selling"] and "Mozilla/5.0" in headers["User-Agent"]
    assert (scan.requests, scan.filters, scan.items_seen, scan.new_items) == (2, 4, 4, 2)
    assert Listing.objects.filter(market="rakuma").count() == 2  # the sold one is skipped
    sacai = Listing.objects.get(title__startswith="sacai")
    assert sorted(Alert.objects.filter(listing=sacai).values_list("user_id", flat=True)) == sorted(
        [u.pk for u in fans] + [Alert.objects.exclude(user__in=fans).get().user_id]
    )
    again = scan_source("rakuma", client=quick_client("rakuma"))
    assert (again.new_items, again.alerts) == (0, 0)  # seen before: never alerts twice


@pytest.mark.parametrize(
    "trouble",
    [
        Reply("oops", 500),
        Reply("slow down", 429, {"Retry-After": "0.3"}),
        Reply("locked", 423),
        Reply("cloudflare", 403),
        Reply(RAKUMA_PAGE, delay=1.0),  # slower than the 0.5 s timeout
    ],
    ids=["500", "429", "423", "403", "slow"],
)
def test_a_failing_request_is_retried_and_the_scan_still_finds_everything(marketplace, trouble):
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", trouble, Reply(RAKUMA_PAGE))
    started = time.monotonic()
    scan = scan_source("rakuma", client=quick_client("rakuma"))
    assert (scan.errors, scan.new_items) == (0, 2)
    assert scan.requests == 3  # two searches, one of them retried
    if trouble.status == 429:
        assert time.monotonic() - started >= 0.3


def test_a_page_that_changed_shape_is_an_error_naming_the_source(marketplace, caplog):
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply("<html><body>Please verify you are human</body></html>"))
    scan = scan_source("rakuma", client=quick_client("rakuma"))
    assert scan.errors == 2 and scan.new_items == 0
    assert "rakuma: the page changed shape" in scan.error_summary
    assert "rakuma: the page changed shape" in caplog.text
    assert state_of("rakuma").consecutive_failures == 1


def test_the_breaker_pauses_a_failing_source_while_the_others_go_on(marketplace, settings):
    settings.SCRAPING_BREAKER_FAILURES = 2
    sacai_fans_on("rakuma", 1)
    sacai_fans_on("paypay_fleamarket", 1)
    marketplace.serve("/s", Reply("down", 503))
    marketplace.serve("/api/v1/search", Reply(PAYPAY_PAGE))
    for _ in range(2):
        assert scan_source("rakuma", client=quick_client("rakuma")).errors == 2
    state = state_of("rakuma")
    assert state.is_paused and "HTTP 503" in state.last_error
    asked = len(marketplace.requests)
    assert scan_source("rakuma", client=quick_client("rakuma")) is None
    assert len(marketplace.requests) == asked  # a paused source is not asked at all
    paypay = scan_source("paypay_fleamarket", client=quick_client("paypay_fleamarket"))
    assert (paypay.errors, paypay.new_items, paypay.alerts) == (0, 2, 1)
    assert Scan.objects.filter(source="rakuma").count() == 2


def test_searches_are_spread_over_the_interval(marketplace):
    for brand in ["Sacai", "Kapital"]:
        make_filter(make_user(), brands=[brand], markets=["rakuma"])
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    times = []
    scan_source(
        "rakuma",
        spread_seconds=0.8,
        client=quick_client("rakuma"),
        progress=lambda _: times.append(time.monotonic()),
    )
    assert len(times) == 4
    assert times[-1] - times[0] >= 0.5  # four searches 0.2 s apart, not a burst


def test_scan_once_prints_a_summary_per_source(marketplace, run_command):
    sacai_fans_on("paypay_fleamarket", 1)
    marketplace.serve("/api/v1/search", Reply(PAYPAY_PAGE))
    status, out, _ = run_command("scan", "--source", "paypay_fleamarket", "--once")
    assert status == 0
    assert out.startswith("paypay_fleamarket: 2 requests for 1 filter, 4 items seen, 2 new,")


def test_setup_schedules_keeps_retention_and_removes_the_old_scan_schedules(run_command, settings):
    from django_q.models import Schedule

    settings.SCRAPING_SOURCES = ["mercari", "rakuma"]
    Schedule.objects.create(
        name="scan rakuma", func="scraping.tasks.scan_market", args="('rakuma',)"
    )
    status, out, _ = run_command("setup_schedules")
    run_command("setup_schedules")
    assert status == 0 and "removed “scan rakuma”: the pollers of qcluster read the markets" in out
    assert not Schedule.objects.filter(name__startswith="scan ").exists()  # pollers read them
    assert Schedule.objects.get(name="retention").func == "scraping.tasks.purge_old_records"


def test_a_paused_source_shows_in_the_admin_and_can_be_resumed(admin_client, settings):
    from django.urls import reverse

    from scraping.breaker import record_failure

    settings.SCRAPING_BREAKER_FAILURES = 1
    state = record_failure("rakuma", "rakuma: HTTP 503 for sacai after 3 attempts")
    page = admin_client.get(reverse("admin:scraping_sourcestate_changelist")).content.decode()
    assert "rakuma: HTTP 503 for sacai after 3 attempts" in page
    response = admin_client.post(
        reverse("admin:scraping_sourcestate_changelist"),
        {"action": "resume_now", "_selected_action": [state.pk]},
        follow=True,
    )
    assert "Resumed rakuma: scanned again" in response.content.decode()
    assert not state_of("rakuma").is_paused
    assert admin_client.get(reverse("admin:scraping_scan_changelist")).status_code == 200


def test_a_json_lines_feed_from_a_url_or_a_file(marketplace, settings, tmp_path, caplog):
    from tests.builders import listing_json

    make_filter(make_user(), brands=["Sacai"])
    lines = [
        json.dumps(listing_json("sacai knit", market="rakuma"), ensure_ascii=False),
        "{not json",
        json.dumps({**listing_json("kapital denim"), "price": -5}),
        json.dumps(listing_json("sacai vest", market="mercari")),
    ]
    marketplace.serve("/feed.jsonl", Reply("\n".join(lines[:3])))
    feed_file = tmp_path / "feed.jsonl"
    feed_file.write_text(lines[3] + "\n", encoding="utf-8")
    settings.JSONFEED_URLS = [f"{marketplace.url}/feed.jsonl", str(feed_file)]
    scan = scan_source("jsonfeed", client=quick_client("jsonfeed"))
    assert (scan.items_seen, scan.new_items, scan.alerts, scan.broken_items) == (2, 2, 2, 2)
    assert "jsonfeed line 2 skipped: not valid JSON" in caplog.text
    assert "jsonfeed line 3 skipped: price" in caplog.text


def paypay_page(ids: list[str], offset: int, available: int) -> str:
    items = [
        {"id": i, "title": f"sacai item {i}", "price": 1000, "itemStatus": "OPEN"} for i in ids
    ]
    return json.dumps(
        {
            "totalResultsAvailable": available,
            "totalResultsReturned": len(items),
            "offset": offset,
            "items": items,
        }
    )


def test_a_feed_is_read_back_to_the_listings_already_seen(marketplace, settings):
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    settings.SCRAPING_FEED_THRESHOLD = 1  # sacai and サカイ are two searches: read the feed
    settings.SCRAPING_FEED_POLLS = 1
    sacai_fans_on("paypay_fleamarket", 2)
    seen_before = [
        listing(f"sacai item {i}", market="paypay_fleamarket", external_id=i) for i in ("z5", "z6")
    ]
    ingest_listings(seen_before)
    marketplace.serve(
        "/api/v1/search",
        Reply(paypay_page(["z1", "z2", "z3"], 0, 100)),
        Reply(paypay_page(["z4", "z5", "z6"], 3, 100)),  # mostly seen: stop here
        Reply(paypay_page(["z7", "z8", "z9"], 6, 100)),
    )
    scan = scan_source("paypay_fleamarket", client=quick_client("paypay_fleamarket"))
    offsets = [parse_qs(query)["offset"][0] for _, query, _ in marketplace.requests]
    assert offsets == ["0", "3"]
    assert all("query" not in parse_qs(query) for _, query, _ in marketplace.requests)  # the feed
    assert (scan.requests, scan.new_items, scan.alerts) == (2, 4, 8)


def paypay_feed_with_z5_and_z6_seen(settings, polls: int) -> None:
    """A Sacai fan on PayPay Fleamarket read through its feed, `polls` reads a cycle,
    with listings z5 and z6 stored before the cycle."""
    from scraping.ingest import ingest_listings
    from tests.builders import listing

    settings.SCRAPING_FEED_THRESHOLD = 1
    settings.SCRAPING_FEED_POLLS = polls
    sacai_fans_on("paypay_fleamarket", 1)
    ingest_listings(
        [
            listing(f"sacai item {i}", market="paypay_fleamarket", external_id=i)
            for i in ("z5", "z6")
        ]
    )


def test_listings_that_slid_onto_the_next_page_during_a_read_do_not_end_it(marketplace, settings):
    paypay_feed_with_z5_and_z6_seen(settings, polls=1)
    marketplace.serve(
        "/api/v1/search",
        Reply(paypay_page(["z1", "z2", "z3"], 0, 100)),
        # Two new listings came meanwhile: z2 and z3 slid onto the second page, and z4,
        # which nobody has seen, is under them.
        Reply(paypay_page(["z2", "z3", "z4"], 3, 100)),
        Reply(paypay_page(["z5", "z6", "z7"], 6, 100)),  # seen before this read: stop
        Reply(paypay_page(["z8", "z9", "z10"], 9, 100)),
    )
    scan = scan_source("paypay_fleamarket", client=quick_client("paypay_fleamarket"))
    offsets = [parse_qs(query)["offset"][0] for _, query, _ in marketplace.requests]
    assert offsets == ["0", "3", "6"]
    assert scan.new_items == 5  # z1-z4 and z7


def test_a_feed_reads_next_page_does_not_wait_behind_the_cycles_later_reads(marketplace, settings):
    paypay_feed_with_z5_and_z6_seen(settings, polls=3)  # reads at 0, 1 and 2 s of 3
    marketplace.serve(
        "/api/v1/search",
        Reply(paypay_page(["z1", "z2", "z3"], 0, 100)),  # all new: read the next page
        *[Reply(paypay_page(["z5", "z6", "z4"], 0, 100)) for _ in range(3)],  # seen: stop
    )
    scan_source("paypay_fleamarket", spread_seconds=3, client=quick_client("paypay_fleamarket"))
    offsets = [parse_qs(query)["offset"][0] for _, query, _ in marketplace.requests]
    assert offsets == ["0", "3", "0", "0"]  # the first read's second page at once


def test_a_slow_page_is_not_ended_by_listings_a_later_read_stored(marketplace, settings):
    paypay_feed_with_z5_and_z6_seen(settings, polls=2)  # reads at 0 and 1 s of 2
    settings.SCRAPING_TIMEOUT_SECONDS = 5
    marketplace.serve(
        "/api/v1/search",
        Reply(paypay_page(["z1", "z2", "z3"], 0, 100)),  # the first read: all new
        # Its second page comes back late. Listings published meanwhile pushed y1-y3 down
        # onto it, and the second read, which looked after the first, stores them first.
        Reply(paypay_page(["y1", "y2", "y3"], 3, 100), delay=1.5),
        Reply(paypay_page(["y1", "y2", "y3"], 0, 100)),  # the second read: all new
        Reply(paypay_page(["z1", "z2", "z3"], 3, 100)),  # known before it looked: it ends
        # The first read must go on: z4 is under its own page, and nobody else reads there.
        Reply(paypay_page(["z4", "z5", "z6"], 6, 100)),
        Reply(paypay_page(["z7", "z8", "z9"], 9, 100)),
    )
    scan = scan_source(
        "paypay_fleamarket", spread_seconds=2, client=quick_client("paypay_fleamarket")
    )
    offsets = [parse_qs(query)["offset"][0] for _, query, _ in marketplace.requests]
    assert offsets == ["0", "3", "0", "3", "6"]
    assert Listing.objects.filter(external_id="z4").exists()
    assert scan.new_items == 7  # z1-z4 and y1-y3


def test_a_read_that_reaches_its_page_limit_still_among_new_listings_warns(
    marketplace, settings, caplog
):
    paypay_feed_with_z5_and_z6_seen(settings, polls=1)
    settings.SCRAPING_FEED_MAX_PAGES = 2
    marketplace.serve(
        "/api/v1/search",
        Reply(paypay_page(["z1", "z2", "z3"], 0, 100)),
        Reply(paypay_page(["z4", "z7", "z8"], 3, 100)),  # still new, and the limit
    )
    scan_source("paypay_fleamarket", client=quick_client("paypay_fleamarket"))
    assert len(marketplace.requests) == 2
    assert "paypay_fleamarket: a feed read ended after 2 pages (SCRAPING_FEED_MAX_PAGES)" in (
        caplog.text
    )


def test_stopping_skips_the_searches_not_started_yet(marketplace):
    import threading

    for brand in ["Sacai", "Kapital"]:
        make_filter(make_user(), brands=[brand], markets=["rakuma"])
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    stopping = threading.Event()
    threading.Timer(0.3, stopping.set).start()
    started = time.monotonic()
    scan = scan_source(
        "rakuma", spread_seconds=20, client=quick_client("rakuma"), stopping=stopping
    )
    assert time.monotonic() - started < 2  # not the 20 s the spread would take
    assert scan.requests == 1  # only the first search had started


def test_the_scheduled_task_scans_and_reports_in_one_line(marketplace, settings):
    from scraping.breaker import record_failure
    from scraping.tasks import scan_market

    settings.SCRAPING_INTERVALS = {"rakuma": 60}
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    started = time.monotonic()
    assert scan_market("rakuma").startswith("rakuma: 2 requests for 1 filter, 4 items seen, 2 new")
    # Its two reads back to back, not half a minute apart: no worker parked between reads.
    assert time.monotonic() - started < 20
    settings.SCRAPING_BREAKER_FAILURES = 1
    record_failure("rakuma", "rakuma: HTTP 503")
    assert scan_market("rakuma") == "rakuma: paused by its circuit breaker (see the admin)"


def test_a_left_over_scheduled_scan_leaves_a_polled_market_to_its_poller(marketplace):
    from alerts.roles import take_lease
    from scraping.tasks import scan_market

    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    assert take_lease("poller:rakuma", "host-a:123", 30)
    assert scan_market("rakuma") == "rakuma: polled by qcluster host-a:123; nothing to do"
    assert marketplace.requests == []


YAHOO_NO_RESULTS = (
    FIXTURES / "yahoo_auctions" / "no_results_2026-08_built_from_real.html"
).read_text()
PAYPAY_NO_RESULTS = (
    FIXTURES / "paypay_fleamarket" / "no_results_page_2026-08_built_from_real.html"
).read_text()
NO_RESULTS_404 = [
    ("yahoo_auctions", "/search/search", YAHOO_NO_RESULTS, PAYPAY_NO_RESULTS),
    ("paypay_fleamarket", "/api/v1/search", PAYPAY_NO_RESULTS, YAHOO_NO_RESULTS),
]


@pytest.mark.parametrize(
    ("source", "path", "page", "other"), NO_RESULTS_404, ids=["yahoo", "paypay"]
)
def test_a_404_is_an_empty_search_only_when_it_is_the_markets_no_results_page(
    marketplace, settings, source, path, page, other
):
    settings.SCRAPING_BREAKER_FAILURES = 1  # one failed scan would pause the market
    sacai_fans_on(source, 1)
    marketplace.serve(path, Reply(page, 404))
    scan = scan_source(source, client=quick_client(source))
    assert (scan.requests, scan.items_seen, scan.errors, scan.error_summary) == (2, 0, 0, "")
    assert Scan.objects.get(source=source).finished_at is not None
    state = state_of(source)
    assert (state.consecutive_failures, state.is_paused) == (0, False)
    assert state.last_success_at is not None
    # Any other 404, the other market's no-results page among them, stays a failure.
    for body in ("<html><body>Not Found</body></html>", other):
        settings.SCRAPING_BREAKER_FAILURES = 3
        marketplace.serve(path, Reply(body, 404))
        scan = scan_source(source, client=quick_client(source))
        assert (scan.items_seen, scan.errors) == (0, 2)
        assert f"{source}: HTTP 404 for sacai" in scan.error_summary
    assert state_of(source).consecutive_failures == 2


def test_an_unexpected_exception_in_a_parser_is_a_recorded_failed_scan(
    marketplace, settings, monkeypatch, caplog
):
    from scraping.sources import rakuma

    def buggy_parse(body):
        raise RuntimeError("a bug nobody foresaw")

    monkeypatch.setattr(rakuma, "parse", buggy_parse)  # the parser a site change broke
    settings.SCRAPING_BREAKER_FAILURES = 2
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    for cycle in (1, 2):
        scan = scan_source("rakuma", client=quick_client("rakuma"))
        assert (scan.requests, scan.errors, scan.new_items) == (2, 2, 0)
        assert "rakuma: unexpected RuntimeError: a bug nobody foresaw" in scan.error_summary
        assert state_of("rakuma").consecutive_failures == cycle
    assert Scan.objects.filter(source="rakuma", errors=2).count() == 2
    state = state_of("rakuma")
    assert state.is_paused and "RuntimeError" in state.last_error
    assert "Traceback" in caplog.text  # logged with where it happened


def test_the_first_page_that_stores_alerts_wakes_delivery_not_the_end_of_the_cycle(marketplace):
    from django_q.models import OrmQ

    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    send_tasks_after_each_page = []
    scan_source(
        "rakuma",
        spread_seconds=0.4,
        client=quick_client("rakuma"),
        progress=lambda _: send_tasks_after_each_page.append(OrmQ.objects.count()),
    )
    # The first page's listings alerted and queued a send at once; the second found them seen.
    assert send_tasks_after_each_page == [1, 1]


@pytest.mark.parametrize("budget", [47.0, None], ids=["sendalerts", "console sender"])
def test_no_send_task_is_queued_while_a_live_sender_is_sending(marketplace, budget):
    from django_q.models import OrmQ

    from alerts.models import SenderStatus

    SenderStatus.objects.publish("a-live-sendalerts", request_budget=budget)  # as it starts
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    scan = scan_source("rakuma", client=quick_client("rakuma"))
    assert scan.alerts == 1 and not OrmQ.objects.exists()  # it polls and finds them itself


def test_a_sender_waiting_for_the_sending_role_does_not_stop_the_wake_up(marketplace):
    from django_q.models import OrmQ

    from alerts.models import SenderStatus

    SenderStatus.objects.publish("a-sendalerts-on-standby", request_budget=0.0)
    sacai_fans_on("rakuma", 1)
    marketplace.serve("/s", Reply(RAKUMA_PAGE))
    scan_source("rakuma", client=quick_client("rakuma"))
    assert OrmQ.objects.count() == 1
