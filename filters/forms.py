"""The filter form of the web pages: it checks shape only; filters/services.py checks rules.

Fields are named like the API's. Lists are comma-separated text and prices are
text too, so the services read them exactly as they read the bot's input and
every message (a wrong price, an unknown market) is the services' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from filters.models import Filter
from filters.validation import MAX_NAME
from lib.errors import ServiceError, ValidationFailed
from lib.markets import CHOOSABLE, market_label


class MarketsField(forms.MultipleChoiceField):
    """Checkboxes whose values the services check, so an unknown market gets their message."""

    def valid_value(self, value: str) -> bool:
        return True


class FilterForm(forms.Form):
    # maxlength says the limit as people type; the services' rule and message stay the check.
    name = forms.CharField(
        required=False, strip=False, widget=forms.TextInput(attrs={"maxlength": MAX_NAME})
    )
    brands = forms.CharField(
        required=False, help_text="Comma-separated, e.g. Rick Owens, Sacai", strip=False
    )
    keywords = forms.CharField(
        required=False, help_text="Words that must all be in the title", strip=False
    )
    exclude = forms.CharField(
        required=False, help_text="Words that must not be in the title", strip=False
    )
    price_min = forms.CharField(required=False, label="Minimum price (yen)")
    price_max = forms.CharField(required=False, label="Maximum price (yen)")
    markets = MarketsField(
        required=False,
        choices=[(code, market_label(code)) for code in CHOOSABLE],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every market.",
    )
    active = forms.BooleanField(required=False, initial=True)

    @classmethod
    def of(cls, found: Filter) -> FilterForm:
        """The form filled in with a saved filter, lists as the text people type."""
        return cls(
            initial={
                "name": found.name,
                "brands": ", ".join(found.brands),
                "keywords": ", ".join(found.keywords),
                "exclude": ", ".join(found.exclude),
                "price_min": "" if found.price_min is None else found.price_min,
                "price_max": "" if found.price_max is None else found.price_max,
                "markets": list(found.markets),
                "active": found.active,
            }
        )

    def service_data(self) -> dict[str, Any]:
        """The input for create_filter/update_filter (call after is_valid())."""
        data = dict(self.cleaned_data)
        for field in ("price_min", "price_max"):
            data[field] = data[field] or None
        return data

    def add_service_error(self, error: ServiceError) -> None:
        """Put each of the services' messages beside its field (the rest above the form)."""
        errors: Sequence[ServiceError] = [error]
        if isinstance(error, ValidationFailed):
            errors = error.errors
        for each in errors:
            field = getattr(each, "field", None)
            self.add_error(field if field in self.fields else None, each.message)
