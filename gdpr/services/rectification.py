"""Rectification (GDPR art. 16): the DPO's corrected values applied to every golden
customer of a request's confirmed scope.

Each value becomes a pinned value of origin "rectification, request N" (through
`rcu.hooks.customer_rectify`: the stewards' ledger of corrections, undoable, surviving
later source updates until the DPO changes it), and leaves as `customer.rectified`
events so that sources and subscribers correct their copies. All customers of the
request are rectified in one transaction, or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from gdpr.models import RequestKind, SubjectRequest
from gdpr.selectors.pack_sources import request_scope
from gdpr.services.requests import request_step_record
from rcu import hooks
from rcu.models import Customer
from rcu.selectors.customers import customer_resolve


class RectificationRefused(Exception):
    """Nothing was written: the request, its scope or a value (`field`) is refused."""

    def __init__(self, reason: str, *, field: str = "") -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class RectificationOutcome:
    customer_public_ids: list[str]
    decision_ids: list[int]
    attributes: list[str]


def rectification_customers(request: SubjectRequest) -> list[Customer]:
    """The golden customers (as they stand: merges followed) of the confirmed scope."""
    scope = request_scope(request=request)
    found: dict[int, Customer] = {}
    held = [r.customer for r in scope.records if r.customer is not None]
    for customer in [*scope.customers, *held]:
        # A customer retired since the scope was confirmed stands for its survivor.
        active = customer if customer.merged_into_id is None else customer_resolve(customer.public_id)
        if active is not None:
            found.setdefault(active.pk, active)
    return [found[pk] for pk in sorted(found)]


@transaction.atomic
def request_rectify(
    *, request: SubjectRequest, corrections: Mapping[str, str | None], acting_user: Any,
) -> RectificationOutcome:
    """Apply `corrections` (attribute → value; None unpins an earlier rectification) to
    every customer in scope, record the step and mark the request executed."""
    request = SubjectRequest.objects.select_for_update().get(pk=request.pk)
    started = timezone.now()  # the events this writes fall between it and the step
    if request.kind != RequestKind.RECTIFICATION:
        raise RectificationRefused(f"a {request.kind} request rectifies nothing")
    if not request.is_open:
        raise RectificationRefused("the request is closed")
    values = {str(k): (None if v is None else str(v)) for k, v in corrections.items()}
    if not values:
        raise RectificationRefused("name at least one attribute and its corrected value",
                                   field="corrections")
    customers = rectification_customers(request)
    if not customers:
        raise RectificationRefused("nothing is in scope: confirm the scope first")
    decisions = []
    for customer in customers:
        try:
            decisions.append(hooks.customer_rectify(
                customer_id=customer.pk, values=values,
                reason=f"rectification, request {request.reference}", request_id=request.pk,
                acting_user=acting_user,
            ))
        except hooks.ValuesRefused as exc:
            field = f"corrections.{exc.field}" if exc.field and exc.field != "values" else "corrections"
            raise RectificationRefused(exc.reason, field=field) from exc
    request.executed_at = started
    request.save(update_fields=["executed_at", "updated_at"])
    names = sorted(values)
    request_step_record(
        request=request, action="rectified", acting_user=acting_user, state_before=request.state,
        detail=f"{', '.join(names)} on {len(customers)} customer(s)",
    )
    return RectificationOutcome(customer_public_ids=[str(c.public_id) for c in customers],
                                decision_ids=decisions, attributes=names)
