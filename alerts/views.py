"""The alert history page: the user's alerts, newest first, 50 a page, by status and market."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from alerts.models import Alert
from alerts.outbox import attach_filter_names
from lib.markets import MARKETS
from users.signed_in import AuthenticatedHttpRequest

PAGE_SIZE = 50


def _choice(request: HttpRequest, name: str, allowed: dict[str, str]) -> tuple[str, str]:
    """The GET parameter if it is one of `allowed`, else "" and a message naming the choices."""
    value = request.GET.get(name, "")
    if not value or value in allowed:
        return value, ""
    return "", f"“{value[:40]}” is not a {name}; choose from {', '.join(allowed)}."


@login_required
@require_safe
def alert_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    statuses = dict(Alert.Status.choices)
    markets = {market.code: market.label for market in MARKETS}
    status, status_problem = _choice(request, "status", statuses)
    market, market_problem = _choice(request, "market", markets)
    alerts = Alert.objects.filter(user=request.user).select_related("listing")
    if status:
        alerts = alerts.filter(status=status)
    if market:
        alerts = alerts.filter(listing__market=market)
    page = Paginator(alerts.order_by("-created_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = list(page.object_list)
    attach_filter_names(rows)
    # The chosen status and market ride along on the page links.
    kept = urlencode(
        {key: value for key, value in (("status", status), ("market", market)) if value}
    )
    return render(
        request,
        "web/alerts.html",
        {
            "page": page,
            "rows": rows,
            "statuses": statuses,
            "markets": markets,
            "status": status,
            "market": market,
            "kept": kept,
            "problems": [p for p in (status_problem, market_problem) if p],
        },
    )
