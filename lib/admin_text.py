"""Long text in the admin's lists: cut to fit a column, the whole of it on hover."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from lib.text import cut

COLUMN = 48  # characters a list column shows


def cut_with_hover(text: str, length: int = COLUMN) -> SafeString:
    """`text` cut to `length` characters (with …), its whole in the title attribute."""
    return format_html('<span title="{}">{}</span>', text, cut(text, length))
