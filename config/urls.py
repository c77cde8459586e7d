"""URL routes: the admin (moderation), accounts and the health check."""

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from users.views import account_page


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("", include("config.web_urls")),
    path("admin/", admin.site.urls),
    # The account page; allauth's own pages (Discord sign-in, logout) are below it.
    path("accounts/", account_page, name="account"),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", include("config.api_urls")),  # the REST API, its schema and docs
    path("healthz", healthz),
]
