"""The customer page's stewardship panel: decisions that shaped it, detach, undo."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rcu.selectors.customers import customer_get_for_user, customer_resolve
from rcu.selectors.records import customer_records_for_user
from stewardship.selectors.access import (
    decisions_visible_to,
    user_can_decide_for_customer,
    user_can_undo,
)
from stewardship.selectors.decisions import customer_decisions
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.unmerge import decision_undo, records_detach


@login_required
@require_GET
def decisions_panel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """Loaded into the customer page: who decided what on this customer, and undo."""
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    records, _hidden = customer_records_for_user(user=request.user, customer=customer)
    can_decide = user_can_decide_for_customer(user=request.user, customer=customer)
    decisions = list(customer_decisions(customer=customer))
    for decision in decisions:
        # A flag for the template only, set on the instance it renders.
        decision.user_can_undo = can_decide and user_can_undo(  # type: ignore[attr-defined]
            user=request.user, decision=decision
        )
    context = {
        "customer": customer,
        "decisions": decisions,
        "records": records,
        "can_decide": can_decide,
        "can_detach": can_decide and len(records) > 1,
    }
    return render(request, "stewardship/_customer_decisions.html", context)


@login_required
@require_POST
def detach(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    if not user_can_decide_for_customer(user=request.user, customer=customer):
        raise PermissionDenied
    visible = {r.pk for r in customer_records_for_user(user=request.user, customer=customer)[0]}
    wanted = [int(v) for v in request.POST.getlist("records") if v.isdigit()]
    if any(r not in visible for r in wanted):
        raise Http404("No such record")
    try:
        decision = records_detach(
            customer_id=customer.pk, record_ids=wanted, acting_user=request.user,
            reason=request.POST.get("reason", ""),
        )
    except (DecisionConflict, DecisionInvalid) as error:
        messages.error(request, str(error))
        return redirect("customer_detail", public_id=customer.public_id)
    survivor = decision.survivor
    assert survivor is not None  # a detach decision names the new customer as its survivor
    messages.success(request, _("Detached into a new customer."))
    return redirect("customer_detail", public_id=survivor.public_id)


@login_required
@require_POST
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    decision = decisions_visible_to(request.user).filter(pk=pk).first()
    if decision is None:
        raise Http404("No such decision")
    if not user_can_undo(user=request.user, decision=decision):
        raise PermissionDenied
    customer = decision.survivor or decision.customers.order_by("pk").first()
    back = request.POST.get("next", "")
    try:
        decision_undo(decision_id=decision.pk, acting_user=request.user,
                      reason=request.POST.get("reason", ""))
        messages.success(request, _("Undone: the customers are back as they were."))
    except DecisionForbidden as error:
        raise PermissionDenied(str(error)) from error
    except (DecisionConflict, DecisionInvalid) as error:
        messages.error(request, str(error))
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    resolved = customer_resolve(customer.public_id) if customer else None
    if resolved is None:
        return redirect("stewardship:queue")
    return redirect("customer_detail", public_id=resolved.public_id)
