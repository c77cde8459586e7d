"""Realistic synthetic filters and listings for the benchmarks, seeded and repeatable.

Brand popularity follows a Zipf law: the shipped designer brands are the few very
popular ones, a long tail of 300 made-up labels is rarely followed. Most filters
(82%) name a brand and an item word and/or a model, as hunters do; 15% name only
a model (`geobasket`) across brands; 3% are brand-only. The `selective` profile
has every filter name a model. Listings mention a brand
in one of its spellings (Latin, katakana, half-width), item words, a size and noise.
`user_lines` turns the filters into `import_filters` input, one user a line.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from filters.index import IndexedFilter
from lib.markets import CHOOSABLE
from lib.vocabulary import CATEGORIES, CONDITIONS, SALE_TYPES, SELLER_TYPES

SHIPPED = [
    ("Rick Owens", ["リックオウエンス", "ﾘｯｸｵｳｴﾝｽ", "RICK OWENS"]),
    ("Comme des Garçons", ["COMME des GARCONS", "CDG", "コムデギャルソン"]),
    ("Yohji Yamamoto", ["ヨウジヤマモト", "YOHJI YAMAMOTO", "ﾖｳｼﾞﾔﾏﾓﾄ"]),
    ("Maison Margiela", ["Margiela", "マルジェラ", "メゾンマルジェラ"]),
    ("Issey Miyake", ["イッセイミヤケ", "ISSEY MIYAKE"]),
    ("Raf Simons", ["ラフシモンズ", "RAF SIMONS"]),
    ("Undercover", ["アンダーカバー", "UNDERCOVER"]),
    ("Number (N)ine", ["ナンバーナイン", "NUMBER NINE"]),
    ("Junya Watanabe", ["ジュンヤワタナベ", "JUNYA WATANABE"]),
    ("Kapital", ["キャピタル", "KAPITAL"]),
    ("Helmut Lang", ["ヘルムートラング", "HELMUT LANG"]),
    ("Sacai", ["サカイ", "sacai"]),
]
SYLLABLES = [
    "ka",
    "ra",
    "mi",
    "no",
    "to",
    "shi",
    "ze",
    "ru",
    "ho",
    "ta",
    "ne",
    "yu",
    "ko",
    "sa",
    "ri",
    "mo",
]
ITEMS = [
    "jacket",
    "coat",
    "boots",
    "sneakers",
    "pants",
    "shirt",
    "knit",
    "hoodie",
    "denim",
    "bag",
    "ジャケット",
    "コート",
    "ブーツ",
    "スニーカー",
    "パンツ",
    "シャツ",
    "ニット",
    "パーカー",
    "デニム",
    "バッグ",
    "レザー",
    "ウール",
    "カーゴ",
    "ライダース",
    "ブルゾン",
    "ベスト",
    "スカート",
    "財布",
    "ワイドパンツ",
    "セットアップ",
]
MODELS = [
    "geobasket",
    "ramones",
    "tabi",
    "足袋",
    "bondage",
    "riot",
    "pleats please",
    "bao bao",
    "kobe",
    "dunks",
    "ジオバスケット",
    "ラモーンズ",
    "プリーツプリーズ",
    "縮絨",
    "再構築",
    "アーカイブ",
    "本人期",
    "初期",
    "ボロ",
    "センチュリーデニム",
]
NOISE = [
    "美品",
    "正規品",
    "送料無料",
    "即購入OK",
    "黒",
    "白",
    "ブラック",
    "古着",
    "used",
    "vintage",
    "レア",
    "希少",
]
EXCLUDES = ["kids", "キッズ", "風", "fake", "ジャンク", "ノベルティ", "junk", "レプリカ"]
MARKETS = list(CHOOSABLE)


@dataclass(frozen=True)
class BenchListing:
    market: str
    title: str
    brand: str | None
    price: int
    condition: str | None = None
    sizes: tuple[str, ...] = ()
    category: str | None = None
    sale_type: str | None = None
    seller_type: str | None = None


SIZES = ["S", "M", "L", "XL", "1", "2", "3", "46", "48", "27cm", "28cm", "FREE"]


class Workload:
    def __init__(self, seed: int = 20261123, profile: str = "broad") -> None:
        """`broad`: the mix above. `selective`: every filter names a model, as
        seasoned hunters' filters do, so a listing alerts a handful of users."""
        self.rng = random.Random(seed)
        # The listing attributes and the filters' conditions on them draw from a stream of
        # their own, so the titles, prices and words stay those of earlier runs.
        self.attribute_rng = random.Random(seed + 1)
        self.profile = profile
        tail = []
        for _ in range(300):
            name = "".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))).capitalize()
            tail.append(
                (f"{name} {self.rng.choice(['Studio', 'Atelier', 'Works', 'Label', 'Tokyo'])}", [])
            )
        self.brands = SHIPPED + tail
        # Zipf weights: rank 1 is followed ~300x more than rank 300.
        self.weights = [1 / (rank + 1) for rank in range(len(self.brands))]

    def brand_rows(self) -> list[tuple[str, list[str]]]:
        return [(name, aliases) for name, aliases in self.brands]

    def _brand(self) -> tuple[str, list[str]]:
        return self.rng.choices(self.brands, weights=self.weights)[0]

    def filters(self, count: int, filters_per_user: int = 5) -> list[IndexedFilter]:
        rng = self.rng
        made = []
        for n in range(count):
            kind = rng.random()
            brands: list[str] = []
            keywords: list[str] = []
            if self.profile == "selective":
                brands = [self._brand()[0]] if kind >= 0.15 else []
                keywords = [rng.choice(MODELS), *rng.sample(ITEMS, rng.choice([0, 1]))]
            elif kind < 0.15:  # a model or two across all brands
                keywords = rng.sample(MODELS, rng.choice([1, 1, 2]))
            else:
                brands = [self._brand()[0] for _ in range(rng.choice([1, 1, 1, 2]))]
                if kind < 0.97:  # brand + item and/or model: the usual hunt
                    keywords = rng.sample(ITEMS, rng.choice([0, 1, 1])) + rng.sample(
                        MODELS, rng.choice([0, 1])
                    )
                    keywords = keywords or [rng.choice(MODELS)]
            low = rng.choice([None, None, rng.randrange(1000, 30000, 500)])
            high = rng.choice(
                [None, rng.randrange(5000, 60000, 1000), rng.randrange(30000, 300000, 1000)]
            )
            if low and high and low > high:
                low, high = high, low
            made.append(
                IndexedFilter(
                    id=n + 1,
                    owner_id=n // filters_per_user + 1,
                    brands=brands,
                    keywords=keywords,
                    exclude=rng.sample(EXCLUDES, rng.choice([0, 0, 1, 2])),
                    price_min=low,
                    price_max=high,
                    markets=rng.sample(MARKETS, rng.choice([0, 0, 0, 1, 2])),
                    **self._filter_attributes(),
                )
            )
        return made

    def _filter_attributes(self) -> dict:
        """A quarter of filters ask for conditions, sizes or a category, as fashion hunters
        do; a few for a sale or seller type or any-of words, some refusing unknowns."""
        rng = self.attribute_rng
        chosen: dict = {}
        if rng.random() < 0.25:
            chosen["conditions"] = rng.sample(list(CONDITIONS), rng.choice([1, 2, 3]))
        if rng.random() < 0.25:
            chosen["sizes"] = rng.sample(SIZES, rng.choice([1, 2]))
        if rng.random() < 0.2:
            chosen["categories"] = [rng.choice(list(CATEGORIES))]
        if rng.random() < 0.05:
            chosen["sale_types"] = [rng.choice(list(SALE_TYPES))]
        if rng.random() < 0.05:
            chosen["seller_types"] = [rng.choice(list(SELLER_TYPES))]
        if rng.random() < 0.05:
            chosen["keywords_any"] = rng.sample(ITEMS, 2)
        if chosen and rng.random() < 0.3:
            chosen["unknown_ok"] = False
        return chosen

    def listings(self, count: int) -> list[BenchListing]:
        rng = self.rng
        made = []
        for _ in range(count):
            words = []
            brand_field = None
            if rng.random() < 0.8:
                name, aliases = self._brand()
                words.append(rng.choice([name, *aliases]))
                if rng.random() < 0.4:
                    brand_field = name
            else:
                words.append(
                    rng.choice(["UNIQLO", "ユニクロ", "ZARA", "GU", "ノーブランド", "古着"])
                )
            words += rng.sample(ITEMS, rng.choice([1, 1, 2]))
            if rng.random() < 0.3:
                words.append(rng.choice(MODELS))
            if rng.random() < 0.1:
                words.append(rng.choice(EXCLUDES))
            words += rng.sample(NOISE, rng.choice([0, 1, 2]))
            words.append(rng.choice(["S", "M", "L", "1", "2", "3", "42", "27cm", "フリー"]))
            rng.shuffle(words[1:])
            price = int(min(2_000_000, max(300, rng.lognormvariate(9.9, 0.9))) // 100 * 100)
            made.append(
                BenchListing(
                    rng.choice(MARKETS), " ".join(words), brand_field, price, **self._stated()
                )
            )
        return made

    def _stated(self) -> dict:
        """What a listing's page states: most say a condition and a category, half a size."""
        rng = self.attribute_rng

        def sometimes(chance: float, values: list[str]) -> str | None:
            return rng.choice(values) if rng.random() < chance else None

        return {
            "condition": sometimes(0.8, list(CONDITIONS)),
            "sizes": tuple(rng.sample(SIZES, 1)) if rng.random() < 0.5 else (),
            "category": sometimes(0.7, list(CATEGORIES)),
            "sale_type": sometimes(0.95, list(SALE_TYPES)),
            "seller_type": sometimes(0.6, list(SELLER_TYPES)),
        }


def bench_discord_id(owner_id: int) -> str:
    """The Discord id of the benchmark's user `owner_id` (ids as real ones: 18 digits)."""
    return str(10**17 + owner_id)


def user_lines(filters: list[IndexedFilter]) -> Iterator[dict]:
    """The filters as `import_filters` reads them: one user a line with all their filters
    (the filters come grouped by owner, as `Workload.filters` makes them)."""
    line: dict | None = None
    for spec in filters:
        if line is None or line["discord_id"] != bench_discord_id(spec.owner_id):
            if line is not None:
                yield line
            line = {
                "discord_id": bench_discord_id(spec.owner_id),
                "username": f"bench{spec.owner_id}",
                "destination": {"kind": "dm"},
                "filters": [],
            }
        line["filters"].append(
            {
                "name": f"filter {spec.id}",
                "brands": list(spec.brands),
                "keywords": list(spec.keywords),
                "exclude": list(spec.exclude),
                "price_min": spec.price_min,
                "price_max": spec.price_max,
                "markets": list(spec.markets),
            }
        )
    if line is not None:
        yield line
