"""URL routes: the admin (moderation), accounts, the health checks and the metrics."""

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from ops.admin_login import throttled_admin_login
from ops.health import health
from ops.metrics_view import metrics
from ops.staff_dashboard import staff_operations
from web.views import account_data, account_delete, account_page


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness only: the process answers. /health says whether the installation works."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", include("web.urls")),
    # Before the admin's own routes, which would answer 404 for it.
    path(f"{settings.ADMIN_URL}operations/", staff_operations, name="staff-operations"),
    # Listings' admin pages moved with the model to the listings app: old bookmarks follow.
    re_path(
        rf"^{settings.ADMIN_URL}scraping/listing/(?P<rest>.*)$",
        RedirectView.as_view(
            url=f"/{settings.ADMIN_URL}listings/listing/%(rest)s", query_string=True
        ),
    ),
    # The admin's login, throttled (ops/admin_login.py), in front of the admin's own.
    path(f"{settings.ADMIN_URL}login/", throttled_admin_login),
    path(settings.ADMIN_URL, admin.site.urls),
    # The account page; allauth's own pages (Discord sign-in, logout) are below it.
    path("accounts/", account_page, name="account"),
    path("accounts/data/", account_data, name="account-data"),
    path("accounts/delete/", account_delete, name="account-delete"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("config.api_urls")),  # the REST API, its schema and docs
    path("healthz", healthz),
    # Browsers and tools ask for /favicon.ico whatever a page links.
    path("favicon.ico", RedirectView.as_view(url=static("img/favicon.svg"))),
    path("health", health, name="health"),  # ops/health.py: what works, what to look at
    path("metrics", metrics, name="metrics"),  # Prometheus; METRICS_TOKEN or loopback only
]
