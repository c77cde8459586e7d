"""Sizes, category and condition read from a listing's title, and the marketplace parsers using them."""

from __future__ import annotations

import pytest

from scraping.sources.base import parse_items
from scraping.title_attributes import (
    category_in_title,
    condition_in_text,
    fill_from_title,
    sizes_in_title,
)


@pytest.mark.parametrize(
    ("title", "sizes"),
    [
        ("COMME des GARÇONS HOMME ヴィンテージジャケット sサイズ", ("S",)),
        ("sacai サカイ ドッキング ニット カーディガン サイズ2", ("2",)),
        ("ＪＵＮＹＡ　ＷＡＴＡＮＡＢＥ　ジャケット　サイズＭ", ("M",)),  # full-width
        ("Maison Margiela ここのえ ジャケット ４８サイズ", ("48",)),
        ("ACNE STUDIOS パーカー size M 黒", ("M",)),
        ("Stone Island Size:L ブルゾン", ("L",)),
        ("Rick Owens DRKSHDW sz 48 パンツ", ("48",)),
        ("Maison Margiela 八の字 ニット サイズ：46/48", ("46", "48")),
        ("JUNYA WATANABE ロングスカート マルチカラー サイズ M 正規品 / 51516", ("M",)),
        ("JUNYA WATANABE MAN カジュアルシャツ XS ピンク 【古着】【中古】【送料無料】", ("XS",)),
        ("【美品】 JUNYA WATANABE MAN | 2023AW | キルティング ジャケット | M | グレー |", ("M",)),
        ("あの花 本間芽衣子(めんま) Tシャツ(XL)", ("XL",)),
        ("コムデギャルソン シャツ XS(SS) 白", ("XS",)),
        ("Levi's 501 W30L32 デニム", ("W30",)),
        ("NIKE エアジョーダン1 27.5cm US9.5 シカゴ", ("27.5cm", "US9.5")),
        ("ナイキ ダンク スニーカー US 9", ("US9",)),
        ("Dr.Martens 8ホール ブーツ UK8", ("UK8",)),
        ("NEW BALANCE 990v5 ２７ｃｍ", ("27cm",)),
        ("ユニクロ ウール フリーサイズ スカート", ("FREE",)),
        ("ニット帽 ビーニー FREE", ("FREE",)),
        ("Supreme Box Logo Hooded Sweatshirt size XL/XXL", ("XL", "XXL")),
        ("sacai ニット サイズ 2 2019AW", ("2",)),
    ],
)
def test_it_finds_the_sizes_a_title_names(title, sizes):
    assert sizes_in_title(title) == sizes


@pytest.mark.parametrize(
    "title",
    [
        "sacai サカイ 2019AW ドッキング ブルゾン",
        "UNDERCOVER 19SS Tシャツ",
        "kolor 2024SS パンツ",
        "ALPHA INDUSTRIES MA-1 フライトジャケット",
        "米軍 M-65 フィールドジャケット",
        "THE NORTH FACE N-3B ダウンコート",
        "COMME des GARCONS CDG 2 トートバッグ",
        "定価¥12000 ジャケット",
        "古着 Tシャツ 3点セット まとめ売り",
        "めんま フィギュア 宅急便 60サイズ",
        "ぬいぐるみ 80サイズで発送",
        "A4サイズ トートバッグ",
        "ニット 着丈70cm 身幅55cm",
        "PORTER ショルダーバッグ W30×H20cm",
        "レザートート W28 H15 D10",
        "L.L.Bean トートバッグ",
        "Levi's 501 ジーンズ",
        "Tシャツ サイズ違い 2枚",
        "ヴィトン 財布 ランク S",
        "遊戯王 ブラック・マジシャン PSA10 世界に5枚",
        "ポケモンカード 200/SM-P PROMO ピカチュウ",
        "ユニセックスS Tシャツ",  # a letter glued to a word is not read
    ],
)
def test_years_model_numbers_prices_counts_and_measurements_are_no_size(title):
    assert sizes_in_title(title) == ()


@pytest.mark.parametrize(
    ("title", "category"),
    [
        ("コムデギャルソン トートバッグ ドット柄 コットン", "bags"),
        ("COMME des GARCONS HOMME PLUS 00AW Jacket", "outerwear"),
        ("JUNYA WATANABE コムデギャルソン 変形カーディガン 3D ウール", "tops"),
        ("コムデギャルソン ジュンヤワタナベ 長袖 シャツ XS 白 綿", "tops"),
        ("junya watanabe man levi's 解体再構築デニム", "bottoms"),
        ("AD1989 コム デ ギャルソン / アシンメトリーラップ スウェット パンツ", "bottoms"),
        ("ジュンヤワタナベマン×リーバイス デニム コムデギャルソンJUNYA ジャケット", "outerwear"),
        ("KAPITAL キャピタル デニムジャケット", "outerwear"),
        ("Rick Owens リックオウエンス ブーツ", "footwear"),
        ("sacai サカイ レザー スニーカー", "footwear"),
        ("PORTER ポーター タンカー ショルダーバッグ", "bags"),
        ("お財布ショルダー レザー", "bags"),
        ("ボタンダウンシャツ オックスフォード", "tops"),  # the ダウン of a shirt's collar
        ("BD ボタンダウン 長袖", "tops"),
        ("オフショルダー ニット", "tops"),
        ("ノースフェイス ダウンジャケット ヌプシ", "outerwear"),
        ("マウンテンパーカー ゴアテックス", "outerwear"),
        ("ジップパーカー 裏起毛", "tops"),  # a パーカー is a hoodie
        ("Levi's 517 ブーツカット", "bottoms"),
        ("ニット帽 ビーニー", "accessories"),
        ("スプリングコート ベージュ", "outerwear"),  # the リング of spring
        ("バーバリー トレンチコート ベルト付き", "outerwear"),  # the belt is a part
        ("Chrome Hearts string ring", "accessories"),  # the ring, not the string
        ("Guitar string set", None),
        ("Supreme Tie-Dye Tee", "tops"),
        ("ヴィトン 長財布 モノグラム", "accessories"),
        ("ジュンヤワタナベ バックパックカスタマイズドレスワンピース", None),  # a dress
        ("遊戯王 スターダストドラゴン シークレット", None),
        ("Supreme / JUNYA WATANABE Jaket L", None),  # misspelt: no garment word
    ],
)
def test_it_reads_the_category_from_the_garment_words(title, category):
    assert category_in_title(title) == category


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("新品未使用 Tシャツ", "new"),
        ("【新品・未使用品】 ニット", "new"),
        ("未使用 タグ付き ジャケット", "new"),
        ("未使用に近い コート", "like_new"),
        ("新品同様 スニーカー", "like_new"),
        ("ほぼ新品 バッグ", "like_new"),
        ("状態：目立った傷や汚れなし", "good"),
        ("やや傷や汚れあり", "fair"),
        ("多少傷や汚れあり 古着", "fair"),
        ("傷や汚れあり ジャンク", "poor"),
        ("全体的に状態が悪い", "poor"),
        ("新品時定価3万円 ジャケット", None),
        ("新品で購入 数回着用", None),
        ("傷や汚れありません", None),
        ("JUNYA WATANABE カジュアルシャツ 【古着】【中古】", None),
    ],
)
def test_it_reads_the_condition_longer_phrases_first(text, condition):
    assert condition_in_text(text) == condition


def test_fill_from_title_fills_only_what_the_page_left_unstated():
    title = "新品未使用 JUNYA WATANABE デニムパンツ サイズ M"
    assert fill_from_title({"title": title}) == {
        "title": title,
        "sizes": ["M"],
        "category": "bottoms",
        "condition": "new",
    }
    stated = {"title": title, "sizes": ["L"], "category": "outerwear", "condition": "fair"}
    assert fill_from_title(stated) == stated
    unstated = {"title": title, "sizes": [], "category": None, "condition": None}
    assert fill_from_title(unstated) == {
        **unstated,
        "sizes": ["M"],
        "category": "bottoms",
        "condition": "new",
    }


@pytest.mark.parametrize(
    "item",
    [{}, {"title": None}, {"title": 12000}, {"title": "遊戯王 カード"}],
)
def test_fill_from_title_leaves_an_item_with_no_text_title_or_nothing_in_it_alone(item):
    assert fill_from_title(dict(item)) == item


def test_parse_items_fills_a_size_from_the_title_and_keeps_the_pages_own():
    def parse_item(card: dict) -> dict:
        item = {
            "external_id": card["id"],
            "title": card["name"],
            "price": 9800,
            "url": f"https://jp.mercari.com/item/{card['id']}",
        }
        if "size" in card:
            item["sizes"] = [card["size"]]
        return item

    cards = [
        {"id": "m1", "name": "JUNYA WATANABE MAN カジュアルシャツ S ピンク"},
        {"id": "m2", "name": "JUNYA WATANABE MAN カジュアルシャツ S ピンク", "size": "M"},
    ]
    page = parse_items("mercari", cards, parse_item, None)
    assert [record.sizes for record in page.records] == [("S",), ("M",)]
    assert [record.category for record in page.records] == ["tops", "tops"]
