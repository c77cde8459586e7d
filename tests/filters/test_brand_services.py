"""The brand table's rules: one spelling, one brand; every write reaches matching at once."""

from __future__ import annotations

import pytest

from filters.brand_services import (
    add_alias,
    create_brand,
    delete_aliases,
    delete_brands,
    rename_alias,
    rename_brand,
)
from filters.matching import index_stamp
from filters.models import Brand, BrandAlias
from lib.errors import FieldError
from scraping.ingest import ingest_listings
from tests.builders import listing, make_filter, make_user

pytestmark = pytest.mark.django_db


def refused(call, *args) -> FieldError:
    with pytest.raises(FieldError) as caught:
        call(*args)
    return caught.value


def test_a_new_brand_named_as_an_existing_alias_is_refused():
    error = refused(create_brand, "リックオウエンス")
    assert (error.field, error.message) == (
        "name",
        "“リックオウエンス” is already an alias of Rick Owens.",
    )
    # Compared as matching reads it: case, width and accents do not make it new.
    assert (
        refused(create_brand, "ｃｄｇ").message
        == "“ｃｄｇ” is already an alias of Comme des Garçons."
    )
    assert refused(create_brand, "SACAI").message == "“SACAI” is already the brand Sacai."
    assert not Brand.objects.filter(name__in=["リックオウエンス", "ｃｄｇ", "SACAI"]).exists()


def test_an_alias_may_not_be_its_own_brands_name_or_another_brands_spelling():
    rick = Brand.objects.get(name="Rick Owens")
    assert refused(add_alias, rick, "rick owens").message == (
        "“rick owens” is the brand's own name; an alias is another way to write it."
    )
    assert refused(add_alias, rick, "Sacai").message == "“Sacai” is already the brand Sacai."
    assert refused(add_alias, rick, "CDG").message == (
        "“CDG” is already an alias of Comme des Garçons."
    )
    assert refused(add_alias, rick, "  ・ ").message == (
        "The alias is empty once normalized; give it some letters."
    )
    assert list(rick.aliases.values_list("alias", flat=True)) == ["リックオウエンス"]


def test_renaming_checks_the_same_rules_and_keeps_the_old_name_matching():
    owner = make_user()
    make_filter(owner, brands=["Sacai"])
    sacai = Brand.objects.get(name="Sacai")
    assert refused(rename_brand, sacai, "Rick Owens").message == (
        "“Rick Owens” is already the brand Rick Owens."
    )
    assert refused(rename_brand, sacai, "サカイ").message == (
        "“サカイ” is already an alias of this brand; remove the alias first to make it "
        "the brand's name."
    )
    rename_brand(sacai, "sacai Paris")
    # The filter stored "Sacai"; it goes on matching the brand by any spelling.
    assert set(sacai.aliases.values_list("alias", flat=True)) == {"サカイ", "Sacai"}
    assert ingest_listings([listing("サカイ ニット")]).alerts == 1
    alias = BrandAlias.objects.get(alias="サカイ")
    assert refused(rename_alias, alias, "CDG").field == "alias"
    rename_alias(alias, "サカイ パリ")
    assert ingest_listings([listing("サカイ パリ ブルゾン")]).alerts == 1
    assert ingest_listings([listing("サカイ ニット")]).alerts == 0


def test_each_brand_write_moves_the_index_to_a_full_rebuild():
    owner = make_user()
    make_filter(owner, brands=["Kapital"])
    before = index_stamp().brands_version
    brand = create_brand("Visvim", ["ビズビム"])
    assert index_stamp().brands_version > before
    make_filter(owner, brands=["visvim"])
    assert ingest_listings([listing("ビズビム スニーカー")]).alerts == 1
    kapital = Brand.objects.get(name="Kapital")
    alias = add_alias(kapital, "kapital kountry")
    assert ingest_listings([listing("KAPITAL KOUNTRY パンツ")]).alerts == 1
    before = index_stamp().brands_version
    assert delete_aliases([alias.pk]) == 1
    assert index_stamp().brands_version > before
    before = index_stamp().brands_version
    assert delete_brands([brand.pk]) == 1
    assert index_stamp().brands_version > before
    assert ingest_listings([listing("ビズビム ブーツ")]).alerts == 0
    assert ingest_listings([listing("KAPITAL KOUNTRY シャツ")]).alerts == 1  # "kapital" occurs


def test_a_brand_and_its_aliases_are_created_all_or_nothing():
    error = refused(create_brand, "Visvim", ["ビズビム", "CDG"])
    assert error.message == "“CDG” is already an alias of Comme des Garçons."
    assert not Brand.objects.filter(name="Visvim").exists()
    assert not BrandAlias.objects.filter(alias="ビズビム").exists()
