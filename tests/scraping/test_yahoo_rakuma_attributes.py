"""The listing attributes Yahoo! Auctions and Rakuma search cards state: sale and seller type,
seller id, an auction's end, bids and buy-now price, shipping, condition and category.

Real pages are read from ../shared/ through test_real_pages.real (skipped when absent); the
project's own hand-written fixtures copy their structure. What a card itself states is checked
on the parser's own dicts (`stated`); base.py may still fill sizes, category and condition
from the title, which the records show.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from scraping.html import parse_html
from scraping.sources import rakuma, yahoo_auctions
from scraping.sources.base import NotForSale
from tests.scraping.test_real_pages import YAHOO_RECORDED, assert_every_field, real

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "marketplaces"
# Just after the newest listing on the 2024 page started (1722782838): none has ended.
YAHOO_2024_RECORDED = datetime(2024, 8, 4, 14, 50, tzinfo=UTC).timestamp()


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8")


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def by_id(page) -> dict:
    return {record.external_id: record for record in page.records}


def stated(source, text: str, *args) -> dict[str, dict]:
    """Each readable card's dict as the source's parse_item gives it, by id."""
    tree = parse_html(text)
    cards = (
        tree.find_all("li", "Product")
        if source is yahoo_auctions
        else tree.find_all(class_="item-box")
    )
    found = {}
    for card in cards:
        try:
            item = source.parse_item(card, *args)
        except (NotForSale, ValueError):
            continue
        found[item["external_id"]] = item
    return found


# Yahoo! Auctions, the real page of 2026-08: 50 listings, all of individuals, 49 of them auctions.


def test_yahoo_real_page_auction_with_buy_now_bids_and_postage():
    page = yahoo_auctions.parse(
        real("yahoo_auctions/ygosniper_yahoo_search_ok.html"), YAHOO_RECORDED
    )
    card = by_id(page)["s1238539612"]
    assert card.sale_type == "auction"
    assert card.ends_at == at(1785679082)  # 2026-08-02 22:58:02 JST
    assert (card.bids, card.price, card.buy_now_price) == (11, 3440, 30000)
    assert card.shipping_included is False  # ＋送料230円
    assert (card.seller_type, card.seller_id) == ("individual", "13unCMsQyTixBUEkMisEyFbiSjw9t")
    assert card.condition is None  # 未使用に近い on its item page; the card shows no icon
    assert card.category == "other"  # おもちゃ、ゲーム > … > 遊戯王


def test_yahoo_real_page_free_shipping_unused_without_buy_now():
    page = yahoo_auctions.parse(
        real("yahoo_auctions/ygosniper_yahoo_search_ok.html"), YAHOO_RECORDED
    )
    card = by_id(page)["m1238496717"]
    assert (card.sale_type, card.ends_at) == ("auction", at(1785679413))
    assert (card.bids, card.buy_now_price) == (11, None)  # data-auction-buynowprice="0"
    assert card.shipping_included is True  # 送料無料
    assert card.condition == "new"  # the 未使用 icon
    assert card.seller_id == "2DTKVP64n2mCP7xRcFefhBkyrJrV5"
    most_bids = max(page.records, key=lambda r: r.bids or 0)
    assert (most_bids.external_id, most_bids.bids) == ("x1238667208", 54)
    # 送料未定: the buyer pays an amount not yet known.
    undecided = by_id(page)["v1239182381"]
    assert (undecided.shipping_included, undecided.buy_now_price) == (False, 4980)


def test_yahoo_real_page_buy_now_only_listing_is_fixed_price():
    page = yahoo_auctions.parse(
        real("yahoo_auctions/ygosniper_yahoo_search_ok.html"), YAHOO_RECORDED
    )
    fixed = [r for r in page.records if r.sale_type == "fixed"]
    assert [r.external_id for r in fixed] == ["u1222708735"]  # 現在 = 即決 = start, 3,500円
    (card,) = fixed
    assert card.price == 3500
    assert (card.ends_at, card.bids, card.buy_now_price) == (None, None, None)
    assert card.shipping_included is False  # ＋送料180円


def test_yahoo_real_page_counts_per_field():
    page = yahoo_auctions.parse(
        real("yahoo_auctions/ygosniper_yahoo_search_ok.html"), YAHOO_RECORDED
    )
    assert_every_field(page, "yahoo_auctions")
    records = page.records
    assert len(records) == 50
    assert all(r.seller_id for r in records)
    assert len({r.seller_id for r in records}) == 16
    # No store on this page: every card's data-auction-isshoppingitem is empty.
    assert Counter(r.seller_type for r in records) == {"individual": 50}
    assert Counter(r.sale_type for r in records) == {"auction": 49, "fixed": 1}
    auctions = [r for r in records if r.sale_type == "auction"]
    assert all(r.ends_at and r.ends_at > at(int(YAHOO_RECORDED)) for r in auctions)
    assert all(r.bids is not None for r in auctions)
    assert sum(r.buy_now_price is not None for r in records) == 12
    assert Counter(r.shipping_included for r in records) == {True: 30, False: 20}
    assert Counter(r.category for r in records) == {"other": 50}  # Yahoo's path: toys, games
    # The 未使用 icon is on 20 cards; no card states sizes.
    text = real("yahoo_auctions/ygosniper_yahoo_search_ok.html")
    items = stated(yahoo_auctions, text, YAHOO_RECORDED).values()
    assert Counter(item["condition"] for item in items) == {None: 30, "new": 20}
    assert not any("sizes" in item for item in items)


def next_data_item(text: str) -> dict:
    data = re.search(r'<script id="__NEXT_DATA__"[^>]*>(.*?)</script>', text, re.DOTALL)
    return json.loads(data.group(1))["props"]["pageProps"]["initialState"]["item"]["detail"]["item"]


def test_yahoo_real_cards_agree_with_their_item_pages():
    page = yahoo_auctions.parse(
        real("yahoo_auctions/ygosniper_yahoo_search_ok.html"), YAHOO_RECORDED
    )
    pages = {
        "s1238539612": "items/yahoo_auctions/ygo-sniper_yahoo_item_buyout_s1238539612_open_2026-08.html",
        "m1238496717": "items/yahoo_auctions/ygo-sniper_yahoo_item_bid_only_m1238496717_open_2026-08.html",
    }
    for auction_id, path in pages.items():
        item, card = next_data_item(real(path)), by_id(page)[auction_id]
        assert card.ends_at == datetime.fromisoformat(item["endTime"])
        assert (card.bids, card.buy_now_price) == (item["bids"], item.get("bidorbuy"))
        assert card.seller_id == item["seller"]["aucUserId"]
        assert (card.seller_type == "shop") is item["seller"]["isStore"]
        assert card.shipping_included is (item["chargeForShipping"] == "seller")
        assert (card.condition == "new") is (item["conditionName"] == "未使用")


# Yahoo! Auctions, a real page of 2024-08 (goods_hunter): stores and Yahoo!フリマ cards.


def test_yahoo_real_2024_page_stores_and_flea_market_cards():
    text = real("items/yahoo_auctions/goods_hunter_search_goodsList_2024-08.html")
    page = yahoo_auctions.parse(text, YAHOO_2024_RECORDED)
    assert (len(page.records), page.skipped, page.broken) == (50, 0, 0)
    stores = {r.external_id for r in page.records if r.seller_type == "shop"}
    assert stores == {
        "c1146764319", "c1047656652", "n1124435249", "u1113605382", "e1142434276", "v1146142529"
    }  # fmt: skip
    assert len(stores) == text.count('data-auction-isshoppingitem="1"')
    # A store's prices are shown with tax: the buy-now 605円, its attribute 550 without.
    store = by_id(page)["u1113605382"]
    assert (store.price, store.buy_now_price, store.seller_id) == (495, 605, "ryuden7")
    # Yahoo!フリマ cards are PayPay Fleamarket items, at a fixed price.
    flea = [r for r in page.records if r.market == "paypay_fleamarket"]
    assert [r.external_id for r in flea] == ["z324744540", "z280734798", "z298265080", "z262836674"]
    for record in flea:
        assert record.url == f"https://paypayfleamarket.yahoo.co.jp/item/{record.external_id}"
        assert (record.sale_type, record.shipping_included) == ("fixed", True)
        assert (record.ends_at, record.bids, record.seller_id) == (None, None, None)
    assert by_id(page)["z324744540"].condition == "new"
    # Before 2026 the seller id was the seller's Yahoo! ID.
    assert by_id(page)["n1147420517"].seller_id == "funafuna2000jp"
    assert by_id(page)["d1138144228"].shipping_included is None  # 送料は商品ページ参照
    assert Counter(r.sale_type for r in page.records) == {"auction": 34, "fixed": 16}


# Yahoo! Auctions, the project's own fixtures.


def test_yahoo_fixture_cards_give_each_attribute():
    noon = datetime(2026, 8, 1, 12, tzinfo=UTC).timestamp()
    page = yahoo_auctions.parse(
        fixture("yahoo_auctions/search_attributes_2026-08_built_from_real.html"), noon
    )
    assert (len(page.records), page.skipped, page.broken) == (5, 0, 0)
    shoes, bag, jacket, knit, toy = page.records
    assert (shoes.sale_type, shoes.ends_at, shoes.bids) == ("auction", at(1785900000), 7)
    assert (shoes.buy_now_price, shoes.shipping_included) == (30000, False)
    assert (shoes.seller_type, shoes.seller_id) == ("individual", "Zq3SellerOneOpaqueId0001")
    assert (shoes.category, shoes.condition) == ("footwear", None)

    assert (bag.seller_type, bag.price, bag.buy_now_price) == ("shop", 1100, 2200)
    assert (bag.shipping_included, bag.condition, bag.category) == (True, "new", "bags")
    assert bag.bids == 0

    assert (jacket.sale_type, jacket.price, jacket.shipping_included) == ("fixed", 18000, False)
    assert (jacket.ends_at, jacket.bids, jacket.buy_now_price) == (None, None, None)
    # メンズファッション (23176) does not say which kind; the title's ジャケット does.
    text = fixture("yahoo_auctions/search_attributes_2026-08_built_from_real.html")
    assert stated(yahoo_auctions, text, noon)["f1300000003"]["category"] is None
    assert jacket.category == "outerwear"

    assert knit.market == "paypay_fleamarket"
    assert knit.url == "https://paypayfleamarket.yahoo.co.jp/item/z300000004"
    assert (knit.sale_type, knit.shipping_included, knit.condition) == ("fixed", True, "new")
    assert (knit.seller_id, knit.seller_type) == (None, None)
    assert stated(yahoo_auctions, text, noon)["z300000004"]["category"] is None  # ファッション
    assert knit.category == "tops"  # the title's カーディガン
    assert knit.listed_at == at(1785550000)

    assert (toy.seller_id, toy.shipping_included) == ("toy_seller_05", None)
    assert (toy.buy_now_price, toy.bids, toy.category) == (None, 4, "other")


def test_yahoo_older_fixtures_say_less():
    recorded_at = datetime(2022, 2, 27, 9, tzinfo=UTC).timestamp()
    page = yahoo_auctions.parse(fixture("yahoo_auctions/search_2022-02.html"), now=recorded_at)
    cards = by_id(page)
    assert cards["s1039793076"].ends_at == at(1646312004)
    assert cards["s1039793076"].seller_id == "anonymous1"
    assert cards["s1039793076"].bids is None  # the 2022 cards show no bid count
    assert cards["r1039797461"].sale_type == "fixed"  # start = buy-now = 5,278円
    assert Counter(r.shipping_included for r in page.records) == {True: 2, None: 3}
    noon = datetime(2026, 8, 1, 12, tzinfo=UTC).timestamp()
    page = yahoo_auctions.parse(fixture("yahoo_auctions/search_2026-08_built_from_real.html"), noon)
    knit, denim = page.records
    assert (knit.buy_now_price, knit.bids, knit.seller_id) == (30000, 3, None)
    assert denim.buy_now_price is None  # 即決 0円


# Rakuma.


def test_rakuma_real_page_sellers_and_categories():
    text = real("rakuma/postalservice_fril-search_junya_2025-09.html")
    page = rakuma.parse(text)
    assert_every_field(page, "rakuma")
    records = page.records
    assert all(r.sale_type == "fixed" for r in records)
    assert all(r.seller_id for r in records) and len({r.seller_id for r in records}) == 16
    assert Counter(r.seller_type for r in records) == {"shop": 32, "individual": 8}
    # One business seller lists 18 of the 40.
    assert Counter(r.seller_id for r in records).most_common(1) == [("16092225", 18)]
    first = records[0]
    assert (first.seller_id, first.seller_type) == ("17405487", "individual")  # 一般
    assert (first.category, first.brand) == ("tops", "JUNYA WATANABE COMME des GARCONS")
    skirt = records[1]  # レディースのスカート(ロングスカート), from a 事業者
    assert (skirt.seller_id, skirt.seller_type, skirt.category) == ("20256905", "shop", "bottoms")
    for field in ("ends_at", "bids", "buy_now_price", "shipping_included"):
        assert all(getattr(r, field) is None for r in records), field
    items = stated(rakuma, text)
    assert len(items) == 40
    categories = Counter(item["category"] for item in items.values())
    # The dress (ワンピース) is none of our categories.
    assert categories == {"tops": 22, "bottoms": 8, "outerwear": 8, "bags": 1, None: 1}
    # No card states a condition or sizes: only titles do (サイズ M, 【美品】).
    assert not any({"condition", "sizes"} & item.keys() for item in items.values())


def test_rakuma_fixture_cards():
    page = rakuma.parse(fixture("rakuma/search_attributes_2025-09_built_from_real.html"))
    assert (len(page.records), page.broken) == (5, 0)
    tee, jacket, dress, cushion, pants = page.records
    assert (tee.seller_id, tee.seller_type, tee.category) == ("31000001", "individual", "tops")
    assert tee.brand == "sacai"
    assert (jacket.seller_type, jacket.category) == ("shop", "outerwear")  # (その他) dropped
    assert (dress.seller_id, dress.category) == ("31000002", None)  # a dress: none of ours
    text = fixture("rakuma/search_attributes_2025-09_built_from_real.html")
    # …/小物 is not the accessories' 小物.
    assert stated(rakuma, text)[cushion.external_id]["category"] is None
    # A cut-short analytics record: no seller, but the card's brand and the title's category.
    assert (pants.seller_id, pants.seller_type) == (None, None)
    assert (pants.brand, pants.category) == ("JUNYA WATANABE MAN", "bottoms")
    assert all(r.sale_type == "fixed" and r.shipping_included is None for r in page.records)


def test_rakuma_cards_without_analytics_give_what_they_have():
    page = rakuma.parse(fixture("rakuma/search_2026_form_built_from_real.html"))
    knit, denim = page.records
    assert (knit.category, knit.brand, knit.seller_id) == ("tops", "sacai", None)
    assert (denim.category, denim.brand) == ("bottoms", None)  # …のメンズのパンツ, no brand
    items = stated(rakuma, fixture("rakuma/search_built_from_docs.html")).values()
    assert [(item["category"], item["seller_type"], item["sale_type"]) for item in items] == [
        (None, None, "fixed"),
        (None, None, "fixed"),
    ]
