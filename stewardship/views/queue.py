"""A department's queue of suspected duplicates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rcu import hooks
from rcu.views.pagination import page_number, slice_page
from stewardship.explain import explanation_sentence
from stewardship.forms import QueueFilterForm
from stewardship.selectors.access import (
    candidates_decidable_by,
    queue_departments_for,
    viewable_departments_for,
)
from stewardship.selectors.queue import (
    COUNT_CAP,
    capped_count,
    overdue_since,
    queue_candidates,
    queue_open_counts,
    queue_overdue_counts,
    queue_sources,
)
from stewardship.services.assign import candidates_assign
from stewardship.services.bulk import BULK_MAX, BulkAction, candidates_bulk_decide
from stewardship.services.errors import DecisionForbidden, DecisionInvalid

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
        since = overdue_since(department)
        for candidate in page.object_list:
            # What a steward triages from the list: the engine's headline, and the age.
            candidate.headline = explanation_sentence(candidate.explanation or {})
            candidate.overdue = (
                candidate.status == candidate.Status.OPEN and candidate.created_at <= since
            )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "departments": departments,
        "department": department,
        "counts": queue_open_counts(departments=departments),
        "overdue_counts": queue_overdue_counts(departments=departments),
        "stewards": _stewards_of(department) if department else [],
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


def _stewards_of(department) -> list:
    """Active stewards who work this department's queue: whom its candidates may go to."""
    return list(
        get_user_model().objects.filter(
            is_active=True, groups=department.group,
        ).filter(groups__name="role:steward").order_by("username").distinct()
    )


@login_required
@require_POST
def assign(request: HttpRequest) -> HttpResponse:
    """Give the chosen candidates to a steward (or take them back)."""
    ids = [int(v) for v in request.POST.getlist("candidates") if v.isdigit()]
    username = request.POST.get("assignee", "")
    assignee = None
    if username:
        assignee = get_user_model().objects.filter(username=username).first()
        if assignee is None:
            messages.error(request, _("No such steward."))
    back = reverse("stewardship:queue") + "?" + request.POST.get("query", "")
    if username and assignee is None:
        return redirect(back)
    try:
        changed = candidates_assign(candidate_ids=ids, assignee=assignee, acting_user=request.user)
    except DecisionForbidden:
        raise PermissionDenied from None
    except DecisionInvalid as error:
        messages.error(request, str(error))
    else:
        if assignee is None:
            messages.success(request, _("%(n)s candidates unassigned.") % {"n": changed})
        else:
            messages.success(request, _("%(n)s candidates assigned to %(who)s.")
                             % {"n": changed, "who": assignee.get_full_name() or assignee.username})
    return redirect(back)


@login_required
@require_GET
def my_backlog(request: HttpRequest) -> HttpResponse:
    """The dashboard's panel: the steward's queues, what is overdue, what is theirs."""
    from stewardship.selectors.queue import steward_backlogs

    return render(request, "stewardship/_my_backlog.html",
                  {"backlogs": steward_backlogs(user=request.user), "cap": COUNT_CAP})


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Merge or reject the chosen candidates: a confirmation first (what will be decided,
    and a reason), then each decided on its own, with the outcome and an undo per decision."""
    ids = sorted({int(v) for v in request.POST.getlist("candidates") if v.isdigit()})
    action = request.POST.get("action", "")
    query = request.POST.get("query", "")
    back = reverse("stewardship:queue") + "?" + query
    if not request.user.has_perm("stewardship.decide_mergecandidate"):
        raise PermissionDenied
    if action not in BulkAction.values or not ids:
        messages.error(request, _("Choose candidates, then merge or reject them."))
        return redirect(back)
    if request.POST.get("confirmed") != "1":
        candidates = list(candidates_decidable_by(request.user).filter(pk__in=ids).select_related(
            "record_a__customer", "record_b__customer", "record_a__source", "record_b__source"
        ).order_by("pk"))
        hooks.personal_data_read(
            user=request.user, purpose="merge_queue",
            customers=[c for cand in candidates
                       for c in (cand.record_a.customer, cand.record_b.customer) if c is not None],
        )
        for candidate in candidates:
            candidate.headline = explanation_sentence(candidate.explanation or {})  # type: ignore[attr-defined]  # shown by the template only
        return render(request, "stewardship/bulk_confirm.html", {
            "candidates": candidates, "action": action, "query": query,
            "action_label": BulkAction(action).label, "cap": BULK_MAX,
            "refused_count": len(ids) - len(candidates), "too_many": len(ids) > BULK_MAX,
        })
    try:
        outcome = candidates_bulk_decide(candidate_ids=ids, action=action,
                                         reason=request.POST.get("reason", "").strip(),
                                         acting_user=request.user)
    except DecisionInvalid as error:
        messages.error(request, str(error))
        return redirect(back)
    return render(request, "stewardship/bulk_done.html", {
        "outcome": outcome, "action": action, "query": query, "back": back,
    })
