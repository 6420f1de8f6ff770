"""/gdpr/access-log/: the DPO reads who read which customer's data, when and why."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import render
from django.views.decorators.http import require_GET

from gdpr.forms import AccessLogSearchForm
from gdpr.selectors.access_log import (
    AccessLogFilters,
    access_log_entries_for_user,
    access_log_rows,
    require_access_log_reader,
)
from gdpr.services.access_log import access_log_person_search
from gdpr.tables import access_log_csv_response
from rcu.views.pagination import page_number, slice_page

PAGE_SIZE = 50


@login_required
@require_GET
def access_log_page(request: HttpRequest) -> HttpResponseBase:
    """Search by person, user, period, purpose and channel; paged without counting (the
    log is the largest table); `?export=csv` downloads every matching entry."""
    require_access_log_reader(request.user)
    form = AccessLogSearchForm(request.GET or None)
    context: dict = {"form": form, "people": [], "page": None, "query": ""}
    if form.is_bound and not form.is_valid():
        return render(request, "gdpr/access_log.html", context, status=400)
    filters = AccessLogFilters()
    if form.is_bound:
        people, public_ids = access_log_person_search(
            user=request.user, text=form.cleaned_data["person"], purpose="access_log_person_search"
        )
        context["people"] = people
        filters = form.filters(public_ids)
    entries = access_log_entries_for_user(user=request.user, filters=filters)
    if request.GET.get("export") == "csv":
        return access_log_csv_response(access_log_rows(entries))
    context["page"] = slice_page(
        entries, number=page_number(request.GET.get("page")), per_page=PAGE_SIZE, ids_first=True
    )
    params = request.GET.copy()
    params.pop("page", None)
    params.pop("export", None)
    context["query"] = params.urlencode()
    return render(request, "gdpr/access_log.html", context)
