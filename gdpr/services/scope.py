"""The DPO confirms which customers and records are the person's (the request's scope)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from gdpr.models import ScopeItem, SubjectRequest
from gdpr.services.requests import request_step_record
from rcu.models import Customer, SourceRecord


class ScopeInvalid(ValueError):
    """Ids that name nothing: `unknown_customers` and `unknown_records` say which."""

    def __init__(self, *, unknown_customers: list[str], unknown_records: list[int]) -> None:
        super().__init__("unknown ids")
        self.unknown_customers = unknown_customers
        self.unknown_records = unknown_records


@dataclass(frozen=True)
class ScopeOutcome:
    customers: int  # customers in scope
    records: int  # records in scope (a customer's own records included)
    set_aside: int  # items taken out of scope by this decision


def _survivor(customer: Customer) -> Customer:
    seen = {customer.pk}
    while customer.merged_into_id is not None and customer.merged_into_id not in seen:
        seen.add(customer.merged_into_id)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def request_scope_set(
    *, request: SubjectRequest, customer_public_ids: Iterable[str | UUID],
    record_ids: Iterable[int], acting_user: Any,
) -> ScopeOutcome:
    """These customers (each with every record it holds) and records are the person's;
    whatever was in scope before and is not named now is set aside (kept, `in_scope`
    false, with who and when). A retired customer stands for its survivor."""
    wanted_public = {str(p) for p in customer_public_ids}
    readable = set()
    for given in wanted_public:
        try:
            readable.add(str(UUID(given)))
        except ValueError:
            continue
    by_public = {str(c.public_id): c for c in Customer.objects.filter(public_id__in=readable)}
    wanted_public = {str(UUID(p)) if p in readable else p for p in wanted_public}
    wanted_records = set(record_ids)
    records = SourceRecord.objects.in_bulk(list(wanted_records))
    unknown_customers = sorted(wanted_public - set(by_public))
    unknown_records = sorted(wanted_records - set(records))
    if unknown_customers or unknown_records:
        raise ScopeInvalid(unknown_customers=unknown_customers, unknown_records=unknown_records)

    customers = {c.pk: c for c in (_survivor(c) for c in by_public.values())}
    own_records = SourceRecord.objects.filter(customer_id__in=list(customers)).values_list(
        "pk", "customer_id"
    )
    record_customer = {r.pk: r.customer_id for r in records.values()}
    record_customer.update(dict(own_records))

    now = timezone.now()
    existing = {
        (item.customer_id, item.record_id): item
        for item in ScopeItem.objects.filter(request=request)
    }
    wanted_keys = {(pk, None) for pk in customers} | {(None, pk) for pk in record_customer}
    set_aside = 0
    for key, item in existing.items():
        if key not in wanted_keys and item.in_scope:
            item.in_scope = False
            item.decided_by = acting_user
            item.decided_at = now
            item.save(update_fields=["in_scope", "decided_by", "decided_at"])
            set_aside += 1
    for pk, customer in customers.items():
        _decide(existing.get((pk, None)), request=request, customer=customer, record_id=None,
                acting_user=acting_user, now=now)
    public_ids = dict(
        Customer.objects.filter(pk__in=set(record_customer.values())).values_list("pk", "public_id")
    )
    for pk, customer_id in record_customer.items():
        _decide(existing.get((None, pk)), request=request, customer=None, record_id=pk,
                public_id=public_ids.get(customer_id) if customer_id else None, acting_user=acting_user, now=now)
    request_step_record(
        request=request, action="scope_confirmed", acting_user=acting_user,
        state_before=request.state,
        detail=f"{len(customers)} customers, {len(record_customer)} records in scope; "
               f"{set_aside} set aside",
    )
    return ScopeOutcome(customers=len(customers), records=len(record_customer), set_aside=set_aside)


def _decide(
    item: ScopeItem | None, *, request: SubjectRequest, customer: Customer | None,
    record_id: int | None, acting_user: Any, now: Any, public_id: UUID | None = None,
) -> None:
    if item is None:
        ScopeItem.objects.create(
            request=request, customer=customer, record_id=record_id,
            customer_public_id=customer.public_id if customer is not None else public_id,
            in_scope=True, decided_by=acting_user,
        )
    elif not item.in_scope:
        item.in_scope = True
        item.decided_by = acting_user
        item.decided_at = now
        item.save(update_fields=["in_scope", "decided_by", "decided_at"])
