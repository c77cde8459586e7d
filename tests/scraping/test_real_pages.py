"""Each source's parser over the real pages others recorded in 2024-2026, in ../shared/.

Those files may only be read from ../shared/fixtures/marketplaces/real/ (some
have no licence to be copied here), so these tests skip when it is absent; the
project's own fixtures in tests/fixtures/marketplaces/ copy their structure and
are tested in test_sources.py.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scraping.sources import mercari, paypay_fleamarket, rakuma, yahoo_auctions

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "marketplaces" / "real"
# Just after the newest listing on the Yahoo page started: no auction on it has ended yet.
YAHOO_RECORDED = datetime(2026, 8, 1, 3, 15, tzinfo=UTC).timestamp()
SITES = {
    "mercari": {"jp.mercari.com"},
    "yahoo_auctions": {"auctions.yahoo.co.jp"},
    "paypay_fleamarket": {"paypayfleamarket.yahoo.co.jp"},
    "rakuma": {"item.fril.jp"},
}


def real(path: str) -> str:
    if not REAL.is_dir():
        pytest.skip(f"the real pages are not here: {REAL} is absent (they live in ../shared/)")
    file = REAL / path
    if not file.is_file():
        pytest.skip(f"{path} is named in {REAL / 'README.md'} but is not in the folder")
    return file.read_text(encoding="utf-8")


def assert_every_field(page, market: str | None = None) -> None:
    """Every record has an id, a title, a positive yen price and an https URL of its own site."""
    assert page.records and page.broken == 0
    for record in page.records:
        where = record.market if market is None else market
        assert record.market == where
        assert record.external_id and record.title.strip()
        assert record.price > 0 and record.currency == "JPY"
        url = urlsplit(record.url)
        assert url.scheme == "https" and url.netloc in SITES[where], record.url
        assert record.external_id in record.url
        if record.image_url:
            assert urlsplit(record.image_url).scheme == "https"
    ids = [(r.market, r.external_id) for r in page.records]
    assert len(ids) == len(set(ids))  # one record per id


def test_mercari_postalservice_search_with_a_shops_item():
    page = mercari.parse(
        real("mercari/postalservice_search_comme_des_garcons_2024-10-21.json"),
        now=datetime(2024, 10, 21, tzinfo=UTC).timestamp(),
    )
    assert_every_field(page, "mercari")
    assert len(page.records) == 10
    assert any("/shops/product/" in r.url for r in page.records)


def test_rakuma_real_page_gives_all_40_cards_with_every_field():
    text = real("rakuma/postalservice_fril-search_junya_2025-09.html")
    page = rakuma.parse(text)
    assert_every_field(page, "rakuma")
    assert (len(page.records), page.skipped) == (40, 0)
    assert len(page.records) == rakuma.PAGE_SIZE  # a full page asks for the next one
    assert rakuma.following_page(None, page) == "2"
    assert all(re.fullmatch(r"[0-9a-f]{32}", r.external_id) for r in page.records)
    assert all(r.image_url.startswith("https://img.fril.jp/img/") for r in page.records)
    first = page.records[0]
    assert first.external_id == "7cb351238d96cb76355046eeb99704e7"
    assert first.url == "https://item.fril.jp/7cb351238d96cb76355046eeb99704e7"
    assert first.title == "ジュンヤワタナベ コムデギャルソン JUNYA WATANABE ニット"
    assert first.price == 38000
    assert first.image_url == "https://img.fril.jp/img/675806836/m/2217668655.jpg?1711496750"
    # The prices are the cards' own figures, in page order.
    shown = re.findall(r'<span data-content="(\d+)">', text)
    assert [r.price for r in page.records] == [int(p) for p in shown]


def test_yahoo_auctions_real_page_one_record_per_id_with_start_times():
    text = real("yahoo_auctions/ygosniper_yahoo_search_ok.html")
    page = yahoo_auctions.parse(text, now=YAHOO_RECORDED)
    assert_every_field(page, "yahoo_auctions")
    cards = re.findall(r'<div class="Product__bonus "\s+data-auction-id="(\w+)"', text)
    assert len(cards) == 53 and len(set(cards)) == 50  # 3 promoted repeats
    assert [r.external_id for r in page.records] == list(dict.fromkeys(cards))
    assert all(r.listed_at is not None for r in page.records)
    assert all(r.image_url.startswith("https://auc-pctr.c.yimg.jp/") for r in page.records)
    first = page.records[0]
    assert first.external_id == "s1238539612"
    assert first.title == "ARS10 遊戯王 はにわ 初期 Vol.1 PSA10相当"
    assert first.price == 3440  # the current price, not the buy-now 30,000 nor shipping
    assert first.url == "https://auctions.yahoo.co.jp/jp/auction/s1238539612"
    assert first.listed_at == datetime.fromtimestamp(1785081482, tz=UTC)
    digits_only = next(r for r in page.records if r.external_id == "1239234527")
    assert digits_only.url == "https://auctions.yahoo.co.jp/jp/auction/1239234527"
    assert digits_only.price == 1
    assert yahoo_auctions.following_page(None, page) == "51"  # a full page of 50


def test_yahoo_auctions_real_no_results_page_is_no_items():
    text = real("yahoo_auctions/ygosniper_yahoo_search_empty.html")
    page = yahoo_auctions.parse(text)
    assert (page.records, page.skipped, page.broken) == ([], 0, 0)
    assert yahoo_auctions.is_no_results_page(text)
    ok = real("yahoo_auctions/ygosniper_yahoo_search_ok.html")
    assert not yahoo_auctions.is_no_results_page(ok)


def paypay_result(text: str) -> dict:
    data = re.search(r'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', text, re.DOTALL)
    return json.loads(data.group(1))["props"]["initialState"]["searchState"]["search"]["result"]


def test_paypay_fleamarket_real_page_and_its_result_object():
    text = real("paypay_fleamarket/ygosniper_paypay_search_ok.html")
    result = paypay_result(text)
    statuses = Counter(item["itemStatus"] for item in result["items"])
    assert statuses == {"OPEN": 47, "SOLD": 53}
    # The page itself, and its result object as /api/v1/search would send it.
    for page in (paypay_fleamarket.parse(text), paypay_fleamarket.parse(json.dumps(result))):
        assert_every_field(page)
        assert (len(page.records), page.skipped) == (47, 53)
        assert page.next_page == "100"  # 531 available
        assert all(r.listed_at is not None for r in page.records)
        by_market = Counter(r.market for r in page.records)
        assert by_market == {"paypay_fleamarket": 45, "yahoo_auctions": 2}
        first = page.records[0]
        assert first.external_id == "z637920454"
        assert first.url == "https://paypayfleamarket.yahoo.co.jp/item/z637920454"
        assert (
            first.title
            == "大高騰中！コレクション入替 大特価♪ 遊戯王 高橋和希先生 書き下ろし サイン入②"
        )
        assert first.price == 3900
        assert first.listed_at == datetime.fromisoformat("2026-07-02T23:51:23+09:00")
        assert first.brand == "遊戯王オフィシャルカードゲーム デュエルモンスターズ"
        auction = next(r for r in page.records if r.external_id == "h1238186452")
        assert auction.market == "yahoo_auctions"
        assert auction.url == "https://auctions.yahoo.co.jp/jp/auction/h1238186452"
        assert auction.price == 4900  # the current bid
        assert {r.external_id for r in page.records if r.market == "yahoo_auctions"} == {
            "h1238186452",
            "u1189004656",
        }


def test_paypay_fleamarket_real_no_results_page_is_no_items():
    text = real("paypay_fleamarket/ygosniper_paypay_search_empty.html")
    page = paypay_fleamarket.parse(text)
    assert (page.records, page.skipped, page.broken, page.next_page) == ([], 0, 0, None)
    assert paypay_fleamarket.is_no_results_page(text)
    ok = real("paypay_fleamarket/ygosniper_paypay_search_ok.html")
    assert not paypay_fleamarket.is_no_results_page(ok)
