from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from rcu.db import id_chunks
from rcu.models import Customer, SourceRecord
from rcu.selectors.sources import sources_for_user

VIEW_ALL = "rcu.view_sourcerecord"


def records_visible_to(user) -> QuerySet[SourceRecord]:
    if not user.is_authenticated:
        return SourceRecord.objects.none()
    records = SourceRecord.objects.select_related("source", "source__department")
    if user.has_perm(VIEW_ALL):
        return records
    return records.filter(source__in=sources_for_user(user))


def record_get_for_user(*, user, pk: int) -> SourceRecord:
    record = records_visible_to(user).select_related("customer").filter(pk=pk).first()
    if record is None:
        raise Http404("No such record")
    return record


def provenance_for_user(
    provenance: Mapping[str, Mapping[str, Any]], *, visible_records: Iterable[SourceRecord]
) -> dict[str, dict[str, Any]]:
    """The provenance a person may read: a value from a record of another department
    keeps its source and rule, but not that record's external id."""
    visible = {(r.source.code, r.external_id) for r in visible_records}
    shown: dict[str, dict[str, Any]] = {}
    for attribute, origin in (provenance or {}).items():
        origin = dict(origin)
        if (origin.get("source"), origin.get("external_id")) not in visible:
            origin["external_id"] = None
        shown[attribute] = origin
    return shown


def customer_records_for_user(*, user, customer: Customer) -> tuple[list[SourceRecord], int]:
    """The customer's records the person may see, and how many others are hidden."""
    visible = list(records_visible_to(user).filter(customer=customer).order_by("source__trust_rank", "source__code", "external_id"))
    total = SourceRecord.objects.filter(customer=customer).count()
    return visible, total - len(visible)


def correctors_by_id(provenance: Mapping[str, Mapping[str, Any]]) -> dict[int, str]:
    """The user names of the people who typed golden values by hand (corrections and
    rectifications name them by id in the provenance)."""
    from django.contrib.auth import get_user_model

    ids: set[int] = {by for p in (provenance or {}).values() if isinstance(by := p.get("by"), int)}
    if not ids:
        return {}
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))


def records_in_scope_of(customer_ids: Sequence[int]) -> dict[int, int]:
    """record id → customer id of the records of these customers that are in matching
    scope (not deleted at their source): a batch run asks about hundreds of thousands
    of customers, so the ids go by `any_of`."""
    found: dict[int, int] = {}
    for chunk in id_chunks(sorted(set(customer_ids))):
        found.update(SourceRecord.objects.filter(
            customer_id__any_of=chunk, deleted_at_source__isnull=True
        ).order_by().values_list("pk", "customer_id"))
    return found
