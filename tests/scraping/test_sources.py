"""Each marketplace's parser on recorded responses, and on small fixtures built from real ones."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scraping.sources import mercari, paypay_fleamarket, rakuma, yahoo_auctions
from scraping.sources.base import NotForSale, PageShapeError, parse_items

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "marketplaces"


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8")


def test_mercari_newest_first_keeps_the_items_on_sale_with_every_field():
    raw = json.loads(fixture("mercari/search_sort_created_desc_sharpnel_2023-12-02.json"))
    page = mercari.parse(json.dumps(raw))
    on_sale = [item for item in raw["items"] if item["status"] == "ITEM_STATUS_ON_SALE"]
    assert (len(page.records), page.skipped, page.broken) == (19, 65, 0)  # 63 sold, 2 trading
    for record, item in zip(page.records, on_sale, strict=True):
        assert record.market == "mercari"
        assert record.external_id == item["id"]
        assert record.title == " ".join(item["name"].split())
        assert record.price == int(item["price"])
        assert record.url == f"https://jp.mercari.com/item/{item['id']}"
        assert record.image_url == item["thumbnails"][0]
        assert record.listed_at == datetime.fromtimestamp(int(item["created"]), tz=UTC)
    assert page.next_page is None  # nextPageToken "" on the last page


def test_mercari_pages_on_and_tolerates_older_items_with_fewer_fields():
    page = mercari.parse(fixture("mercari/search_next_page_sharpnel_p1_2023-03-12.json"))
    assert page.next_page == "v1:1"
    old = mercari.parse(fixture("mercari/search_price_5000_10000_sharpnel_2022-08-07.json"))
    assert old.broken == 0 and old.records
    assert all(5000 <= r.price <= 10000 and r.brand is None for r in old.records)


def test_mercari_skips_no_price_items_and_closed_auctions_and_reads_shops_and_brands():
    assert mercari.parse(fixture("mercari/search_no_price_item_2024-06-28.json")).records == []
    on_the_23rd = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    page = mercari.parse(
        fixture("mercari/search_shops_and_auctions_built_from_docs.json"), now=on_the_23rd
    )
    shops, auction = page.records
    assert page.skipped == 1  # the auction that closed on the 20th
    assert shops.url == "https://jp.mercari.com/shops/product/2Fj3kR8sLmNpQrStUvWxYz"
    assert (shops.brand, shops.price) == ("sacai", 23000)
    assert shops.image_url.startswith("https://assets.mercari-shops-static.com/")
    assert (auction.external_id, auction.price) == ("m98765432101", 41000)


def test_one_unreadable_item_is_skipped_and_counted_not_the_page(caplog):
    items = [
        {"id": "m1", "name": "ok", "price": "1000", "status": "ITEM_STATUS_ON_SALE"},
        {"id": "m2", "name": "broken", "price": "about 1000", "status": "ITEM_STATUS_ON_SALE"},
        {"id": "m3", "name": "", "price": "1000", "status": "ITEM_STATUS_ON_SALE"},
    ]
    page = mercari.parse(json.dumps({"items": items}))
    assert [r.external_id for r in page.records] == ["m1"]
    assert page.broken == 2
    assert "mercari: item 2 skipped, it could not be read" in caplog.text


@pytest.mark.parametrize(
    ("source", "body"),
    [
        (mercari, "<html>Just a moment...</html>"),
        (mercari, '{"error": "rate limited"}'),
        (paypay_fleamarket, "[]"),
        (yahoo_auctions, "<html><body>メンテナンス中</body></html>"),
        (rakuma, "<html><body>Access denied</body></html>"),
    ],
)
def test_a_page_that_changed_shape_is_a_clear_error_naming_the_source(source, body):
    with pytest.raises(PageShapeError, match=rf"^{source.CODE}: the page changed shape"):
        source.parse(body)


def test_yahoo_auctions_results_page():
    recorded_at = datetime(2022, 2, 27, 9, tzinfo=UTC).timestamp()
    page = yahoo_auctions.parse(fixture("yahoo_auctions/search_2022-02.html"), now=recorded_at)
    assert [r.external_id for r in page.records] == [
        "s1039793076", "s1039791085", "r1039797461", "x1039785922", "s1039795118"
    ]  # fmt: skip
    first = page.records[0]
    assert first.title == "【ポケモンカード】200/SM-P PROMO ピカチュウ プロモ 中古 ポケカ"
    assert first.price == 500
    assert first.url == "https://auctions.yahoo.co.jp/jp/auction/s1039793076"
    assert first.image_url.startswith("https://auc-pctr.c.yimg.jp/")
    assert first.listed_at == datetime.fromtimestamp(1645952230, tz=UTC)
    assert page.records[2].price == 5278
    # Once their end times have passed the auctions are skipped.
    at_first_end = yahoo_auctions.parse(
        fixture("yahoo_auctions/search_2022-02.html"), now=1646312004
    )
    assert "s1039793076" not in {r.external_id for r in at_first_end.records}
    a_year_on = recorded_at + 365 * 86400
    later = yahoo_auctions.parse(fixture("yahoo_auctions/search_2022-02.html"), now=a_year_on)
    assert (len(later.records), later.skipped) == (0, 5)


def test_yahoo_auctions_2026_cards_start_times_in_click_parameters_and_one_record_per_id():
    noon = datetime(2026, 8, 1, 12, tzinfo=UTC).timestamp()
    page = yahoo_auctions.parse(fixture("yahoo_auctions/search_2026-08_built_from_real.html"), noon)
    assert [r.external_id for r in page.records] == ["k1200000001", "1200000002"]
    assert (page.skipped, page.broken) == (1, 0)  # the ended one; the promoted repeat is dropped
    knit, denim = page.records
    assert knit.listed_at == datetime.fromtimestamp(1785580000, tz=UTC)
    assert knit.price == 12000  # the current price, not the buy-now price
    assert knit.title == "sacai サカイ ニット カーディガン"
    assert knit.image_url.startswith("https://auc-pctr.c.yimg.jp/")
    assert denim.url == "https://auctions.yahoo.co.jp/jp/auction/1200000002"
    assert (denim.image_url, denim.listed_at) == ("", datetime.fromtimestamp(1785570000, tz=UTC))


def test_yahoo_auctions_no_results_page_is_no_items():
    body = fixture("yahoo_auctions/no_results_2026-08_built_from_real.html")
    page = yahoo_auctions.parse(body.encode())
    assert (page.records, page.skipped, page.broken) == ([], 0, 0)
    assert yahoo_auctions.is_no_results_page(body.encode())
    assert not yahoo_auctions.is_no_results_page(b"<html><body>Not Found</body></html>")
    assert not yahoo_auctions.is_no_results_page(fixture("yahoo_auctions/search_2022-02.html"))


def test_paypay_fleamarket_open_items_with_both_time_forms():
    page = paypay_fleamarket.parse(fixture("paypay_fleamarket/search_built_from_docs.json"))
    assert [r.external_id for r in page.records] == ["z312345678", "z398765432"]
    assert page.skipped == 1  # sold
    first, second = page.records
    assert first.url == "https://paypayfleamarket.yahoo.co.jp/item/z312345678"
    assert (first.price, first.brand) == (18500, "sacai")
    assert first.listed_at == datetime(2026, 11, 23, 0, 41, 7, tzinfo=UTC)
    assert second.listed_at == datetime.fromtimestamp(1763858400, tz=UTC)
    assert (second.image_url, second.brand) == ("", None)
    assert page.next_page == "3"  # 240 available


def test_rakuma_results_page():
    page = rakuma.parse(fixture("rakuma/search_built_from_docs.html"))
    assert page.skipped == 1  # sold out
    first, second = page.records
    assert first.external_id == "0123456789abcdef0123456789abcdef"
    assert first.url == "https://item.fril.jp/0123456789abcdef0123456789abcdef"
    assert first.title == "sacai サカイ MA-1 ドッキング ブルゾン"
    assert (first.price, second.price) == (32000, 27800)
    assert first.image_url == "https://img.fril.jp/img/712345678/m/2123456789.jpg"


def test_paypay_fleamarket_search_page_with_yahoo_auctions_items_among_the_results():
    page = paypay_fleamarket.parse(
        fixture("paypay_fleamarket/search_page_2026-08_built_from_real.html")
    )
    assert [(r.market, r.external_id) for r in page.records] == [
        ("paypay_fleamarket", "z600000001"),
        ("yahoo_auctions", "h1200000005"),
        ("yahoo_auctions", "u1100000006"),
    ]
    assert page.skipped == 1  # sold
    shirt, knit, blouson = page.records
    assert shirt.url == "https://paypayfleamarket.yahoo.co.jp/item/z600000001"
    assert (shirt.price, shirt.brand) == (18500, "sacai")
    assert shirt.listed_at == datetime(2026, 8, 2, 6, 10, tzinfo=UTC)
    assert shirt.image_url.startswith("https://auc-pctr.c.yimg.jp/")
    assert knit.url == "https://auctions.yahoo.co.jp/jp/auction/h1200000005"
    assert (knit.price, knit.brand) == (4900, None)  # the current bid
    assert blouson.image_url == ""
    assert page.next_page == "4"  # 204 available


def test_paypay_fleamarket_no_results_page_is_no_items():
    body = fixture("paypay_fleamarket/no_results_page_2026-08_built_from_real.html")
    page = paypay_fleamarket.parse(body)
    assert (page.records, page.broken, page.next_page) == ([], 0, None)
    assert paypay_fleamarket.is_no_results_page(body.encode())
    empty_api = json.dumps({"totalResultsAvailable": 0, "offset": 0, "items": []})
    assert paypay_fleamarket.is_no_results_page(empty_api)
    assert not paypay_fleamarket.is_no_results_page('{"error": "not found"}')
    assert not paypay_fleamarket.is_no_results_page("<html><body>Not Found</body></html>")
    results = fixture("paypay_fleamarket/search_page_2026-08_built_from_real.html")
    assert not paypay_fleamarket.is_no_results_page(results)


def test_rakuma_real_page_copied_from_postalservice():
    page = rakuma.parse(fixture("rakuma/fril-search_junya_2025-09.html").encode())
    assert (len(page.records), page.skipped, page.broken) == (40, 0, 0)
    assert rakuma.following_page(None, page) == "2"  # 40 cards: a full page
    last = page.records[-1]
    assert re.fullmatch(r"[0-9a-f]{32}", last.external_id)
    assert last.url == f"https://item.fril.jp/{last.external_id}"
    assert last.image_url.startswith("https://img.fril.jp/img/")
    assert page.records[1].price == 19990
    assert all(r.title and r.price > 0 for r in page.records)


def test_rakuma_2026_cards_price_in_the_link_and_sold_cards_skipped():
    page = rakuma.parse(fixture("rakuma/search_2026_form_built_from_real.html"))
    assert (page.skipped, page.broken) == (1, 1)  # the sold card; the card with no price
    knit, denim = page.records
    assert knit.external_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert knit.url == "https://item.fril.jp/a1b2c3d4e5f60718293a4b5c6d7e8f90"
    assert (knit.title, knit.price) == ("sacai サカイ ニット ドッキング", 24800)
    assert knit.image_url == "https://img.fril.jp/img/900000001/m/3000000001.jpg?1785000000"
    assert (denim.title, denim.price) == ("KAPITAL キャピタル 14oz デニム", 15600)


def test_any_exception_reading_one_item_costs_that_item_only(caplog):
    def parse_item(item):
        if item == "sold":
            raise NotForSale
        if item == "bug":
            raise StopIteration  # what the Rakuma parser once raised on every real card
        if item == "worse":
            raise RuntimeError("a parser bug")
        return {"external_id": item, "title": "sacai knit", "price": 1000, "url": "https://e.jp/1"}

    page = parse_items("rakuma", ["r1", "bug", "sold", "worse", "r2", "r1"], parse_item, None)
    assert [r.external_id for r in page.records] == ["r1", "r2"]  # r1 once
    assert (page.skipped, page.broken) == (1, 2)
    assert "rakuma: item 4 skipped, it could not be read: RuntimeError: a parser bug" in caplog.text


@pytest.mark.parametrize(
    ("source", "body"),
    [
        (mercari, '{"items": [], "meta": "v1:1"}'),
        (paypay_fleamarket, '{"items": [], "offset": "first"}'),
    ],
)
def test_a_parser_failing_on_a_whole_page_is_the_page_shape_error(source, body):
    with pytest.raises(
        PageShapeError, match=rf"^{source.CODE}: the page changed shape: the parser"
    ):
        source.parse(body)
