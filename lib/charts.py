"""Charts as inline SVG, drawn on the server: the pages need no chart library or script.

`bar_chart` is the user dashboard's alerts per day; `line_chart`, `bar_series_chart`
and `ranking_chart` draw the staff dashboard's several series per hour or per source,
with a scale, axis titles, a legend and a hover <title> on every point. Colours come
from CSS classes (`tone-<name>`), never inline styles, which the CSP forbids. Every
piece of text in the markup is escaped here, so the result may be marked safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

from lib.text import cut

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


@dataclass(frozen=True)
class Series:
    """One named line or set of bars; None marks a slot with no value (a gap in a line)."""

    name: str
    values: Sequence[float | None]
    tone: str  # the CSS class tone-<tone> colours it


def count_text(value: float) -> str:
    return f"{round(value):,}"


def hour_axis(hours: Sequence[datetime]) -> tuple[list[str], list[str]]:
    """Hover labels for hourly slots, and tick labels every six hours (the date at midnight)."""
    labels = [f"{hour:%m-%d %H:00} UTC" for hour in hours]
    ticks = [
        (f"{hour:%m-%d}" if hour.hour == 0 else f"{hour:%H:00}") if hour.hour % 6 == 0 else ""
        for hour in hours
    ]
    return labels, ticks


def scale_step(largest: float, whole: bool = True) -> tuple[float, float]:
    """A round gridline step (1, 2, 2.5 or 5 × 10ⁿ) giving at most four steps up to
    `largest`, and the scale's top; `whole` keeps the step at 1 or more, for counts."""
    if largest <= 0:
        return 1, 1
    power = 10 ** math.floor(math.log10(largest / 4))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power * 4 >= largest)
    if whole:
        step = max(step, 1)
    return step, step * math.ceil(largest / step - 1e-9)


# The staff charts' frame: room for the legend above, the scale and its title on the
# left, the ticks and the axis title below.
FRAME_WIDTH, FRAME_HEIGHT = 600, 250
FRAME_TOP, FRAME_RIGHT, FRAME_BOTTOM, FRAME_LEFT = 34, 12, 40, 58


class _Frame:
    """The SVG shell shared by the staff charts: title, legend, scale, axes and slots."""

    def __init__(
        self, title: str, slots: int, largest: float, whole: bool, y_title: str, x_title: str
    ) -> None:
        self.slots = max(slots, 1)
        self.plot_width = FRAME_WIDTH - FRAME_LEFT - FRAME_RIGHT
        self.plot_height = FRAME_HEIGHT - FRAME_TOP - FRAME_BOTTOM
        self.step, self.top = scale_step(largest, whole)
        self.parts = [
            f'<svg class="chart ops-chart" viewBox="0 0 {FRAME_WIDTH} {FRAME_HEIGHT}" role="img" '
            f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
            f"<title>{escape(title)}</title>",
        ]
        if y_title:
            middle = FRAME_TOP + self.plot_height / 2
            self.parts.append(
                f'<text class="chart-axis-title" x="12" y="{middle}" text-anchor="middle" '
                f'transform="rotate(-90 12 {middle})">{escape(y_title)}</text>'
            )
        if x_title:
            self.parts.append(
                f'<text class="chart-axis-title" x="{FRAME_LEFT + self.plot_width / 2}" '
                f'y="{FRAME_HEIGHT - 4}" text-anchor="middle">{escape(x_title)}</text>'
            )

    @property
    def slot(self) -> float:
        return self.plot_width / self.slots

    def x(self, position: int) -> float:
        """The middle of a slot."""
        return round(FRAME_LEFT + (position + 0.5) * self.slot, 1)

    def y(self, value: float) -> float:
        return round(FRAME_TOP + self.plot_height * (1 - value / self.top), 1)

    def scale(self, value_text: Callable[[float], str]) -> None:
        """A labelled gridline at every step; the zero line is the x axis."""
        for n in range(round(self.top / self.step) + 1):
            value = n * self.step
            y = self.y(value)
            kind = "chart-axis" if n == 0 else "chart-grid"
            self.parts.append(
                f'<line class="{kind}" x1="{FRAME_LEFT}" y1="{y}" '
                f'x2="{FRAME_WIDTH - FRAME_RIGHT}" y2="{y}"/>'
                f'<text class="chart-scale" x="{FRAME_LEFT - 6}" y="{y + 4}" '
                f'text-anchor="end">{escape(value_text(value))}</text>'
            )

    def ticks(self, ticks: Sequence[str]) -> None:
        for position, tick in enumerate(ticks):
            if tick:
                x = self.x(position)
                baseline = FRAME_TOP + self.plot_height
                self.parts.append(
                    f'<line class="chart-tick" x1="{x}" y1="{baseline}" x2="{x}" '
                    f'y2="{baseline + 4}"/><text class="chart-label" x="{x}" '
                    f'y="{baseline + 17}" text-anchor="middle">{escape(tick)}</text>'
                )

    def legend(self, series: Sequence[Series]) -> None:
        x = FRAME_LEFT
        for one in series:
            self.parts.append(
                f'<rect class="chart-swatch tone-{escape(one.tone)}" x="{x}" y="8" '
                f'width="12" height="12" rx="2"/><text class="chart-legend" x="{x + 17}" '
                f'y="18">{escape(one.name)}</text>'
            )
            x += 17 + 7 * len(one.name) + 18  # a swatch, the name at ~7 units a letter, a gap

    def empty(self, message: str) -> None:
        self.parts.append(
            f'<text class="chart-empty" x="{FRAME_LEFT + self.plot_width / 2}" '
            f'y="{FRAME_TOP + self.plot_height / 2}" text-anchor="middle">{escape(message)}</text>'
        )

    def svg(self) -> SafeString:
        return mark_safe("".join([*self.parts, "</svg>"]))  # every text is escaped above


def _largest(series: Sequence[Series], stacked: bool = False) -> float:
    if stacked:
        slots = zip(*(one.values for one in series), strict=True)
        return max((sum(v or 0 for v in slot) for slot in slots), default=0)
    return max((v for one in series for v in one.values if v is not None), default=0)


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    ticks: Sequence[str] = (),
    y_title: str = "",
    x_title: str = "",
    empty: str = "No data",
    value_text: Callable[[float], str] = count_text,
    whole: bool = True,
) -> SafeString:
    """Lines over shared slots (hours, say), a dot with hover text on every value.

    A None value breaks its line, so an hour without data is not drawn as a zero.
    `whole=False` lets the scale step below 1, for values that are not counts.
    """
    most = _largest(series)
    frame = _Frame(title, len(labels), most, whole, y_title, x_title)
    frame.legend(series)
    frame.scale(value_text)
    frame.ticks(ticks)
    if not any(v for one in series for v in one.values):
        frame.empty(empty)
        return frame.svg()
    for one in series:
        tone = f"tone-{escape(one.tone)}"
        runs: list[list[str]] = [[]]
        dots = []
        for position, value in enumerate(one.values):
            if value is None:
                runs.append([])
                continue
            x, y = frame.x(position), frame.y(value)
            runs[-1].append(f"{x},{y}")
            text = escape(f"{labels[position]} · {one.name}: {value_text(value)}")
            dots.append(f'<circle class="chart-dot {tone}" cx="{x}" cy="{y}" r="3">')
            dots.append(f"<title>{text}</title></circle>")
        for run in runs:
            if len(run) > 1:
                frame.parts.append(
                    f'<polyline class="chart-line {tone}" points="{" ".join(run)}"/>'
                )
        frame.parts.extend(dots)
    return frame.svg()


def bar_series_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    title: str,
    *,
    stacked: bool = False,
    ticks: Sequence[str] | None = None,
    y_title: str = "",
    x_title: str = "",
    empty: str = "No data",
    value_text: Callable[[float], str] = count_text,
) -> SafeString:
    """Bars for one or more series over slots: side by side, or stacked into one bar.

    Without `ticks` every slot is labelled (a few categories such as sources).
    """
    most = _largest(series, stacked)
    frame = _Frame(title, len(labels), most, True, y_title, x_title)
    if len(series) > 1:
        frame.legend(series)
    frame.scale(value_text)
    frame.ticks(labels if ticks is None else ticks)
    if not most:
        frame.empty(empty)
        return frame.svg()
    room = frame.slot * 0.8
    width = room if stacked else room / len(series)
    for position, label in enumerate(labels):
        base = 0.0
        for index, one in enumerate(series):
            value = one.values[position] or 0
            if not value:
                continue
            left = frame.x(position) - room / 2 + (0 if stacked else index * width)
            bottom, top = (base, base + value) if stacked else (0, value)
            y = frame.y(top)
            text = escape(f"{label} · {one.name}: {value_text(value)}")
            frame.parts.append(
                f'<rect class="chart-bar tone-{escape(one.tone)}" x="{round(left, 1)}" '
                f'y="{y}" width="{round(max(width - 1, 1), 1)}" '
                f'height="{round(frame.y(bottom) - y, 1)}"><title>{text}</title></rect>'
            )
            if stacked:
                base = top
    return frame.svg()


RANK_ROW, RANK_LABEL = 24, 170  # a row's height; room for the names on the left


def ranking_chart(
    rows: Sequence[tuple[str, int, str]], title: str, *, empty: str = "No data"
) -> SafeString:
    """Horizontal bars, largest first as given: (name, value, hover text) per row."""
    height = max(len(rows), 1) * RANK_ROW + 8
    plot = FRAME_WIDTH - RANK_LABEL - 60  # room for the value after the longest bar
    most = max((value for _, value, _ in rows), default=0)
    parts = [
        f'<svg class="chart ops-chart" viewBox="0 0 {FRAME_WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    if not rows or not most:
        parts.append(
            f'<text class="chart-empty" x="{FRAME_WIDTH / 2}" y="{height / 2 + 4}" '
            f'text-anchor="middle">{escape(empty)}</text>'
        )
    for position, (name, value, hover) in enumerate(rows if most else ()):
        y = 4 + position * RANK_ROW
        width = round(plot * value / most, 1)
        shown = cut(name, 24)
        parts.append(
            f"<g><title>{escape(hover)}</title>"
            f'<text class="chart-label" x="{RANK_LABEL - 8}" y="{y + 16}" '
            f'text-anchor="end">{escape(shown)}</text>'
            f'<rect class="chart-bar tone-accent" x="{RANK_LABEL}" y="{y + 3}" '
            f'width="{max(width, 1)}" height="{RANK_ROW - 7}" rx="2"/>'
            f'<text class="chart-value" x="{RANK_LABEL + width + 6}" y="{y + 16}">'
            f"{value:,}</text></g>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every interpolated text is escaped above
