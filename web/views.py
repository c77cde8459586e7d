"""The home page (landing or dashboard), the settings page (destination, mute, digest) and
the account pages (tokens, your data, deleting the account).

Thin doors over users/services.py and alerts/services.py, answering with the
bot's words for the same actions.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from allauth.socialaccount.models import SocialAccount
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from alerts.account_data import export_account
from alerts.account_deletion import delete_account, what_goes
from alerts.models import Alert
from alerts.outbox import attach_filter_names
from alerts.services import delivery_health, delivery_status, queue_test_alert
from filters.models import Filter
from lib.charts import bar_chart
from lib.durations import parse_duration
from lib.errors import FieldError, NotFound, ServiceError
from lib.formatting import markets_label, price_range
from lib.text import counted
from users.models import User
from users.services import (
    create_token,
    list_tokens,
    mute_alerts,
    revoke_token,
    set_destination,
    set_digest,
)
from users.signed_in import AuthenticatedHttpRequest

CHART_DAYS = 30
NEW_TOKEN_KEY = "new-api-token"  # the session's copy of a new token, until it is shown
RECENT_DAYS = 7
LATEST_ALERTS = 5
DIGEST_TEXTS = {
    "instant": "Alerts come one by one, as soon as listings appear.",
    "hourly": "Alerts come collected, once an hour.",
    "daily": "Alerts come collected, once a day.",
}


def _chart(user: User) -> tuple[str, int]:
    """Alerts per day over the last CHART_DAYS days, today included, as an SVG bar chart."""
    today = timezone.localdate()
    first = today - timedelta(days=CHART_DAYS - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    per_day = Alert.objects.per_day(user, start)
    bars = [
        ((day := first + timedelta(days=offset)).strftime("%b %d"), per_day.get(day, 0))
        for offset in range(CHART_DAYS)
    ]
    return bar_chart(bars, f"Alerts per day over the last {CHART_DAYS} days"), sum(per_day.values())


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The dashboard for a signed-in user; a landing page with "Sign in with Discord" otherwise."""
    if not request.user.is_authenticated:
        return render(request, "web/landing.html")
    user = request.user
    since = timezone.now() - timedelta(days=RECENT_DAYS)
    recent = Alert.objects.filter(created_at__gte=since).count_by_filter(user)
    filters = [
        {
            "filter": found,
            "alerts": recent.get(found.pk, 0),
            "words": ", ".join([*found.brands, *found.keywords]),
            "exclude": ", ".join(found.exclude),
            "prices": price_range(found.price_min, found.price_max),
            "markets": markets_label(found.markets),
        }
        for found in Filter.objects.owned_by(user).order_by("name")
    ]
    status = delivery_status(user)
    healthy, health = delivery_health(user, status)
    chart, chart_total = _chart(user)
    latest = Alert.objects.latest_of(user, LATEST_ALERTS)
    attach_filter_names(latest)
    context = {
        "latest": latest,
        "filters": filters,
        "quota": user.filter_quota,
        "status": status,
        "healthy": healthy,
        "health": health,
        "chart": chart,
        "chart_total": chart_total,
        "recent_days": RECENT_DAYS,
        "chart_days": CHART_DAYS,
    }
    return render(request, "web/dashboard.html", context)


def _change_settings(request: HttpRequest, user: User) -> tuple[str, FieldError | None]:
    """Apply the form's action; (the bot's answer, or the error to show beside its field)."""
    action = request.POST.get("action", "")
    try:
        if action == "dm":
            set_destination(user, "dm")
            return (
                "Your alerts now come by direct message. If they don't arrive, allow direct "
                "messages from members of a server we share.",
                None,
            )
        if action == "mute":
            until = timezone.now() + parse_duration("duration", request.POST.get("duration", ""))
            mute_alerts(user, until)
            return f"Muted until {until:%Y-%m-%d %H:%M} UTC. Unmute ends it sooner.", None
        if action == "test":
            queue_test_alert(user)
            return (
                f"A sample alert is on its way to your {user.destination_label}. "
                "If it doesn't arrive within a minute, the dashboard says why.",
                None,
            )
        if action == "unmute":
            mute_alerts(user, None)
            return "Alerts are on again.", None
        if action == "digest":
            digest = request.POST.get("digest", "")
            set_digest(user, digest)
            return DIGEST_TEXTS[digest], None
    except FieldError as error:
        return "", error
    except ServiceError as error:
        return "", FieldError("", error.message)
    return "", FieldError("", f"“{action[:40]}” is not something this page can change.")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    errors: dict[str, str] = {}
    if request.method == "POST":
        done, error = _change_settings(request, user)
        if error is None:
            messages.success(request, done)
            return redirect("settings")
        errors[error.field or "page"] = error.message
    context = {
        "user": user,
        "status": delivery_status(user),
        "errors": errors,
        "duration": request.POST.get("duration", "8h"),
        "digests": User.Digest.choices,
    }
    return render(request, "web/settings.html", context, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who is signed in (their Discord name and id), their API tokens, and the way out.

    Every write redirects (post/redirect/get), so a reload makes no second token. A new
    token's secret rides in the session to the page the redirect shows, once; only its hash
    is kept.
    """
    user = request.user
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("action") == "create-token":
                token, secret = create_token(user, request.POST.get("name", ""))
                request.session[NEW_TOKEN_KEY] = secret
                messages.success(request, f"Created the token “{token.name}”.")
            else:
                revoke_token(user, request.POST.get("token", ""))
                messages.success(request, "Revoked the token: requests carrying it now fail.")
            return redirect("account")
        except NotFound:
            raise Http404 from None
        except ServiceError as failure:
            error = failure.message
    discord = SocialAccount.objects.filter(user=user, provider="discord").first()
    context = {
        "discord_id": user.discord_id,
        # The name Discord shows (global name, else username), as of the last sign-in.
        "discord_name": discord.get_provider_account().to_str() if discord else user.username,
        "tokens": list_tokens(user),
        "new_secret": "" if error else request.session.pop(NEW_TOKEN_KEY, ""),
        "token_error": error,
        "token_name": request.POST.get("name", "") if error else "",
    }
    return render(request, "account/account.html", context, status=400 if error else 200)


@login_required
@require_safe
def account_data(request: AuthenticatedHttpRequest) -> JsonResponse:
    """Everything we hold about the signed-in user, as a JSON file to keep."""
    response = JsonResponse(
        export_account(request.user), json_dumps_params={"ensure_ascii": False, "indent": 2}
    )
    response["Content-Disposition"] = 'attachment; filename="market-alerts-data.json"'
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def account_delete(request: AuthenticatedHttpRequest) -> HttpResponse:
    """What deleting the account removes, a box for the username to confirm, and the delete.

    After it, the browser is signed out and lands on the front page with a note.
    """
    user = request.user
    error = None
    if request.method == "POST":
        try:
            delete_account(user, request.POST.get("confirm"))
        except ServiceError as failure:
            error = failure.message
        else:
            logout(request)
            messages.success(request, "Your account and everything we held about you are deleted.")
            return redirect("dashboard")
    goes = what_goes(user)
    context = {
        "goes": [
            counted(goes.filters, "filter"),
            counted(goes.tokens, "API token"),
            counted(goes.pending_alerts, "pending alert"),
            counted(goes.past_alerts, "past alert"),
        ],
        "error": error,
        "typed": request.POST.get("confirm", "") if error else "",
    }
    return render(request, "account/delete.html", context, status=400 if error else 200)
