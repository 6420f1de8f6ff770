"""Reviewing one candidate side by side, and deciding it."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rcu import hooks
from rcu.models import Department
from stewardship.forms import DecisionForm, QueueFilterForm
from stewardship.models import MergeCandidate
from stewardship.selectors.access import (
    candidate_get_for_user,
    rejection_in_effect,
    user_can_decide,
    user_can_reopen,
    user_can_undo,
    viewable_departments_for,
)
from stewardship.selectors.queue import queue_neighbours
from stewardship.selectors.review import candidate_review
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.leases import candidate_claim, candidate_release
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import candidate_reopen

CHOICE_PREFIX = "choice_"


def _queue_params(request: HttpRequest) -> QueryDict:
    """The queue the steward came from (department and filters), carried along."""
    source = request.POST if request.method == "POST" else request.GET
    params = QueryDict(source.get("queue", ""), mutable=True)
    params.pop("page", None)
    return params


def _department(request: HttpRequest, params: QueryDict, candidate: MergeCandidate):
    viewable = viewable_departments_for(request.user)
    code = params.get("department")
    department = viewable.filter(code=code).first() if code else None
    if department is None:
        department = (
            Department.objects.filter(merge_candidates=candidate, pk__in=viewable.values("pk"))
            .order_by("name").first()
        )
    return department


def _neighbours(request, params, candidate):
    department = _department(request, params, candidate)
    if department is None:
        return None, None, None
    filters = QueueFilterForm(params).filters()
    prev, nxt = queue_neighbours(
        department=department, filters=filters, user=request.user, candidate=candidate
    )
    return department, prev, nxt


def _review_url(pk: int, params: QueryDict) -> str:
    url = reverse("stewardship:review", args=[pk])
    return f"{url}?{urlencode({'queue': params.urlencode()})}" if params else url


def _queue_url(params: QueryDict) -> str:
    url = reverse("stewardship:queue")
    return f"{url}?{params.urlencode()}" if params else url


@login_required
@require_GET
def review(request: HttpRequest, pk: int) -> HttpResponse:
    """The candidate's customers and records side by side, the explanation, the decision."""
    candidate = candidate_get_for_user(user=request.user, pk=pk)
    can_decide = user_can_decide(user=request.user, candidate=candidate)
    held_by_me = False
    if can_decide and candidate.status == MergeCandidate.Status.OPEN:
        held_by_me = candidate_claim(candidate=candidate, user=request.user)
    view = candidate_review(candidate=candidate, user=request.user)
    hooks.personal_data_read(
        user=request.user, customers=[c.customer for c in view.customers], purpose="candidate_review"
    )
    params = _queue_params(request)
    department, prev, nxt = _neighbours(request, params, candidate)
    context = {
        "candidate": candidate,
        "review": view,
        "can_decide": can_decide and candidate.status == MergeCandidate.Status.OPEN and held_by_me,
        "can_reopen": candidate.status == MergeCandidate.Status.REJECTED
        and user_can_reopen(user=request.user, candidate=candidate),
        "held_by_other": candidate.status == MergeCandidate.Status.OPEN and not held_by_me
        and candidate.leased_by_id is not None,
        "department": department,
        "queue": params.urlencode(),
        "queue_url": _queue_url(params),
        "prev_url": _review_url(prev, params) if prev else "",
        "next_url": _review_url(nxt, params) if nxt else "",
        "decision_form": DecisionForm(initial={"expected": candidate.updated_at.isoformat()}),
        "choice_prefix": CHOICE_PREFIX,
    }
    return render(request, "stewardship/review.html", context)


def _decide(request: HttpRequest, pk: int, action) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, pk=pk)
    if not user_can_decide(user=request.user, candidate=candidate):
        raise PermissionDenied
    params = _queue_params(request)
    _, _prev, nxt = _neighbours(request, params, candidate)
    form = DecisionForm(request.POST)
    form.is_valid()
    try:
        message, decision = action(candidate, form)
    except (DecisionConflict, DecisionInvalid) as error:
        messages.error(request, str(error))
        return redirect(_review_url(candidate.pk, params))
    # The confirmation carries an undo button (base.html reads the decision from the tag).
    messages.success(request, message, extra_tags=f"undo:{decision.pk}")
    return redirect(_review_url(nxt, params) if nxt else _queue_url(params))


@login_required
@require_POST
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge with the values the steward picked (choice_<attribute> = record id)."""

    def action(candidate, form):
        choices = {
            name[len(CHOICE_PREFIX):]: value
            for name, value in request.POST.items()
            if name.startswith(CHOICE_PREFIX) and value
        }
        also = [int(v) for v in request.POST.getlist("include") if v.isdigit()]
        decision = candidate_merge(
            candidate_id=candidate.pk, acting_user=request.user, choices=choices,
            also_customer_ids=also, expected_updated_at=form.expected_updated_at(),
            reason=form.cleaned_data.get("reason", ""),
        )
        return _("Merged into %(customer)s.") % {"customer": decision.survivor}, decision

    return _decide(request, pk, action)


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    def action(candidate, form):
        decision = candidate_reject(
            candidate_id=candidate.pk, acting_user=request.user,
            reason=form.cleaned_data.get("reason", ""),
            expected_updated_at=form.expected_updated_at(),
        )
        return _("Rejected: these will never be proposed together again."), decision

    return _decide(request, pk, action)


@login_required
@require_POST
def skip(request: HttpRequest, pk: int) -> HttpResponse:
    """Leave it for later (or someone else): the lease is given back."""
    candidate = candidate_get_for_user(user=request.user, pk=pk)
    candidate_release(candidate=candidate, user=request.user)
    params = _queue_params(request)
    _, _prev, nxt = _neighbours(request, params, candidate)
    return redirect(_review_url(nxt, params) if nxt else _queue_url(params))


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = candidate_get_for_user(user=request.user, pk=pk)
    # The rule of every undo (user_can_undo), on the rejection in effect; with none in
    # effect the service answers that there is nothing to reopen.
    rejection = rejection_in_effect(candidate_id=candidate.pk)
    allowed = (
        user_can_undo(user=request.user, decision=rejection) if rejection is not None
        else user_can_decide(user=request.user, candidate=candidate)
    )
    if not allowed:
        raise PermissionDenied
    try:
        candidate_reopen(candidate_id=candidate.pk, acting_user=request.user,
                         reason=request.POST.get("reason", ""))
        messages.success(request, _("Reopened: the candidate is back in the queue."))
    except DecisionForbidden as error:
        raise PermissionDenied(str(error)) from error
    except (DecisionConflict, DecisionInvalid) as error:
        messages.error(request, str(error))
    return redirect(_review_url(candidate.pk, _queue_params(request)))
