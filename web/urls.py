"""The pages' routes: the dashboard, the filter forms, the alert history and the settings."""

from django.urls import path

from alerts import views as alert_views
from filters import views as filter_views
from web import views as web_views

urlpatterns = [
    path("", web_views.home, name="dashboard"),
    path("filters/new/", filter_views.filter_new, name="filter-new"),
    path("filters/preview/", filter_views.filter_preview, name="filter-preview"),
    path("filters/<int:filter_id>/edit/", filter_views.filter_edit, name="filter-edit"),
    path("filters/<int:filter_id>/delete/", filter_views.filter_delete, name="filter-delete"),
    path("filters/<int:filter_id>/pause/", filter_views.filter_pause, name="filter-pause"),
    path("filters/<int:filter_id>/resume/", filter_views.filter_resume, name="filter-resume"),
    path("alerts/", alert_views.alert_history, name="alert-history"),
    path("settings/", web_views.settings_page, name="settings"),
]
