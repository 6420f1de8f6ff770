"""What must hold of the matching state whatever happened before."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.test import TestCase

from rcu.models import Customer, MatchPair, SourceRecord
from rcu.services.matching.batch import match_run_create
from stewardship.models import MergeCandidate


@dataclass(frozen=True)
class MatchingState:
    """The stored pairs, the golden customers as sets of records and the open
    candidates: customer ids aside, which a full run may choose differently."""

    pairs: frozenset[tuple[int, int, float]]
    customers: frozenset[frozenset[int]]
    open_candidates: frozenset[tuple[int, int]]


def matching_state() -> MatchingState:
    groups: dict[int, set[int]] = defaultdict(set)
    for pk, customer_id in SourceRecord.objects.values_list("pk", "customer_id"):
        groups[customer_id].add(pk)
    return MatchingState(
        pairs=frozenset(
            (a, b, round(p, 9))
            for a, b, p in MatchPair.objects.values_list("record_a_id", "record_b_id", "probability")
        ),
        customers=frozenset(frozenset(g) for g in groups.values()),
        open_candidates=frozenset(
            MergeCandidate.objects.open().values_list("record_a_id", "record_b_id")
        ),
    )


def matching_state_after_full_run(acting_user) -> MatchingState:
    """The state `match --full` would leave, computed in a savepoint rolled back."""
    sid = transaction.savepoint()
    try:
        with TestCase.captureOnCommitCallbacks(execute=True):
            run = match_run_create(full=True, partitions=2, acting_user=acting_user)
        run.refresh_from_db()
        assert run.status == "succeeded", run.message
        return matching_state()
    finally:
        transaction.savepoint_rollback(sid)


def assert_every_record_in_one_active_customer() -> None:
    """Every source record belongs to exactly one customer, and that customer is active
    (not merged away or retired)."""
    orphans = SourceRecord.objects.filter(customer__isnull=True).count()
    assert orphans == 0, f"{orphans} records without a customer"
    inactive = SourceRecord.objects.exclude(
        customer__in=Customer.objects.filter(merged_into__isnull=True)
    ).values_list("pk", "customer_id")[:5]
    assert not list(inactive), f"records in a customer merged away: {list(inactive)}"
