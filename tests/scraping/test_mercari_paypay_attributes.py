"""Mercari's and PayPay Fleamarket's listing attributes (condition, sizes, category, sale and
seller type, seller, auction fields, shipping) from the real pages in ../shared and our fixtures.

A field a parser leaves out may be filled from the title by base.py's fallback, so where a
test says "the page doesn't say", it looks at `parse_item`'s dict, not at the record.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import pytest

from scraping.sources import mercari, paypay_fleamarket
from tests.scraping.test_real_pages import paypay_result, real
from tests.scraping.test_sources import fixture

MERCARI_REAL = "mercari/postalservice_search_comme_des_garcons_2024-10-21.json"
MERCARI_RECORDED = datetime(2024, 10, 21, tzinfo=UTC).timestamp()
PAYPAY_REAL = "paypay_fleamarket/ygosniper_paypay_search_ok.html"
SHOPS_ITEM = "ZHoogkkHAkVkwfACrChNVW"


def on_sale(item: dict) -> dict:
    return {"id": "m1", "name": "item", "price": "1000", "status": "ITEM_STATUS_ON_SALE"} | item


def open_item(item: dict) -> dict:
    return {"id": "z1", "title": "item", "price": 1000, "itemStatus": "OPEN"} | item


# Mercari: the real search of 2024-10 (nine members' items and one Mercari Shops item).


def test_it_reads_each_real_mercari_items_condition_size_and_category():
    page = mercari.parse(real(MERCARI_REAL), now=MERCARI_RECORDED)
    assert (len(page.records), page.broken) == (10, 0)
    by_id = {r.external_id: r for r in page.records}
    assert Counter(r.condition for r in page.records) == {"good": 5, "like_new": 3, "fair": 2}
    tote = by_id["m43776722534"]  # コムデギャルソン トートバッグ, itemConditionId 4
    assert (tote.condition, tote.category) == ("fair", "bags")
    jacket = by_id["m35043879713"]  # COMME des GARÇONS HOMME ヴィンテージジャケット
    assert (jacket.condition, jacket.sizes, jacket.category) == ("good", ("S",), "outerwear")
    assert by_id["m76146058470"].category == "outerwear"  # HOMME PLUS 00AW Jacket
    assert by_id["m10991495749"].category == "outerwear"  # ハート ジャケット
    assert (by_id["m55515093695"].sizes, by_id["m55515093695"].category) == (("M",), "tops")
    shirt = by_id["m32694745382"]  # 長袖 シャツ, Mercari's size "XS(SS)"
    assert (shirt.sizes, shirt.category) == (("XS", "SS"), "tops")
    assert by_id["m83543244879"].category == "bottoms"  # スウェット パンツ
    assert by_id["m61904499198"].condition == "like_new"


def test_the_real_mercari_pages_own_data_leaves_some_fields_unsaid():
    items = {item["id"]: item for item in json.loads(real(MERCARI_REAL))["items"]}
    tote = mercari.parse_item(items["m43776722534"], MERCARI_RECORDED)
    assert "sizes" not in tote  # itemSizes [] and itemSize null
    for unclear in ("m32742578858", "m61904499198"):  # a skirt-and-shirt set; reworked denim
        assert "category" not in mercari.parse_item(items[unclear], MERCARI_RECORDED)
    assert not {"ends_at", "bids", "buy_now_price"} & set(tote)


def test_the_real_mercari_shops_item_is_a_shop_and_the_members_are_individuals():
    raw = {item["id"]: item for item in json.loads(real(MERCARI_REAL))["items"]}
    page = mercari.parse(real(MERCARI_REAL), now=MERCARI_RECORDED)
    shops = next(r for r in page.records if r.external_id == SHOPS_ITEM)
    assert shops.seller_type == "shop"
    assert shops.url == f"https://jp.mercari.com/shops/product/{SHOPS_ITEM}"
    assert shops.seller_id is None  # its sellerId is "0" and it carries no shop id
    assert shops.shipping_included is None  # shippingPayerId "0"
    assert (shops.condition, shops.category) == ("like_new", "tops")  # 半袖, categoryId 302
    members = [r for r in page.records if r.external_id != SHOPS_ITEM]
    assert {r.seller_type for r in members} == {"individual"}
    assert [r.seller_id for r in members] == [raw[r.external_id]["sellerId"] for r in members]
    assert {r.sale_type for r in page.records} == {"fixed"}
    assert all(r.ends_at is None and r.bids is None for r in page.records)
    # The buyer pays shipping for one item (shippingPayerId 1); the seller for the others.
    assert [r.external_id for r in members if r.shipping_included is False] == ["m61904499198"]
    assert sum(r.shipping_included is True for r in members) == 8


# Mercari: our fixtures (real recordings of 2022-2023 and a Shops/auction file built from docs).


def test_it_maps_the_conditions_and_sellers_of_a_recorded_mercari_search():
    raw = json.loads(fixture("mercari/search_sort_created_desc_sharpnel_2023-12-02.json"))
    page = mercari.parse(json.dumps(raw))
    assert Counter(r.condition for r in page.records) == {
        "fair": 8,
        "good": 6,
        "like_new": 2,
        "poor": 2,
        "new": 1,
    }
    sellers = {i["id"]: i["sellerId"] for i in raw["items"]}
    assert all(r.seller_id == sellers[r.external_id] for r in page.records)
    assert len({r.seller_id for r in page.records}) == 11
    assert {(r.sale_type, r.seller_type, r.shipping_included) for r in page.records} == {
        ("fixed", "individual", True)
    }
    first = page.records[0]
    assert (first.external_id, first.condition, first.seller_id) == (
        "m67454606048",
        "poor",
        "308791445",
    )
    # Its items are CDs (categoryIds 694-700): no category we know.
    on_sale = [i for i in raw["items"] if i["status"] == "ITEM_STATUS_ON_SALE"]
    assert not any("category" in mercari.parse_item(i, 0) for i in on_sale)


def test_older_mercari_items_without_sizes_or_categories_still_give_their_condition():
    body = fixture("mercari/search_price_5000_10000_sharpnel_2022-08-07.json")
    page = mercari.parse(body)
    assert page.broken == 0
    assert Counter(r.condition for r in page.records) == {
        "fair": 11,
        "good": 3,
        "like_new": 1,
        "poor": 1,
    }
    assert all(r.seller_id and r.shipping_included for r in page.records)
    on_sale = [i for i in json.loads(body)["items"] if i["status"] == "ITEM_STATUS_ON_SALE"]
    assert not any({"sizes", "category"} & set(mercari.parse_item(i, 0)) for i in on_sale)


def test_a_mercari_shops_item_and_an_auction_from_the_documented_format():
    on_the_23rd = datetime(2026, 11, 23, tzinfo=UTC).timestamp()
    body = fixture("mercari/search_shops_and_auctions_built_from_docs.json")
    shops, auction = mercari.parse(body, now=on_the_23rd).records
    assert (shops.seller_type, shops.seller_id) == ("shop", "aBcDeFgHiJkLmNoPqRsTuV")  # shop.id
    assert (shops.condition, shops.sizes, shops.category) == ("new", ("L",), "tops")
    assert (shops.sale_type, shops.shipping_included) == ("fixed", None)
    assert auction.sale_type == "auction"
    assert auction.ends_at == datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert (auction.bids, auction.buy_now_price, auction.price) == (4, None, 41000)
    assert (auction.seller_type, auction.seller_id) == ("individual", "512345678")
    assert (auction.condition, auction.sizes, auction.shipping_included) == (
        "good",
        ("27cm",),
        False,
    )
    item = json.loads(body)["items"][1]
    assert "category" not in mercari.parse_item(item, on_the_23rd)  # categoryId 99999: unknown


@pytest.mark.parametrize(
    ("condition_id", "condition"),
    [("1", "new"), ("2", "like_new"), ("3", "good"), (4, "fair"), ("5", "poor"), ("6", "poor")],
)
def test_mercari_condition_ids(condition_id, condition):
    assert (
        mercari.parse_item(on_sale({"itemConditionId": condition_id}), 0)["condition"] == condition
    )


def test_mercari_sizes_seller_ids_and_shipping_payers():
    def parsed(**fields):
        return mercari.parse_item(on_sale(fields), 0)

    assert parsed(itemSizes=[{"id": "5", "name": "XL(LL)"}])["sizes"] == ["XL", "LL"]
    assert parsed(itemSizes=[], itemSize={"id": "9", "name": "FREE SIZE"})["sizes"] == ["FREE SIZE"]
    assert parsed(itemSizes=[{"name": "26.5cm"}, {"name": "27cm"}])["sizes"] == ["26.5cm", "27cm"]
    assert parsed(itemSize={"name": "4XL(5L)以上"})["sizes"] == ["4XL(5L)以上"]
    assert "seller_id" not in parsed(sellerId="0")
    shops = {"itemType": "ITEM_TYPE_BEYOND", "sellerId": "0"}
    assert parsed(**shops, shop={"id": "x9ShopId"})["seller_id"] == "x9ShopId"
    assert "seller_id" not in parsed(**shops, shop=None)
    assert [parsed(shippingPayerId=payer).get("shipping_included") for payer in "210"] == [
        True,
        False,
        None,
    ]


# PayPay Fleamarket: the real search page of 2026-08 (47 open items, two of them Yahoo! Auctions').


def test_it_reads_each_real_paypay_items_condition_category_and_seller():
    text = real(PAYPAY_REAL)
    raw = {item["id"]: item for item in paypay_result(text)["items"]}
    for page in (
        paypay_fleamarket.parse(text),
        paypay_fleamarket.parse(json.dumps(paypay_result(text))),
    ):
        assert (len(page.records), page.broken) == (47, 0)
        # new → new, used10 → like_new, used20 → good, used40 → fair, used60/used80 → poor.
        assert Counter(r.condition for r in page.records) == {
            "new": 14,
            "poor": 12,
            "good": 10,
            "like_new": 6,
            "fair": 5,
        }
        wanted = paypay_fleamarket.CONDITIONS
        assert all(r.condition == wanted[raw[r.external_id]["condition"]] for r in page.records)
        first = page.records[0]
        assert (first.external_id, first.condition) == ("z637920454", "poor")  # used60
        assert first.seller_id == "p70441416"
        # Trading cards, collectables, toys and packing bags: none of them clothing.
        assert {r.category for r in page.records} == {"other"}
        own = [r for r in page.records if r.market == "paypay_fleamarket"]
        assert len(own) == 45 and all(r.seller_id == raw[r.external_id]["sellerId"] for r in own)
        assert all(r.seller_id.startswith("p") for r in own)
        assert {(r.sale_type, r.ends_at) for r in own} == {("fixed", None)}
        # The page says nothing of shipping or of shops.
        assert {(r.seller_type, r.shipping_included) for r in page.records} == {(None, None)}


def test_the_real_paypay_pages_yahoo_auctions_items_are_auctions_ending_at_their_end_time():
    page = paypay_fleamarket.parse(real(PAYPAY_REAL))
    auctions = {r.external_id: r for r in page.records if r.market == "yahoo_auctions"}
    assert set(auctions) == {"h1238186452", "u1189004656"}
    cards = auctions["h1238186452"]
    assert (cards.sale_type, cards.price, cards.condition) == ("auction", 4900, "poor")
    assert cards.ends_at == datetime.fromisoformat("2026-08-05T20:09:30+09:00")
    assert auctions["u1189004656"].ends_at == datetime.fromisoformat("2026-08-08T00:04:42+09:00")
    assert auctions["u1189004656"].condition == "new"
    # PayPay's p… id is not a Yahoo! Auctions seller id; bids and buy-now are not on the page.
    assert all(
        (r.seller_id, r.bids, r.buy_now_price) == (None, None, None) for r in auctions.values()
    )


# PayPay Fleamarket: our fixtures.


def test_paypay_items_of_our_search_page_fixture():
    page = paypay_fleamarket.parse(
        fixture("paypay_fleamarket/search_page_2026-08_built_from_real.html")
    )
    shirt, knit, blouson = page.records
    assert (shirt.condition, shirt.category, shirt.sale_type) == ("like_new", "tops", "fixed")
    assert shirt.seller_id == "p10000001"
    assert (knit.market, knit.sale_type, knit.condition, knit.category) == (
        "yahoo_auctions",
        "auction",
        "good",
        "tops",
    )
    assert knit.ends_at == datetime(2026, 8, 5, 11, tzinfo=UTC)
    assert knit.seller_id is None
    assert (blouson.condition, blouson.category, blouson.sale_type) == (
        "new",
        "outerwear",
        "auction",
    )


def test_paypay_items_of_our_api_fixture():
    body = fixture("paypay_fleamarket/search_built_from_docs.json")
    first, second = paypay_fleamarket.parse(body).records
    assert (first.condition, first.category, first.seller_id) == ("like_new", "tops", "p31234567")
    assert (first.sale_type, first.seller_type, first.shipping_included) == ("fixed", None, None)
    bare = paypay_fleamarket.parse_item(json.loads(body)["items"][1])
    assert second.external_id == bare["external_id"] == "z398765432"
    assert not {"condition", "category", "seller_id", "sizes"} & set(bare)


@pytest.mark.parametrize(
    ("code", "condition"),
    [
        ("new", "new"),
        ("used10", "like_new"),
        ("used20", "good"),
        ("used40", "fair"),
        ("used60", "poor"),
        ("used80", "poor"),
    ],
)
def test_paypay_condition_codes(code, condition):
    assert paypay_fleamarket.parse_item(open_item({"condition": code}))["condition"] == condition


def test_an_unknown_paypay_condition_is_left_out():
    assert "condition" not in paypay_fleamarket.parse_item(open_item({"condition": "USED_X"}))


def path(*names: str) -> dict:
    levels = [{"id": 900000 + n, "name": name} for n, name in enumerate(names)]
    return {
        "id": levels[-1]["id"],
        "name": names[-1],
        "path": [{"id": 1, "name": "shopping"}, *levels],
    }


@pytest.mark.parametrize(
    ("category", "ours"),
    [
        (path("ファッション", "メンズファッション", "トップス", "Tシャツ、カットソー"), "tops"),
        (
            path("ファッション", "メンズファッション", "ジャケット、アウター", "ダウンベスト"),
            "outerwear",
        ),
        (
            path("ファッション", "メンズファッション", "パンツ、ボトムス", "スウェットパンツ"),
            "bottoms",
        ),
        (path("ファッション", "メンズシューズ", "スニーカー"), "footwear"),
        (path("ファッション", "メンズファッション", "靴下、レッグウェア"), "accessories"),
        (path("ファッション", "ファッション小物", "帽子", "ニット帽"), "accessories"),
        (path("ファッション", "バッグ", "トートバッグ"), "bags"),
        (path("ファッション", "レディースファッション", "ワンピース"), None),
        (
            {
                "id": 2420,
                "name": "トレーディングカード",
                "path": [{"id": 2511, "name": "ゲーム、おもちゃ"}],
            },
            "other",
        ),
        ({"id": 6, "name": "OPP袋", "path": [{"id": 2503, "name": "DIY、工具"}]}, "other"),
        (
            {"id": 7, "name": "作業ジャンパー", "path": [{"id": 2503, "name": "DIY、工具"}]},
            "outerwear",
        ),
        ({"id": 8, "name": "スマホケース", "path": [{"id": 2502, "name": "スマホ"}]}, None),
        (None, None),
    ],
)
def test_paypay_category_paths(category, ours):
    assert paypay_fleamarket.category_of(category) == ours
