"""A listing's sizes, category and condition read from its title, where the page does not state them.

The title is NFKC-folded first (full-width `Ｍ`, `２７．５ｃｍ`, half-width `ｼﾞｬｹｯﾄ`).

Sizes, each normalized (lib.vocabulary.normalize_size), once, in title order:
- after a size word (`サイズ`, `表記`, `size`, `sz`, then optionally `:`, `は`, `約`): a letter size,
  `F`/`FREE`/`フリー`, a number of one or two digits (`サイズ2`, `size 48`), `27.5cm`, `US9`,
  `W30`; several joined by `/`, `・` or `,` (`size 46/48`); not a shipping box's (`発送サイズ 60`);
- before `サイズ`: a letter size or a one- or two-digit number (`Mサイズ`, `48サイズ`), but not a
  shipping box (`宅急便 60サイズ`, `80サイズで発送`) nor a paper size (`A4サイズ`);
- anywhere: `27cm`/`27.5cm`/`27センチ` from 13 to 32 (shoes; not a measurement such as
  `着丈70cm`, `横30cm`, `30×20cm`), `US9`/`UK8`/`EU42`, waist `W30` (`W30L32` gives W30 only;
  `W30cm` is a width), `フリーサイズ`, `free size`, `one size`;
- a letter size standing alone (XS, S, M, L, XL, XXL, 2XL…, LL, and F, FREE) only in upper case
  and between spaces, brackets or `/ | ・ ,`: the M of `MA-1`, `M-65`, `M's` or `ジャケットM`
  is not one, nor the S of `ランク S`.
A bare number is never a size: years (`2019AW`, `19SS`), prices, counts (`3点セット`) and model
numbers (`CDG 2`) are not marked as sizes. Kids' heights (`130サイズ`) are three digits like
the shipping boxes, so they are left out.

Category, from garment words (Japanese anywhere, Latin ones as whole words, so the `ring` of
`string` does not count). Words written together form one compound whose last word is its head
(`デニムジャケット` and `ショルダーバッグ` are a jacket and a bag, as in Japanese and English the
head comes last); a word followed by 付き/付属/欠品 is a part, not the item (`コート ベルト付き`).
Among the compounds' heads the first wins, except that the words often used as a material or a
style (デニム, ニット, スウェット, ダウン, ショルダー; denim, knit, sweat) give way to any other
(`スウェット パンツ` is bottoms). Some words name no category and only stop a trap: スプリング,
ユニット, ダウンロード, ワンピース/ドレス (a dress is none of our categories) and the like;
ボタンダウン is a shirt, オフショルダー a top, ブーツカット bottoms, マウンテンパーカー outerwear
(a plain パーカー is a hoodie: tops). None without a garment word.

Condition, from Mercari's 状態 words, the first phrase in the text: 未使用に近い (and 新品同様, ほぼ新品,
ほぼ未使用) like_new, 目立った傷や汚れなし good, やや傷や汚れあり (also 多少/若干/少し) fair,
傷や汚れあり and 全体的に状態が悪い poor, 新品/未使用/新品未使用 new. The longer phrase is
checked first at each place, so 未使用に近い is not new and やや傷や汚れあり not poor; 新品 as a price
or a purchase (新品時, 新品定価, 新品で購入) and a denial (新品ではありません) are no condition.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lib.vocabulary import MAX_SIZES, normalize_size

# --- Sizes -------------------------------------------------------------------------------------

_LETTER = r"(?:[2-6]X[LS]|X{1,4}L|X{1,3}S|LL|S|M|L)"
# After or before a size word a size may also be Japanese 3L-6L or a free size.
_MARKED_LETTER = r"(?:[2-6]X[LS]|X{1,4}L|X{1,3}S|[3-6]L|LL|S|M|L|FREE|F|フリー)"
_NUMBER = r"\d{1,2}(?:\.\d)?"
# A number followed by one of these counts something (`サイズ違い 2枚`, `3点`), it is no size.
_COUNTER = r"(?:枚|点|個|着|本|足|組|冊|箱|年|月|日|回|円|万|千|色|種|%|mm|セット|パック)"
# One value after a size word, each form in its own group so that its label can be written.
_VALUE = (
    rf"(?:(?P<cm>{_NUMBER})\s?(?:cm|センチ)"
    rf"|(?P<system>US|UK|EU)\s?(?P<system_size>{_NUMBER})"
    r"|(?P<waist>W\d{2})(?:\s?L\d{2})?"
    rf"|(?P<number>{_NUMBER})(?!\s?{_COUNTER})"
    rf"|(?P<letter>{_MARKED_LETTER}))"
    r"(?![A-Za-z0-9.])"
)
_SIZE_WORD = re.compile(
    r"(?:(?<![A-Za-z])(?:size|sz\.?)|(?<!発送)(?<!梱包)(?<!配送)(?<!箱)サイズ(?:表記)?|表記)"
    rf"\s*(?:[:=]|は)?\s*(?:約\s*)?{_VALUE}",
    re.IGNORECASE,
)
_MORE_VALUES = re.compile(rf"\s?[/・,]\s?{_VALUE}", re.IGNORECASE)
_BEFORE_SIZE_WORD = re.compile(
    rf"(?<![A-Za-z0-9.])(?:(?P<number>\d{{1,2}})|(?P<letter>{_MARKED_LETTER}))\s?サイズ"
    r"(?!で?(?:発送|配送|梱包))",
    re.IGNORECASE,
)
_SHIPPING_BEFORE = re.compile(r"(?:宅急便|宅配便|ゆうパック|ゆうパケット|発送|配送|送料)\s*$")
_CENTIMETRES = re.compile(
    r"(?<![A-Za-z0-9.])(?P<cm>\d{2}(?:\.\d)?)\s?(?:cm|センチ)(?![A-Za-z])(?!\s?[×xX*])",
    re.IGNORECASE,
)
# A length just after one of these words is a measurement of the item, not its size.
_MEASUREMENT_BEFORE = re.compile(
    r"(?:丈|幅|高さ?|縦|横|奥行き?|マチ|長さ|全長|股下|股上|ウエスト|ヒップ|直径|周り?|ワタリ|[×x*])"
    r"\s*[:約]?\s*約?\s*$"
)
_SHOE_SYSTEM = re.compile(
    r"(?<![A-Za-z0-9])(?P<system>US|UK|EU)\s?(?P<size>\d{1,2}(?:\.5)?)(?![\d.])"
)
_WAIST = re.compile(
    r"(?<![A-Za-z0-9])(?P<waist>W(?:2[2-9]|3\d|4[0-8]))(?:\s?L\d{2})?(?![\d.])"
    r"(?!\s?(?:cm|mm|[×xX*]|[HD]\s?\d))",  # W30cm, W30×H20, W30 H20: a width
    re.IGNORECASE,
)
_FREE_SIZE = re.compile(r"フリーサイズ|(?<![A-Za-z])(?:free|one)\s?size(?![A-Za-z])", re.IGNORECASE)
# A letter size alone: between the start or a space, bracket or list mark, and the same after.
_STANDING_LETTER = re.compile(
    rf"(?<![^\s(\[【「『/|・,、<〈《〔])(?P<letter>{_LETTER}|FREE|F)(?![^\s()\[\]【】」』/|・,、>〉》〕!])"
)
_RANK_BEFORE = re.compile(r"(?:ランク|rank|grade|グレード|評価|状態)\s*:?\s*$", re.IGNORECASE)
_LOOK_BACK = 12  # characters read before a match to see what it follows


def _value_label(match: re.Match[str]) -> str:
    if match["cm"]:
        return f"{match['cm']}cm"
    if match["system"]:
        return f"{match['system'].upper()}{match['system_size']}"
    return match["waist"] or match["number"] or match["letter"]


def _found_sizes(text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of every size the rules find, in no particular order."""
    found: list[tuple[int, int, str]] = []
    for match in _SIZE_WORD.finditer(text):
        found.append((match.start(), match.end(), _value_label(match)))
        end = match.end()
        while more := _MORE_VALUES.match(text, end):
            found.append((end, more.end(), _value_label(more)))
            end = more.end()
    for match in _BEFORE_SIZE_WORD.finditer(text) if "サイズ" in text else ():
        if _SHIPPING_BEFORE.search(text, max(0, match.start() - _LOOK_BACK), match.start()):
            continue
        found.append((match.start(), match.end(), match["number"] or match["letter"]))
    for match in _CENTIMETRES.finditer(text):
        before = text[max(0, match.start() - _LOOK_BACK) : match.start()]
        if 13 <= float(match["cm"]) <= 32 and not _MEASUREMENT_BEFORE.search(before):
            found.append((match.start(), match.end(), f"{match['cm']}cm"))
    for match in _SHOE_SYSTEM.finditer(text):
        found.append((match.start(), match.end(), match["system"] + match["size"]))
    for match in _WAIST.finditer(text):
        found.append((match.start(), match.end(), match["waist"]))
    for match in _FREE_SIZE.finditer(text):
        found.append((match.start(), match.end(), "FREE"))
    for match in _STANDING_LETTER.finditer(text):
        if not _RANK_BEFORE.search(text, max(0, match.start() - _LOOK_BACK), match.start()):
            found.append((match.start(), match.end(), match["letter"]))
    return found


def _sizes(text: str) -> tuple[str, ...]:
    sizes: list[str] = []
    taken_until = -1
    # By start, the longer first: one stretch of the title gives one size (the M of `サイズ M`
    # is read once, whichever rule saw it).
    for start, end, label in sorted(_found_sizes(text), key=lambda found: (found[0], -found[1])):
        if start < taken_until:
            continue
        taken_until = end
        size = normalize_size(label)
        if size and size not in sizes:
            sizes.append(size)
    return tuple(sizes[:MAX_SIZES])


def sizes_in_title(title: str) -> tuple[str, ...]:
    """The sizes a title names, normalized, each once, in title order; () when none."""
    return _sizes(_fold(title))


# --- Category ----------------------------------------------------------------------------------

# Each category's words, space separated. Japanese ones match anywhere; Latin ones as whole
# words, singular or plural (`s`, `es`), a hyphen also written as a space or left out (T shirt).
_JAPANESE_WORDS: dict[str | None, str] = {
    "outerwear": "ジャケット コート ブルゾン ダウン ジャンパー スタジャン ライダース ジージャン"
    " アウター アノラック マウンテンパーカー マウンテンパーカ ダウンパーカー",
    "tops": "シャツ Tシャツ ロンT カットソー ブラウス タンクトップ トップス ニット セーター"
    " カーディガン スウェット パーカー パーカ ボタンダウン オフショルダー 半袖 長袖",
    "bottoms": "パンツ デニム ジーンズ ジーパン チノパン スラックス ショーツ スカート ボトムス"
    " ブーツカット",
    "footwear": "ブーツ スニーカー シューズ サンダル ローファー パンプス スリッポン モカシン 革靴 靴",
    "bags": "バッグ リュック リュックサック バックパック トート ショルダー クラッチ サコッシュ"
    " 鞄 カバン かばん",
    "accessories": "財布 ウォレット ベルト 帽子 ニット帽 キャップ ハット ビーニー ネックレス"
    " ペンダント リング 指輪 イヤリング ピアス ブレスレット バングル マフラー ストール スカーフ"
    " バンダナ ネクタイ サングラス メガネ 眼鏡 キーケース カードケース コインケース 名刺入れ"
    " 靴下 ソックス",
    # Words that hold a garment word but are none: read whole, they name no category.
    None: "スプリング ストリング ボーリング ボウリング カーリング フローリング ケータリング"
    " ヒアリング ユニット インストール ダウンロード カウントダウン ワンピース ドレス",
}
_LATIN_WORDS: dict[str | None, str] = {
    "outerwear": "jacket coat raincoat overcoat topcoat blouson parka anorak windbreaker ma-1",
    "tops": "shirt t-shirt tee knit sweater sweatshirt sweat hoodie hoody cardigan blouse pullover",
    # Plural only where the singular describes something else: short sleeves, a jean jacket.
    "bottoms": "pants denim jeans trousers shorts skirt slacks chinos bootcut sweatpants",
    "footwear": "boot sneaker shoe sandal loafer",
    "bags": "bag backpack rucksack tote handbag",
    "accessories": "wallet belt cap hat beanie necklace ring earring bracelet scarf muffler tie"
    " sunglass sunglasses",
    None: "tie-dye dress",
}
# Words as often a material or a style as the item: any other garment word wins over them.
_MODIFIERS = {
    "デニム",
    "ニット",
    "スウェット",
    "ダウン",
    "ショルダー",
    "半袖",
    "長袖",
    "denim",
    "knit",
    "sweat",
}


def _key(word: str) -> str:
    """How a word is looked up: lower case (tシャツ, JACKET), no hyphen or space (T shirt)."""
    return word.lower().replace("-", "").replace(" ", "")


_CATEGORY_OF = {
    _key(word): category
    for table in (_JAPANESE_WORDS, _LATIN_WORDS)
    for category, words in table.items()
    for word in words.split()
}


def _alternatives(table: dict[str | None, str]) -> str:
    """The table's words as one pattern, in lower case, built as a tree of their letters (`ダ(?:ウ
    ン(?:ロード|パーカー)?)`): the regex engine tries a few branches at each place, not every word,
    and a longer word is tried before its beginning (ダウンロード before ダウン)."""
    tree: dict[str, Any] = {}
    for words in table.values():
        for word in words.lower().split():
            node = tree
            for letter in word:
                node = node.setdefault(letter, {})
            node[""] = {}  # a word ends here

    def pattern(node: dict[str, Any]) -> str:
        branches = [
            ("[- ]?" if letter == "-" else re.escape(letter)) + pattern(rest)
            for letter, rest in sorted(node.items())
            if letter
        ]
        if not branches:
            return ""
        joined = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        if "" not in node:
            return joined
        return f"(?:{joined})?" if len(branches) == 1 else f"{joined}?"

    return pattern(tree)


# Matched in the lower-cased title (tシャツ, JACKET): case folding in the regex is slower.
_GARMENT = re.compile(
    rf"(?P<japanese>{_alternatives(_JAPANESE_WORDS)})"
    rf"|(?<![a-z])(?P<latin>{_alternatives(_LATIN_WORDS)})(?:e?s)?(?![a-z])"
)
_ATTACHED = re.compile(r"\s?(?:付き|付属|付|つき|欠品)")
# What separates two compounds; words with none of these between them are one compound.
_SEPARATOR = re.compile(r"[\s/|,、。・()\[\]【】「」『』<>〈〉《》〔〕!?×&+]")


def _category(text: str) -> str | None:
    text = text.lower()
    heads: list[str] = []  # the head word of each compound, in title order
    last_end = -1
    for match in _GARMENT.finditer(text):
        if _ATTACHED.match(text, match.end()):
            continue  # a coat's belt, a bag's pouch: a part sold with the item
        word = _key(match["japanese"] or match["latin"])
        if heads and not _SEPARATOR.search(text, last_end, match.start()):
            heads[-1] = word  # the same compound: its later word is its head
        else:
            heads.append(word)
        last_end = match.end()
    named = [word for word in heads if _CATEGORY_OF[word] is not None]
    chosen = next((word for word in named if word not in _MODIFIERS), None)
    if chosen is None and named:
        chosen = named[0]
    return None if chosen is None else _CATEGORY_OF[chosen]


def category_in_title(title: str) -> str | None:
    """The category the title's garment words name (the rules above), or None."""
    return _category(_fold(title))


# --- Condition ---------------------------------------------------------------------------------

_CONDITION = re.compile(
    r"(?P<like_new>未使用に近い|新品同様|ほぼ新品|ほぼ未使用|新品に近い)"
    r"|(?P<good>目立(?:った|つ)(?:傷|キズ)や?汚れ(?:は)?(?:なし|無し|ありません))"
    r"|(?P<fair>(?:やや|多少|若干|少し|少々)(?:傷|キズ)や?汚れ(?:あり|有り))"
    r"|(?P<poor>全体的に状態が悪い|(?:傷|キズ)や?汚れ(?:あり|有り)(?!ません))"
    r"|(?P<new>新品(?!時|定価|価格|で購入|購入|では|じゃ)|未使用(?!では|じゃ))"
)


def _condition(text: str) -> str | None:
    match = _CONDITION.search(text)
    return None if match is None else match.lastgroup


def condition_in_text(text: str) -> str | None:
    """The condition the first 状態 phrase in the text names (the rules above), or None."""
    return _condition(_fold(text))


# --- Filling a parsed item ---------------------------------------------------------------------


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def fill_from_title(item: dict[str, Any]) -> dict[str, Any]:
    """The item with sizes, category and condition read from its title where it states none
    (absent or None; for sizes also []). A value the page gave is never replaced; an item
    without a text title comes back unchanged."""
    title = item.get("title")
    if not isinstance(title, str):
        return item
    text = _fold(title)
    filled: dict[str, Any] = {}
    unstated_sizes = item.get("sizes") is None or item.get("sizes") == []
    if unstated_sizes and (sizes := _sizes(text)):
        filled["sizes"] = list(sizes)  # a list, as a record's sizes arrive
    if item.get("category") is None and (category := _category(text)):
        filled["category"] = category
    if item.get("condition") is None and (condition := _condition(text)):
        filled["condition"] = condition
    return {**item, **filled} if filled else item
