"""The filter pages: create, edit, delete, pause, resume and the live preview.

Thin doors: each view reads the form, calls one function of filters/services.py
and shows its result or its messages. Somebody else's filter is a 404, like a
missing one (access_filter raises NotFound for both).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from filters.forms import FilterForm
from filters.models import Filter
from filters.preview import preview_matches, recent_matches
from filters.services import (
    access_filter,
    create_filter,
    delete_filter,
    set_filter_active,
    update_filter,
)
from lib.errors import NotFound, ServiceError, ValidationFailed
from lib.text import counted
from lib.throttle import WebFormThrottle
from listings.models import Listing
from users.signed_in import AuthenticatedHttpRequest

PREVIEW_SIZE = 10  # listings beside the form


def per_user_limit(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A POST counts against the user's API_THROTTLE_RATE, as the API's requests do; past it,
    429 with the time to wait (GET and HEAD only read)."""

    @functools.wraps(view)
    def limited(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = WebFormThrottle()
        # DRF's throttle reads only the request's user and address, which a page has too.
        if request.method == "POST" and not throttle.allow_request(request, None):  # type: ignore[arg-type]
            seconds = math.ceil(throttle.wait() or 1)
            response = HttpResponse(
                f"Too many requests: try again in {counted(seconds, 'second')}.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(seconds)
            return response
        return view(request, *args, **kwargs)

    return limited


def _own(request: AuthenticatedHttpRequest, filter_id: int) -> Filter:
    try:
        return access_filter(request.user, filter_id)
    except NotFound as error:
        raise Http404(error.message) from None


def _preview(form: FilterForm) -> tuple[list[Listing], list[str]]:
    """What the form's input would match, or the messages saying why it can't be previewed."""
    if not form.is_valid():
        return [], []
    try:
        return preview_matches(form.service_data(), PREVIEW_SIZE), []
    except ValidationFailed as failed:
        return [], [error.message for error in failed.errors]


def _form_page(
    request: HttpRequest,
    form: FilterForm,
    found: Filter | None,
    matches: list[Listing],
    problems: list[str] | None = None,
) -> HttpResponse:
    context = {"form": form, "filter": found, "matches": matches, "preview_errors": problems or []}
    return render(request, "web/filter_form.html", context, status=400 if form.errors else 200)


def _save(request: AuthenticatedHttpRequest, found: Filter | None) -> HttpResponse:
    form = FilterForm(request.POST)
    if request.POST.get("action") == "preview":
        # The preview button: the way to a preview with JavaScript off. Nothing is saved.
        matches, problems = _preview(form)
        context = {"form": form, "filter": found, "matches": matches, "preview_errors": problems}
        return render(request, "web/filter_form.html", context)
    if form.is_valid():
        try:
            if found is None:
                saved = create_filter(request.user, form.service_data())
                messages.success(request, f"Created “{saved.name}”.")
            else:
                saved = update_filter(request.user, found.pk, form.service_data())
                messages.success(request, f"Updated “{saved.name}”.")
            return redirect("dashboard")
        except NotFound as error:
            raise Http404(error.message) from None
        except ServiceError as error:
            form.add_service_error(error)
    # The page comes back with its errors; its preview follows the fields as they are now.
    matches, problems = _preview(FilterForm(request.POST))
    return _form_page(request, form, found, matches, problems)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@per_user_limit
def filter_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _save(request, None)
    return _form_page(request, FilterForm(), None, [])


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@per_user_limit
def filter_edit(request: AuthenticatedHttpRequest, filter_id: int) -> HttpResponse:
    found = _own(request, filter_id)
    if request.method == "POST":
        return _save(request, found)
    return _form_page(request, FilterForm.of(found), found, recent_matches(found, PREVIEW_SIZE))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def filter_delete(request: AuthenticatedHttpRequest, filter_id: int) -> HttpResponse:
    found = _own(request, filter_id)
    if request.method != "POST":  # GET or HEAD: the confirmation page; only a POST deletes
        return render(request, "web/filter_delete.html", {"filter": found})
    try:
        delete_filter(request.user, found.pk)
    except NotFound as error:
        raise Http404(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("dashboard")
    messages.success(request, f"Deleted “{found.name}”.")
    return redirect("dashboard")


def _set_active(request: AuthenticatedHttpRequest, filter_id: int, active: bool) -> HttpResponse:
    found = _own(request, filter_id)
    try:
        set_filter_active(request.user, found.pk, active)
    except NotFound as error:
        raise Http404(error.message) from None
    except ServiceError as error:
        messages.error(request, error.message)
        return redirect("dashboard")
    # The bot's words for the same action.
    state = "resumed: its alerts come again" if active else "paused: no alerts until you resume it"
    messages.success(request, f"“{found.name}” is {state}.")
    return redirect("dashboard")


@login_required
@require_POST
def filter_pause(request: AuthenticatedHttpRequest, filter_id: int) -> HttpResponse:
    return _set_active(request, filter_id, False)


@login_required
@require_POST
def filter_resume(request: AuthenticatedHttpRequest, filter_id: int) -> HttpResponse:
    return _set_active(request, filter_id, True)


@login_required
@require_POST
@per_user_limit
def filter_preview(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The preview fragment for the form's unsaved input (fetched by static/js/preview.js)."""
    matches, problems = _preview(FilterForm(request.POST))
    return render(request, "web/_preview.html", {"matches": matches, "preview_errors": problems})
