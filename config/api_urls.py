"""The REST API's routes, under /api/v1/ (config/urls.py), with its OpenAPI schema and docs."""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from alerts.api import AlertViewSet
from filters.api import FilterViewSet
from listings.api import ListingViewSet
from users.api import MeView, TokenViewSet

router = SimpleRouter()
router.register("filters", FilterViewSet, basename="api-filter")
router.register("alerts", AlertViewSet, basename="api-alert")
router.register("listings", ListingViewSet, basename="api-listing")
router.register("tokens", TokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", MeView.as_view(), name="api-me"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own: no inline script for
    # the Content-Security-Policy to allow, and Swagger UI itself comes from the sidecar.
    # Swagger UI's page carries an inline <style> and the UI sets inline styles and data: images.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
    *router.urls,
]
