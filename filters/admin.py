"""Moderation of filters and the brand table; edits go through the filter services' rules."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from alerts.formatting import format_price, market_label
from filters.brands import BrandTable
from filters.errors import ValidationFailed
from filters.matching import bump_index_version
from filters.models import Brand, BrandAlias, Filter, IndexVersion
from filters.services import deactivate_filters
from filters.text import normalize
from filters.validation import FIELDS, check_whole_filter, clean_filter_fields


class MovesIndexVersion:
    """For pages whose edits change what matching reads: every save or delete moves
    the index version. The admin saves a page and its inlines in one transaction,
    so the bump commits together with them."""

    changes_brands = False

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        bump_index_version(brands=self.changes_brands)

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        bump_index_version(brands=self.changes_brands)

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        bump_index_version(brands=self.changes_brands)


class FilterAdminForm(forms.ModelForm):
    class Meta:
        model = Filter
        fields = ("owner", *FIELDS)

    def clean(self):
        data = super().clean()
        raw = {key: data[key] for key in FIELDS if key in data}
        try:
            cleaned = clean_filter_fields(raw, BrandTable.load())
            check_whole_filter(cleaned)
        except ValidationFailed as failed:
            raise ValidationError(
                {
                    field if field in self.fields else None: messages_
                    for field, messages_ in failed.as_dict().items()
                }
            ) from None
        data.update(cleaned)
        return data


@admin.register(Filter)
class FilterAdmin(MovesIndexVersion, admin.ModelAdmin):
    form = FilterAdminForm
    list_display = (
        "name",
        "owner",
        "brand_list",
        "keyword_list",
        "excluded",
        "price_range",
        "market_list",
        "active",
        "updated_at",
    )
    list_filter = ("active", "owner__is_banned")
    search_fields = ("name", "owner__username", "owner__discord_id")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = ("created_at", "updated_at")
    actions = ["deactivate_selected"]

    @admin.display(description="brands")
    def brand_list(self, obj: Filter) -> str:
        return ", ".join(obj.brands) or "any"

    @admin.display(description="keywords")
    def keyword_list(self, obj: Filter) -> str:
        return ", ".join(obj.keywords) or "—"

    @admin.display(description="excluded")
    def excluded(self, obj: Filter) -> str:
        return ", ".join(obj.exclude) or "—"

    @admin.display(description="price")
    def price_range(self, obj: Filter) -> str:
        low = format_price(obj.price_min) if obj.price_min is not None else "any"
        high = format_price(obj.price_max) if obj.price_max is not None else "any"
        return f"{low} – {high}"

    @admin.display(description="markets")
    def market_list(self, obj: Filter) -> str:
        return ", ".join(market_label(code) for code in obj.markets) or "all"

    @admin.action(description="Deactivate selected filters")
    def deactivate_selected(self, request, queryset) -> None:
        changed = deactivate_filters(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Deactivated {changed} filter(s).", messages.SUCCESS)


class BrandAliasForm(forms.ModelForm):
    class Meta:
        model = BrandAlias
        fields = ("brand", "alias")

    def clean_alias(self) -> str:
        alias = self.cleaned_data["alias"]
        norm = normalize(alias)
        if not norm:
            raise ValidationError("The alias is empty once normalized.")
        brand = self.cleaned_data.get("brand")
        clash = Brand.objects.filter(normalized=norm).exclude(pk=getattr(brand, "pk", None)).first()
        if clash:
            raise ValidationError(f"“{alias}” is already the brand {clash.name}.")
        taken = BrandAlias.objects.filter(normalized=norm).exclude(pk=self.instance.pk).first()
        if taken:
            raise ValidationError(f"“{alias}” is already an alias of {taken.brand.name}.")
        return alias


class BrandAliasInline(admin.TabularInline):
    model = BrandAlias
    form = BrandAliasForm
    extra = 1


@admin.register(Brand)
class BrandAdmin(MovesIndexVersion, admin.ModelAdmin):
    changes_brands = True
    list_display = ("name", "alias_list")
    search_fields = ("name", "aliases__alias")
    inlines = [BrandAliasInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("aliases")

    @admin.display(description="aliases")
    def alias_list(self, brand: Brand) -> str:
        return ", ".join(alias.alias for alias in brand.aliases.all())


@admin.register(BrandAlias)
class BrandAliasAdmin(MovesIndexVersion, admin.ModelAdmin):
    changes_brands = True
    form = BrandAliasForm
    list_display = ("alias", "brand")
    search_fields = ("alias", "brand__name")
    list_select_related = ("brand",)


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
