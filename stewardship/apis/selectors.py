"""Reads the stewardship API needs, built on the access selectors.

Every function starts from `stewardship.selectors.access` (candidates) or the core's
access selectors (customers, records), so the department rules are those of the
review workspace, and owns its `select_related` / `prefetch_related` so that a list
costs the same number of queries whatever its length.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects
from django_filters.utils import translate_validation

from rcu.models import Customer, Department
from rcu.selectors.records import records_visible_to
from rcu.selectors.sources import sources_for_user
from stewardship.apis.filters import CandidateFilter
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.access import candidate_get_for_user, candidates_decidable_by

# What a candidate shows of its records and of who holds or decided it.
CANDIDATE_RELATED = (
    "record_a__source", "record_a__customer", "record_b__source", "record_b__customer",
    "leased_by", "decided_by", "assigned_to",
)


def _departments() -> Prefetch:
    return Prefetch("departments", queryset=Department.objects.order_by("code"))


def candidate_list(*, user, filters: Mapping[str, Any]) -> QuerySet[MergeCandidate]:
    """Candidates the person may see, filtered and sorted (default: open, best first)."""
    filterset = CandidateFilter(filters, user=user)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)
    return filterset.qs.select_related(*CANDIDATE_RELATED).prefetch_related(_departments())


def candidate_detail_for_user(*, user, pk: int) -> MergeCandidate:
    """The candidate (Http404 when the person may not see it), ready to show."""
    candidate = candidate_get_for_user(user=user, pk=pk)
    prefetch_related_objects(
        [candidate], "record_a__customer", "record_b__customer", _departments()
    )
    return candidate


def candidate_display_context(*, user, candidates: Iterable[MergeCandidate]) -> dict[str, set[int]]:
    """What the serializer needs to know about the person: the sources whose external ids
    they may read, and which of these candidates they may decide."""
    ids = [candidate.pk for candidate in candidates]
    return {
        "visible_source_ids": set(sources_for_user(user).values_list("pk", flat=True)),
        "decidable_ids": set(
            candidates_decidable_by(user).filter(pk__in=ids).values_list("pk", flat=True)
        ) if ids else set(),
    }


def record_ids_hidden_from(*, user, record_ids: Iterable[int]) -> list[int]:
    """Those of these records the person may not see (or that do not exist), in order."""
    wanted = sorted(set(record_ids))
    visible = set(records_visible_to(user).filter(pk__in=wanted).values_list("pk", flat=True))
    return [pk for pk in wanted if pk not in visible]


def customer_decision_get(*, customer: Customer, pk: int) -> Decision | None:
    """The decision if it involves this customer or one merged into it.

    Who may undo it is who may decide for the customer (`user_can_decide_for_customer`):
    the API asks that first, then scopes the decision to the customer it was asked on."""
    absorbed = Customer.objects.filter(merged_into=customer).values("pk")
    return (
        Decision.objects.filter(Q(customers=customer) | Q(customers__in=absorbed), pk=pk)
        .first()
    )


def decision_for_display(decision: Decision) -> Decision:
    prefetch_related_objects(
        [decision], "survivor", Prefetch("customers", queryset=Customer.objects.order_by("pk"))
    )
    return decision
