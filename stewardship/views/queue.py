"""A department's queue of suspected duplicates."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from rcu import hooks
from rcu.views.pagination import page_number, slice_page
from stewardship.forms import QueueFilterForm
from stewardship.selectors.access import queue_departments_for, viewable_departments_for
from stewardship.selectors.queue import (
    COUNT_CAP,
    capped_count,
    queue_candidates,
    queue_open_counts,
    queue_sources,
)

PAGE_SIZE = 25


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    """The queue of one department the person may see, filtered, sorted, paginated."""
    departments = list(viewable_departments_for(request.user).order_by("name"))
    form = QueueFilterForm(request.GET)
    filters = form.filters()
    department = _chosen(request, departments)
    page, total = None, 0
    if department is not None:
        candidates = queue_candidates(department=department, filters=filters, user=request.user)
        # Paged without a full COUNT: a backlog of 100,000 is counted up to COUNT_CAP.
        page = slice_page(candidates, number=page_number(request.GET.get("page")),
                          per_page=PAGE_SIZE, ids_first=True)
        total = capped_count(candidates)
        customers = [
            c for candidate in page.object_list
            for c in (candidate.record_a.customer, candidate.record_b.customer) if c is not None
        ]
        hooks.personal_data_read(user=request.user, customers=customers, purpose="merge_queue")
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "departments": departments,
        "department": department,
        "counts": queue_open_counts(departments=departments),
        "total": total,
        "cap": COUNT_CAP,
        "form": form,
        "filters": filters,
        "page": page,
        "sources": queue_sources(department) if department else [],
        "query": params.urlencode(),
        "now": timezone.now(),
        "can_decide": department is not None
        and request.user.has_perm("stewardship.decide_mergecandidate")
        and queue_departments_for(request.user).filter(pk=department.pk).exists(),
    }
    return render(request, "stewardship/queue.html", context)


def _chosen(request: HttpRequest, departments: list):
    code = request.GET.get("department", "")
    for department in departments:
        if department.code == code:
            return department
    own = set(queue_departments_for(request.user).values_list("pk", flat=True))
    return next((d for d in departments if d.pk in own), departments[0] if departments else None)
