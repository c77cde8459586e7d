"""Every write to the brand table: brands and their aliases, one spelling one brand.

A spelling (compared normalized, as matching reads it) may belong to one brand
only, once: as its name or as one of its aliases. Each write moves the index
version with `brands=True`, since a brand edit changes how every filter reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from filters.matching import bump_index_version
from filters.models import Brand, BrandAlias
from filters.text import normalize
from lib.errors import FieldError

MAX_SPELLING = 100


def _tidy(field: str, text: object, what: str) -> tuple[str, str]:
    """The spelling with white space tidied, and its normalized form; refuse empty or long ones."""
    tidied = " ".join(text.split()) if isinstance(text, str) else ""
    norm = normalize(tidied)
    if not norm:
        raise FieldError(field, f"The {what} is empty once normalized; give it some letters.")
    if len(tidied) > MAX_SPELLING or len(norm) > MAX_SPELLING:
        raise FieldError(
            field, f"“{tidied[:20]}…” is too long; keep the {what} to {MAX_SPELLING} characters."
        )
    return tidied, norm


def check_brand_name(name: object, brand: Brand | None = None) -> str:
    """The tidied name for `brand` (None: a new brand), or FieldError("name") if it is taken."""
    tidied, norm = _tidy("name", name, "brand name")
    others = Brand.objects.filter(normalized=norm)
    if brand is not None and brand.pk is not None:
        others = others.exclude(pk=brand.pk)
    clash = others.first()
    if clash is not None:
        raise FieldError("name", f"“{tidied}” is already the brand {clash.name}.")
    alias = BrandAlias.objects.select_related("brand").filter(normalized=norm).first()
    if alias is not None:
        if brand is not None and alias.brand_id == brand.pk:
            raise FieldError(
                "name",
                f"“{tidied}” is already an alias of this brand; remove the alias first "
                "to make it the brand's name.",
            )
        raise FieldError("name", f"“{tidied}” is already an alias of {alias.brand.name}.")
    return tidied


def check_alias(text: object, brand: Brand, alias: BrandAlias | None = None) -> str:
    """The tidied alias for `brand` (`alias`: the row being renamed), or FieldError("alias")."""
    tidied, norm = _tidy("alias", text, "alias")
    if brand.name and normalize(brand.name) == norm:
        raise FieldError(
            "alias", f"“{tidied}” is the brand's own name; an alias is another way to write it."
        )
    other_brand = Brand.objects.filter(normalized=norm)
    if brand.pk is not None:
        other_brand = other_brand.exclude(pk=brand.pk)
    clash = other_brand.first()
    if clash is not None:
        raise FieldError("alias", f"“{tidied}” is already the brand {clash.name}.")
    taken = BrandAlias.objects.select_related("brand").filter(normalized=norm)
    if alias is not None and alias.pk is not None:
        taken = taken.exclude(pk=alias.pk)
    existing = taken.first()
    if existing is not None:
        raise FieldError("alias", f"“{tidied}” is already an alias of {existing.brand.name}.")
    return tidied


def save_brand(brand: Brand) -> Brand:
    """Create `brand` or store its new name, after checking the name against every spelling.

    A renamed brand keeps its old name as an alias: filters store the name they
    were saved with, and must go on matching the brand.
    """
    brand.name = check_brand_name(brand.name, brand)
    old = Brand.objects.filter(pk=brand.pk).first() if brand.pk is not None else None
    try:
        with transaction.atomic():
            brand.save()
            if old is not None and old.normalized != brand.normalized:
                save_alias(BrandAlias(brand=brand, alias=old.name))
            bump_index_version(brands=True)
    except IntegrityError:
        # Another writer took the spelling between the check and the save.
        raise FieldError("name", f"“{brand.name}” was just taken; try again.") from None
    return brand


def save_alias(alias: BrandAlias) -> BrandAlias:
    """Create `alias` or store its new spelling or brand, after checking it against every spelling."""
    alias.alias = check_alias(alias.alias, alias.brand, alias)
    try:
        with transaction.atomic():
            alias.save()
            bump_index_version(brands=True)
    except IntegrityError:
        raise FieldError("alias", f"“{alias.alias}” was just taken; try again.") from None
    return alias


def create_brand(name: str, aliases: Iterable[str] = ()) -> Brand:
    """A new brand with its aliases, all or nothing."""
    with transaction.atomic():
        brand = save_brand(Brand(name=name))
        for text in aliases:
            save_alias(BrandAlias(brand=brand, alias=text))
    return brand


def rename_brand(brand: Brand, name: str) -> Brand:
    brand.name = name
    return save_brand(brand)


def add_alias(brand: Brand, text: str) -> BrandAlias:
    return save_alias(BrandAlias(brand=brand, alias=text))


def rename_alias(alias: BrandAlias, text: str) -> BrandAlias:
    alias.alias = text
    return save_alias(alias)


def delete_brands(brand_ids: Iterable[int]) -> int:
    """Delete brands with their aliases; filters keep the name as typed. Returns how many."""
    with transaction.atomic():
        deleted, by_model = Brand.objects.filter(pk__in=list(brand_ids)).delete()
        count = by_model.get(Brand._meta.label, 0)
        if deleted:
            bump_index_version(brands=True)
    return count


def delete_aliases(alias_ids: Iterable[int]) -> int:
    with transaction.atomic():
        count, _ = BrandAlias.objects.filter(pk__in=list(alias_ids)).delete()
        if count:
            bump_index_version(brands=True)
    return count
