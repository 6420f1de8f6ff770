"""Restriction (GDPR art. 18) through a subject request: the DPO restricts every golden
customer of a restriction request's confirmed scope, and lifts it later.

The restriction itself is the core's (`rcu.services.restriction`: history, events, the
channels that honour it); this module ties it to the request and its trail. Restricting
needs an open request of kind restriction and a confirmed scope, and marks the request
executed; lifting is allowed once the request is closed too, since a restriction outlives
its request (it lasts until the accuracy is verified, the objection weighed…).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from gdpr.models import RequestKind, SubjectRequest
from gdpr.services.rectification import rectification_customers
from gdpr.services.requests import request_step_record
from rcu.services.restriction import customer_restrict, customer_restriction_lift


class RestrictionRequestRefused(Exception):
    """Nothing was written: the request or its scope does not allow it."""


@dataclass(frozen=True)
class RestrictionOutcome:
    changed: list[str]  # public ids restricted (or lifted) now
    unchanged: list[str]  # already in the asked state


def _customers(request: SubjectRequest, *, reason: str) -> list:
    if request.kind != RequestKind.RESTRICTION:
        raise RestrictionRequestRefused(f"a {request.kind} request restricts nothing")
    if not reason.strip():
        raise RestrictionRequestRefused("say why")
    customers = rectification_customers(request)
    if not customers:
        raise RestrictionRequestRefused("nothing is in scope: confirm the scope first")
    return customers


@transaction.atomic
def request_restrict(*, request: SubjectRequest, reason: str, acting_user: Any) -> RestrictionOutcome:
    """Restrict every customer in the request's scope (those already restricted stay so)."""
    request = SubjectRequest.objects.select_for_update().get(pk=request.pk)
    if not request.is_open:
        raise RestrictionRequestRefused("the request is closed")
    changed, unchanged = [], []
    for customer in _customers(request, reason=reason):
        if customer.restricted_at is not None:
            unchanged.append(str(customer.public_id))
            continue
        customer_restrict(customer=customer, reason=f"request {request.reference}: {reason.strip()}",
                          acting_user=acting_user)
        changed.append(str(customer.public_id))
    if request.executed_at is None:
        request.executed_at = timezone.now()
        request.save(update_fields=["executed_at", "updated_at"])
    request_step_record(request=request, action="restricted", acting_user=acting_user,
                        state_before=request.state, detail=f"{len(changed)} customer(s)")
    return RestrictionOutcome(changed=changed, unchanged=unchanged)


@transaction.atomic
def request_restriction_lift(*, request: SubjectRequest, reason: str, acting_user: Any) -> RestrictionOutcome:
    """Lift the restriction of every customer in the request's scope."""
    request = SubjectRequest.objects.select_for_update().get(pk=request.pk)
    changed, unchanged = [], []
    for customer in _customers(request, reason=reason):
        if customer.restricted_at is None:
            unchanged.append(str(customer.public_id))
            continue
        customer_restriction_lift(customer=customer, reason=f"request {request.reference}: {reason.strip()}",
                                  acting_user=acting_user)
        changed.append(str(customer.public_id))
    request_step_record(request=request, action="restriction_lifted", acting_user=acting_user,
                        state_before=request.state, detail=f"{len(changed)} customer(s)")
    return RestrictionOutcome(changed=changed, unchanged=unchanged)
