"""Reads the API needs beyond the shared selectors, built on them.

Every function starts from the access selectors (`sources_for_user`,
`customers_visible_to`, `records_visible_to`, `import_jobs_visible_to`), so the
department rules are the same as in the UI, and owns its `select_related` /
`prefetch_related` so that lists cost a constant number of queries.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models import Prefetch, QuerySet
from django_filters import FilterSet
from django_filters.utils import translate_validation

from rcu.apis.filters import CustomerFilter, ImportJobFilter, RecordFilter
from rcu.models import Customer, ImportJob, SourceRecord, SourceSystem
from rcu.selectors.customers import customer_get_for_user, customers_visible_to
from rcu.selectors.imports import import_jobs_visible_to
from rcu.selectors.records import (
    customer_records_for_user,
    provenance_for_user,
    records_visible_to,
)
from rcu.selectors.restriction import unrestricted
from rcu.selectors.sources import INGEST, sources_for_user
from rcu.services.matching.context import match_context
from rcu.services.matching.realtime import match_search


def _filtered(filterset: FilterSet) -> QuerySet:
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs


def sources_list(*, user) -> QuerySet[SourceSystem]:
    return sources_for_user(user).prefetch_related("mappings")


def source_ids_ingestable_by(user) -> set[int]:
    return set(sources_for_user(user, perm=INGEST).values_list("pk", flat=True))


def customer_list(*, user, filters: Mapping[str, Any]) -> QuerySet[Customer]:
    """Visible active customers matching the filters (with `updated_since`, those merged
    away since too), each with `visible_records`."""
    customers = _filtered(CustomerFilter(filters, user=user))
    if filters.get("updated_since"):
        # The bulk list a system syncs from is an export: a restricted customer (art. 18)
        # leaves it; a search by name, e-mail or phone still finds them, marked.
        customers = unrestricted(customers)
    visible_records = records_visible_to(user).order_by(
        "source__trust_rank", "source__code", "external_id"
    )
    return customers.select_related("merged_into").prefetch_related(
        Prefetch("records", queryset=visible_records, to_attr="visible_records")
    )


def customer_detail_for_user(*, user, public_id: uuid.UUID | str) -> Customer:
    """The customer (a retired id resolves to its survivor) with what the person may see.

    Sets `visible_records`, `hidden_records` (how many linked records the person
    may not see), `merged_from` (public ids merged into this customer) and
    `visible_provenance`: the provenance, where a value that came from a record
    the person may not see names its source and rule but not its external id.
    """
    customer = customer_get_for_user(user=user, public_id=public_id)
    records, hidden = customer_records_for_user(user=user, customer=customer)
    # Set on the instance for CustomerDetailSerializer, as Prefetch(to_attr=...) sets
    # `visible_records` on a list: attributes the model does not declare.
    customer.visible_records = records  # type: ignore[attr-defined]
    customer.hidden_records = hidden  # type: ignore[attr-defined]
    customer.merged_from = list(  # type: ignore[attr-defined]
        Customer.objects.filter(merged_into=customer).order_by("pk").values_list("public_id", flat=True)
    )
    customer.visible_provenance = provenance_for_user(  # type: ignore[attr-defined]
        customer.provenance, visible_records=records
    )
    return customer


def customers_matching_for_user(*, user, values: Mapping[str, str], limit: int) -> list[dict]:
    """Search before create, limited to the customers the person may see, each with
    `visible_records`: [{"customer", "probability", "band", "explanation"}]."""
    visible = customers_visible_to(user)
    hits = match_search(
        values={k: v for k, v in values.items() if v},
        default_region=(values.get("country") or "FR").upper()[:2],
        limit=limit,
        customer_ids_allowed=lambda ids: visible.filter(pk__in=ids).values_list("pk", flat=True),
    )
    visible_records = records_visible_to(user).order_by(
        "source__trust_rank", "source__code", "external_id"
    )
    customers = Customer.objects.prefetch_related(
        Prefetch("records", queryset=visible_records, to_attr="visible_records")
    ).in_bulk([hit.customer_id for hit in hits])
    context = match_context()
    return [
        {
            "customer": customers[hit.customer_id],
            "probability": hit.score.probability,
            "band": "auto_link"
            if hit.score.probability >= context.auto_link and hit.explanation["link_guard"] is None
            else "review",
            "explanation": hit.explanation,
        }
        for hit in hits
        if hit.customer_id in customers
    ]


def record_list(*, user, filters: Mapping[str, Any]) -> QuerySet[SourceRecord]:
    records = records_visible_to(user).select_related("customer")
    return _filtered(RecordFilter(filters, queryset=records))


def import_job_list(*, user, filters: Mapping[str, Any]) -> QuerySet[ImportJob]:
    return _filtered(ImportJobFilter(filters, queryset=import_jobs_visible_to(user)))
