"""The customer page's stewardship panel: decisions that shaped it, correct values,
detach (split), undo."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rcu import hooks
from rcu.attributes import ADDRESS_GROUP, CANONICAL_ATTRIBUTES
from rcu.selectors.customers import customer_get_for_user, customer_resolve
from rcu.selectors.records import customer_records_for_user
from stewardship.forms import DecisionForm
from stewardship.selectors.access import (
    decisions_visible_to,
    user_can_decide_for_customer,
    user_can_undo,
)
from stewardship.selectors.decisions import customer_decisions
from stewardship.selectors.review import MAX_CLUSTER, customers_compare
from stewardship.services.corrections import (
    CorrectionOrigin,
    customer_values_correct,
    is_rectified,
)
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo, records_detach
from stewardship.views.review import CHOICE_PREFIX


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
        "correctable": _correctable(customer) if can_decide else [],
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


@dataclass
class CorrectableRow:
    name: str
    label: str
    value: str
    pinned: bool  # typed by hand: may be unpinned
    rectified: bool  # the DPO's: not the steward's to change
    address: bool


def _current_text(customer, name: str) -> str:
    value = getattr(customer, name)
    return value.isoformat() if hasattr(value, "isoformat") else str(value or "")


def _correctable(customer) -> list[CorrectableRow]:
    pinned = customer.pinned or {}
    return [
        CorrectableRow(
            name=a.name, label=str(a.label), value=_current_text(customer, a.name),
            pinned="value" in pinned.get(a.name, {}), rectified=is_rectified(pinned.get(a.name)),
            address=a.name in ADDRESS_GROUP,
        )
        for a in CANONICAL_ATTRIBUTES
    ]


def correction_values(post, customer) -> dict[str, str | None]:
    """What the form asks: the attributes whose text changed (the whole address when one
    of its fields did), and None for those to unpin."""
    values: dict[str, str | None] = {}
    for attribute in CANONICAL_ATTRIBUTES:
        name = attribute.name
        if name not in post:
            continue
        text = post.get(name, "").strip()
        if text != _current_text(customer, name):
            values[name] = text
    if any(n in values for n in ADDRESS_GROUP):
        values.update({n: post.get(n, "").strip() for n in ADDRESS_GROUP if n in post})
    for name in post.getlist("unpin"):
        if name in ADDRESS_GROUP:
            values.update(dict.fromkeys(ADDRESS_GROUP))
        elif any(a.name == name for a in CANONICAL_ATTRIBUTES):
            values[name] = None
    return values


@login_required
@require_POST
def correct(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A steward corrects golden values by hand, with a reason (or unpins them)."""
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    if not user_can_decide_for_customer(user=request.user, customer=customer):
        raise PermissionDenied
    values = correction_values(request.POST, customer)
    try:
        if not values:
            raise DecisionInvalid(_("Nothing was changed."), field="values")
        decision = customer_values_correct(
            customer_id=customer.pk, values=values, reason=request.POST.get("reason", ""),
            origin=CorrectionOrigin.CORRECTION, acting_user=request.user,
        )
    except DecisionForbidden as error:
        messages.error(request, str(error))
    except (DecisionConflict, DecisionInvalid) as error:
        labels = {a.name: str(a.label) for a in CANONICAL_ATTRIBUTES}
        field = getattr(error, "field", "")
        messages.error(request, _("%(field)s: %(error)s") % {"field": labels[field], "error": error}
                       if field in labels else str(error))
    else:
        messages.success(request, _("Corrected: the value is kept whatever the sources say, "
                                    "until a steward changes it."), extra_tags=f"undo:{decision.pk}")
    return redirect("customer_detail", public_id=customer.public_id)


def _customers_to_merge(request: HttpRequest, public_ids: list[str]) -> list:
    """The customers named (retired ids resolve to their survivor), each one the person
    may see (404) and decide for (403), in the order given, without repeats."""
    found: dict[int, object] = {}
    for public_id in public_ids[:MAX_CLUSTER + 1]:
        customer = customer_get_for_user(user=request.user, public_id=public_id)
        if not user_can_decide_for_customer(user=request.user, customer=customer):
            raise PermissionDenied
        found.setdefault(customer.pk, customer)
    return list(found.values())


@login_required
@require_http_methods(["GET", "POST"])
def customers_merge_review(request: HttpRequest) -> HttpResponse:
    """Customers a steward found by search, side by side (GET), and their merge (POST)
    with the values the steward picked: the same screen and ledger as a candidate's."""
    source = request.POST if request.method == "POST" else request.GET
    customers = _customers_to_merge(request, source.getlist("customers"))
    if len(customers) < 2 or len(customers) > MAX_CLUSTER:
        messages.error(request, _("Select between two and %(max)d customers to merge.")
                       % {"max": MAX_CLUSTER})
        return redirect("customer_list")
    if request.method == "POST":
        by_public_id = {str(c.public_id): c.pk for c in customers}
        choices = {
            name[len(CHOICE_PREFIX):]: int(value) for name, value in request.POST.items()
            if name.startswith(CHOICE_PREFIX) and isinstance(value, str) and value.isdigit()
        }
        try:
            decision = customers_merge(
                customer_ids=list(by_public_id.values()),
                survivor_id=by_public_id.get(request.POST.get("survivor", "")),
                choices=choices, reason=request.POST.get("reason", "").strip(),
                acting_user=request.user,
            )
        except (DecisionConflict, DecisionInvalid) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Merged into %(customer)s.") % {"customer": decision.survivor},
                             extra_tags=f"undo:{decision.pk}")
            assert decision.survivor is not None  # a merge names its survivor
            return redirect("customer_detail", public_id=decision.survivor.public_id)
    comparison = customers_compare(customer_ids=[c.pk for c in customers], user=request.user)
    hooks.personal_data_read(user=request.user, customers=customers, purpose="customers_merge")
    return render(request, "stewardship/customers_merge.html", {
        "review": comparison, "can_decide": True, "choice_prefix": CHOICE_PREFIX,
        "customers": customers, "decision_form": DecisionForm(),
    })
