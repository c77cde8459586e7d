"""Moderation of filters and the brand table; edits go through the validation and brand services."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.safestring import SafeString

from filters.brand_services import (
    check_alias,
    check_brand_name,
    delete_aliases,
    delete_brands,
    save_alias,
    save_brand,
)
from filters.brands import BrandTable
from filters.matching import bump_index_version
from filters.models import Brand, BrandAlias, Filter, IndexVersion
from filters.services import deactivate_filters
from filters.text import normalize
from filters.validation import FIELDS, check_whole_filter, clean_filter_fields
from lib.admin_text import cut_with_hover
from lib.errors import FieldError, ValidationFailed
from lib.formatting import market_label, price_range
from lib.markets import CHOOSABLE

TERM_FIELDS = ("brands", "keywords", "exclude")

# The mixins below go before admin.ModelAdmin in an admin's bases; the type checker reads
# them as ModelAdmins, so their super() calls and the admin's methods are checked.
if TYPE_CHECKING:
    _ModelAdminMixin = admin.ModelAdmin
else:
    _ModelAdminMixin = object


class MovesIndexVersion(_ModelAdminMixin):
    """For filter pages, whose edits change what matching reads: every save or delete
    moves the index version. The admin saves a page in one transaction, so the bump
    commits together with it."""

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        bump_index_version()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        bump_index_version()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        bump_index_version()


def _field_errors(failed: ValidationFailed, form: forms.BaseForm) -> ValidationError:
    """The service's errors beside their fields; an error of no form field goes on top."""
    return ValidationError(
        {
            field if field in form.fields else NON_FIELD_ERRORS: messages_
            for field, messages_ in failed.as_dict().items()
        }
    )


class FilterAdminForm(forms.ModelForm):
    """Words as comma-separated text, cleaned by the same validation as every other door.

    Staff may give a user more filters than their quota: the admin is the
    moderators' override, so it checks the filter's fields but not the count.
    """

    brands = forms.CharField(
        required=False,
        help_text="Comma-separated; any spelling of a known brand is stored under its name.",
    )
    keywords = forms.CharField(
        required=False, help_text="Comma-separated; every keyword must be in the title."
    )
    exclude = forms.CharField(
        label="excluded words",
        required=False,
        help_text="Comma-separated; a title with any of them does not match.",
    )
    markets = forms.MultipleChoiceField(
        choices=[(code, market_label(code)) for code in CHOOSABLE],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every market.",
    )
    # Text, so "¥5,000" is read as the other doors read it and a wrong price gets their message.
    price_min = forms.CharField(
        label="minimum price", required=False, help_text="Yen; empty: none."
    )
    price_max = forms.CharField(
        label="maximum price", required=False, help_text="Yen; empty: none."
    )

    class Meta:
        model = Filter
        fields = ("owner", *FIELDS)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for key in TERM_FIELDS:
            if isinstance(self.initial.get(key), list):
                self.initial[key] = ", ".join(self.initial[key])

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        raw = {key: data[key] for key in FIELDS if key in data}
        try:
            cleaned = clean_filter_fields(raw, BrandTable.load())
            check_whole_filter(cleaned)
        except ValidationFailed as failed:
            raise _field_errors(failed, self) from None
        data.update(cleaned)
        owner, name = data.get("owner"), cleaned.get("name")
        if owner is not None and name and self._name_taken(owner, name):
            # Worded for staff; the database's unique constraint is the rule itself.
            self.add_error("name", f"{owner} already has a filter named “{name}”.")
        return data

    def _name_taken(self, owner, name: str) -> bool:
        others = Filter.objects.owned_by(owner).filter(name__iexact=name)
        if self.instance.pk is not None:
            others = others.exclude(pk=self.instance.pk)
        return others.exists()


@admin.register(Filter)
class FilterAdmin(MovesIndexVersion, admin.ModelAdmin):
    form = FilterAdminForm
    list_display = (
        "short_name",
        "owner",
        "words",
        "price_bounds",
        "market_list",
        "active",
    )
    list_filter = ("active", "owner__is_banned")
    search_fields = ("name", "owner__username", "owner__discord_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at")
    actions = ["deactivate_selected"]

    @admin.display(description="name", ordering="name")
    def short_name(self, obj: Filter) -> SafeString:
        return cut_with_hover(obj.name, 32)

    @admin.display(description="looks for")
    def words(self, obj: Filter) -> SafeString:
        """Brands and keywords, then the excluded words: "Sacai, knit · not kids"."""
        text = ", ".join([*obj.brands, *obj.keywords]) or "anything"
        if obj.exclude:
            text += " · not " + ", ".join(obj.exclude)
        return cut_with_hover(text)

    @admin.display(description="price")
    def price_bounds(self, obj: Filter) -> str:
        return price_range(obj.price_min, obj.price_max)

    @admin.display(description="markets")
    def market_list(self, obj: Filter) -> str:
        return ", ".join(market_label(code) for code in obj.markets) or "all"

    @admin.action(description="Deactivate selected filters")
    def deactivate_selected(self, request, queryset) -> None:
        changed = deactivate_filters(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Deactivated {changed} filter(s).", messages.SUCCESS)


def _checked(check, *args) -> str:
    """Run a brand service check, its FieldError shown beside the form field."""
    try:
        return check(*args)
    except FieldError as error:
        raise ValidationError(error.message) from None


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ("name",)

    def clean_name(self) -> str:
        return _checked(check_brand_name, self.cleaned_data["name"], self.instance)


class BrandAliasForm(forms.ModelForm):
    class Meta:
        model = BrandAlias
        fields = ("brand", "alias")

    def clean(self):
        super().clean()
        data = self.cleaned_data  # what ModelForm.clean returns
        brand, text = data.get("brand"), data.get("alias")
        if brand is not None and text:
            try:
                data["alias"] = check_alias(text, brand, self.instance)
            except FieldError as error:
                self.add_error("alias", error.message)
        return data


class BrandAliasFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        """Two new rows of one page may not spell the same alias (each alone passes the check)."""
        super().clean()
        seen: dict[str, str] = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("alias") or data.get("DELETE"):
                continue
            text = data["alias"]
            norm = normalize(text)
            if norm in seen:
                form.add_error("alias", f"“{text}” is given twice (as “{seen[norm]}”).")
            else:
                seen[norm] = text


class BrandAliasInline(admin.TabularInline):
    model = BrandAlias
    form = BrandAliasForm
    formset = BrandAliasFormSet
    extra = 1


class BrandWrites(_ModelAdminMixin):
    """Saves and deletes of brand pages go through the brand services, which move the
    index version (a full rebuild) in the admin's transaction."""

    # Each admin deletes through its service.
    delete_ids: Callable[[list[int]], None]

    def delete_model(self, request, obj) -> None:
        self.delete_ids([obj.pk])

    def delete_queryset(self, request, queryset) -> None:
        self.delete_ids(list(queryset.values_list("pk", flat=True)))


@admin.register(Brand)
class BrandAdmin(BrandWrites, admin.ModelAdmin):
    form = BrandForm
    list_display = ("name", "alias_list")
    search_fields = ("name", "aliases__alias")
    inlines = [BrandAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_list(self, brand: Brand) -> str:
        return ", ".join(alias.alias for alias in brand.aliases.all())

    def save_model(self, request, obj: Brand, form, change: bool) -> None:
        save_brand(obj)

    def save_formset(self, request, form, formset, change: bool) -> None:
        aliases = formset.save(commit=False)
        delete_aliases([alias.pk for alias in formset.deleted_objects])
        # A rename has just kept the old name as an alias; the same alias typed on the page is no news.
        kept = set(form.instance.aliases.values_list("normalized", flat=True))
        for alias in aliases:
            if alias.pk is None and normalize(alias.alias) in kept:
                continue
            save_alias(alias)

    def delete_ids(self, ids: list[int]) -> None:
        delete_brands(ids)


@admin.register(BrandAlias)
class BrandAliasAdmin(BrandWrites, admin.ModelAdmin):
    form = BrandAliasForm
    list_display = ("alias", "brand")
    search_fields = ("alias", "brand__name")
    list_select_related = ("brand",)

    def save_model(self, request, obj: BrandAlias, form, change: bool) -> None:
        save_alias(obj)

    def delete_ids(self, ids: list[int]) -> None:
        delete_aliases(ids)


@admin.register(IndexVersion)
class IndexVersionAdmin(admin.ModelAdmin):
    """Read-only: when the filter index last changed, for operators checking propagation."""

    list_display = ("version", "brands_version", "changed_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
