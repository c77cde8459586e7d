"""A bar chart as inline SVG, drawn on the server: the dashboard needs no chart library.

Every piece of text in the markup is escaped here, so the result may be marked safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 160
TOP, BOTTOM, LEFT = 16, 22, 28  # room for the tallest bar's label, the dates, the scale


def bar_chart(bars: Sequence[tuple[str, int]], title: str) -> SafeString:
    """An SVG bar per (label, count), scaled to the largest count, with a readable title.

    Each bar carries a <title> (hover text) and the whole chart an aria-label, so the
    numbers reach people who can't see the picture.
    """
    most = max((count for _, count in bars), default=0)
    slot = (WIDTH - LEFT) / max(len(bars), 1)
    plot = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text class="chart-scale" x="0" y="{TOP + 4}">{most}</text>',
        f'<line class="chart-axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" '
        f'x2="{WIDTH}" y2="{HEIGHT - BOTTOM}"/>',
    ]
    for position, (label, count) in enumerate(bars):
        height = round(plot * count / most, 1) if most else 0
        x = round(LEFT + position * slot + slot * 0.15, 1)
        y = round(HEIGHT - BOTTOM - height, 1)
        text = escape(f"{label}: {count}")
        parts.append(
            f'<rect class="chart-bar" x="{x}" y="{y}" width="{round(slot * 0.7, 1)}" '
            f'height="{height}"><title>{text}</title></rect>'
        )
        # The last date and every seventh before it: thirty would overlap on a phone.
        # Each ends at its bar's right edge, so the last one stays inside the picture.
        if (len(bars) - 1 - position) % 7 == 0:
            parts.append(
                f'<text class="chart-label" x="{round(x + slot * 0.7, 1)}" y="{HEIGHT - 6}" '
                f'text-anchor="end">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above
