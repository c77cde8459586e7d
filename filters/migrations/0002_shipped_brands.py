"""The brand table shipped with the product; staff extend it in the admin."""

from django.db import migrations

from filters.text import normalize

SHIPPED_BRANDS = [
    ("Rick Owens", ["リックオウエンス"]),
    ("Comme des Garçons", ["comme des garcons", "CDG", "コムデギャルソン"]),
    ("Yohji Yamamoto", ["ヨウジヤマモト"]),
    ("Issey Miyake", ["イッセイミヤケ"]),
    ("Raf Simons", ["ラフシモンズ"]),
    ("Undercover", ["アンダーカバー"]),
    ("Number (N)ine", ["number nine", "ナンバーナイン"]),
    ("Junya Watanabe", ["ジュンヤワタナベ"]),
    ("Kapital", ["キャピタル"]),
    ("Maison Margiela", ["margiela", "マルジェラ", "メゾンマルジェラ"]),
    ("Helmut Lang", ["ヘルムートラング"]),
    ("Sacai", ["サカイ"]),
]


def add_brands(apps, schema_editor):
    Brand = apps.get_model("filters", "Brand")
    BrandAlias = apps.get_model("filters", "BrandAlias")
    for name, aliases in SHIPPED_BRANDS:
        brand, _ = Brand.objects.get_or_create(normalized=normalize(name), defaults={"name": name})
        for alias in aliases:
            if normalize(alias) != brand.normalized:
                BrandAlias.objects.get_or_create(
                    normalized=normalize(alias), defaults={"brand": brand, "alias": alias}
                )


class Migration(migrations.Migration):
    dependencies = [("filters", "0001_initial")]
    operations = [migrations.RunPython(add_brands, migrations.RunPython.noop)]
