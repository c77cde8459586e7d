"""The staff's operations dashboard: the last 48 hours of delivery, scans, Discord and brands.

Everything is read from the database (it works without Prometheus) through the apps'
query helpers, and drawn as server-side SVG by `lib.charts`: no script, no CDN, nothing
the CSP would refuse. The page lives in the admin, behind the admin's own staff check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from alerts.models import Alert, DiscordHour, outcomes_per_hour
from filters.stats import most_followed_brands
from lib.charts import Series, bar_series_chart, hour_axis, line_chart, ranking_chart
from lib.text import counted
from scraping.stats import scans_per_hour, scans_per_source

WINDOW_HOURS = 48
TOP_BRANDS = 15
HOURS_TITLE = "Hour (UTC)"


def window(now: datetime) -> list[datetime]:
    """The starts of the last 48 UTC hours, the current (partial) hour last."""
    current = now.replace(minute=0, second=0, microsecond=0)
    return [current - timedelta(hours=n) for n in reversed(range(WINDOW_HOURS))]


def duration_text(seconds: float) -> str:
    """A wait as people read it: `42s`, `3m 10s`, `2h 5m`, `3d 4h`."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600}h"


def latency_unit(largest: float) -> tuple[int, str, Callable[[float], str]]:
    """Seconds per unit, the axis title and a value format, so the scale reads in round steps."""
    if largest <= 120:
        return 1, "Seconds", lambda value: f"{value:.3g}s"
    if largest <= 120 * 60:
        return 60, "Minutes", lambda value: f"{value:.3g}m"
    return 3600, "Hours", lambda value: f"{value:.3g}h"


def alerts_card(hours: list[datetime], labels: list[str], ticks: list[str]) -> dict:
    since = hours[0]
    counts = outcomes_per_hour(since)
    tones = {"queued": "accent", "sent": "good", "failed": "bad", "skipped": "muted"}
    series = [
        Series(name.capitalize(), [per_hour.get(hour, 0) for hour in hours], tones[name])
        for name, per_hour in counts.items()
    ]
    title = "Alerts queued, sent, failed and skipped per hour, last 48 hours"
    return {
        "chart": line_chart(
            labels,
            series,
            title,
            ticks=ticks,
            y_title="Alerts",
            x_title=HOURS_TITLE,
            empty="No alerts in the last 48 hours",
        ),
        "totals": {name: sum(per_hour.values()) for name, per_hour in counts.items()},
    }


def latency_card(hours: list[datetime], labels: list[str], ticks: list[str]) -> dict:
    latencies = Alert.objects.latency_per_hour(hours[0])
    size, unit, value_text = latency_unit(max((one.p95 for one in latencies.values()), default=0))

    def values(pick: Callable) -> list[float | None]:
        return [pick(latencies[hour]) / size if hour in latencies else None for hour in hours]

    series = [
        Series("p50", values(lambda one: one.p50), "accent"),
        Series("p95", values(lambda one: one.p95), "warn"),
    ]
    worst = max(latencies.items(), key=lambda item: item[1].p95, default=None)
    return {
        "chart": line_chart(
            labels,
            series,
            "Delivery latency per hour (p50 and p95), last 48 hours",
            ticks=ticks,
            y_title=unit,
            x_title=HOURS_TITLE,
            empty="No alerts sent in the last 48 hours",
            value_text=value_text,
            whole=False,
        ),
        "sampled": sum(one.sampled for one in latencies.values()),
        "worst_hour": worst[0] if worst else None,
        "worst_p95": duration_text(worst[1].p95) if worst else "",
    }


def discord_card(hours: list[datetime], labels: list[str], ticks: list[str]) -> dict:
    rows = {row.hour: row for row in DiscordHour.objects.since(hours[0])}
    requests = sum(row.requests for row in rows.values())
    global_429 = sum(row.rate_limited_global for row in rows.values())
    route_429 = sum(row.rate_limited_route for row in rows.values())

    def values(field: str) -> list[int]:
        return [getattr(rows[hour], field) if hour in rows else 0 for hour in hours]

    empty = (
        f"No 429s in the last 48 hours ({requests:,} requests)"
        if requests
        else "No Discord requests recorded in the last 48 hours"
    )
    chart = bar_series_chart(
        labels,
        [
            Series("Global limit", values("rate_limited_global"), "bad"),
            Series("Route limit", values("rate_limited_route"), "warn"),
        ],
        "Discord 429 answers per hour, last 48 hours",
        stacked=True,
        ticks=ticks,
        y_title="429 answers",
        x_title=HOURS_TITLE,
        empty=empty,
    )
    limited = global_429 + route_429
    return {
        "chart": chart,
        "requests": requests,
        "global": global_429,
        "route": route_429,
        "share": f"{100 * limited / requests:.1f}%" if requests else "–",
    }


def scans_card(hours: list[datetime], labels: list[str], ticks: list[str]) -> dict:
    since = hours[0]
    sources = scans_per_source(since)
    per_hour = scans_per_hour(since)
    by_source = bar_series_chart(
        [row.label for row in sources],
        [
            Series("Scans", [row.scans for row in sources], "accent"),
            Series("Failed scans", [row.failed for row in sources], "bad"),
        ],
        "Scans and failed scans per source, last 48 hours",
        y_title="Scans",
        empty="No scans in the last 48 hours",
    )
    new_listings = bar_series_chart(
        labels,
        [
            Series(
                "New listings",
                [per_hour[h].new_items if h in per_hour else 0 for h in hours],
                "good",
            )
        ],
        "New listings per hour, all sources, last 48 hours",
        ticks=ticks,
        y_title="New listings",
        x_title=HOURS_TITLE,
        empty="No new listings in the last 48 hours",
    )
    return {"by_source": by_source, "new_listings": new_listings, "sources": sources}


def brands_card() -> dict:
    brands = most_followed_brands(TOP_BRANDS)
    rows = []
    for brand in brands:
        hover = f"{brand.name}: {counted(brand.users, 'user')}, {counted(brand.filters, 'filter')}"
        rows.append((brand.name, brand.users, hover))
    title = f"The {TOP_BRANDS} most-followed brands, by users with an active filter naming them"
    return {
        "chart": ranking_chart(rows, title, empty="No active filter names a brand"),
        "brands": brands,
    }


@require_safe
def operations(request: HttpRequest) -> TemplateResponse:
    """The dashboard: one card per concern, each with its chart and its numbers."""
    now = timezone.now()
    hours = window(now)
    labels, ticks = hour_axis(hours)
    backlog = Alert.objects.backlog(hours[0], now)
    oldest = backlog.oldest_due_age(now)
    context = {
        **admin.site.each_context(request),
        "title": "Operations dashboard",
        "now": now,
        "since": hours[0],
        "alerts": alerts_card(hours, labels, ticks),
        "latency": latency_card(hours, labels, ticks),
        "discord": discord_card(hours, labels, ticks),
        "scans": scans_card(hours, labels, ticks),
        "brands": brands_card(),
        "backlog": backlog,
        "oldest_due_age": duration_text(oldest.total_seconds()) if oldest else "",
    }
    return TemplateResponse(request, "admin/operations.html", context)


# The admin's own gate: staff only; anyone else is sent to the admin's sign-in page.
staff_operations = admin.site.admin_view(operations)
