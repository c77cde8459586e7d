"""The REST API's routes, under /api/v1/ (config/urls.py), with its OpenAPI schema and docs."""

from __future__ import annotations

from typing import Any

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import path
from django.views import View
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from alerts.api import AccountView, AlertViewSet, MyDataView
from filters.api import FilterViewSet
from listings.api import ListingViewSet
from users.api import TokenViewSet


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI. OPTIONS answers as for any page (its methods in `Allow`): DRF's would
    render its metadata through the page's HTML renderer, which has no template for it."""

    # Any: DRF's and Django's signatures of options() differ; this is Django's.
    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return View.options(self, request, *args, **kwargs)


router = SimpleRouter()
router.register("filters", FilterViewSet, basename="api-filter")
router.register("alerts", AlertViewSet, basename="api-alert")
router.register("listings", ListingViewSet, basename="api-listing")
router.register("tokens", TokenViewSet, basename="api-token")

urlpatterns = [
    path("me/", AccountView.as_view(), name="api-me"),
    path("me/data/", MyDataView.as_view(), name="api-my-data"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file of its own: no inline script for
    # the Content-Security-Policy to allow, and Swagger UI itself comes from the sidecar.
    # Swagger UI's page carries an inline <style> and the UI sets inline styles and data: images.
    path(
        "docs/",
        csp_update({"style-src": [UNSAFE_INLINE]})(ApiDocsView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    *router.urls,
]
