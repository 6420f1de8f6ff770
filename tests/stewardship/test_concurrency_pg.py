"""Stewards deciding at the same moment, each on their own connection: exactly one
decision wins, the others get a DecisionConflict, nothing deadlocks, nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction

from rcu.models import PairDecision, SourceRecord
from rcu.roles import Role
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.merge import candidate_merge, customers_merge
from stewardship.services.reject import candidate_reject
from tests.factories import make_user
from tests.stewardship.ledger import (
    assert_every_record_in_exactly_one_active_customer,
    assert_source_stats_match_the_records,
    candidate_between,
    fresh,
    one,
)

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and concurrent connections need PostgreSQL (DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

# Far above any lock wait of these small decisions: a thread still running after it is
# stuck (PostgreSQL itself reports a deadlock after `deadlock_timeout`, one second).
JOIN_TIMEOUT = 60
MERGED = "merged"


def all_at_once(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread and database connection, released together by a
    barrier; each outcome is MERGED (returned) or the exception raised."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait()
            calls[index]()
            outcomes[index] = MERGED
        except Exception as error:  # the test looks at every outcome
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a decision never finished: deadlock"
    close_old_connections()
    return outcomes


def assert_only_conflicts(outcomes: Sequence[Any]) -> None:
    unexpected = [o for o in outcomes if o != MERGED and not isinstance(o, DecisionConflict)]
    assert not unexpected, unexpected


def person(n: int) -> dict:
    return {"first_name": f"Hélène{n}", "last_name": "Lefèvre", "city": "Paris"}


def test_ten_stewards_merging_one_candidate_at_once_make_exactly_one_merge(crm, eshop):
    candidate = candidate_between(one(crm, "C1", person(1)), one(eshop, "E1", person(1)))
    stewards = [make_user(f"steward{i}", roles=[Role.STEWARD]) for i in range(10)]

    outcomes = all_at_once([
        lambda user=user: candidate_merge(candidate_id=candidate.pk, acting_user=user)
        for user in stewards
    ])

    assert_only_conflicts(outcomes)
    assert outcomes.count(MERGED) == 1
    assert sum(isinstance(o, DecisionConflict) for o in outcomes) == 9
    assert Decision.objects.filter(kind=Decision.Kind.MERGE).count() == 1
    winner = stewards[outcomes.index(MERGED)]
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.MERGED and candidate.decided_by == winner
    assert SourceRecord.objects.values("customer_id").distinct().count() == 1
    assert PairDecision.objects.count() == 1
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_crossed_merges_never_deadlock_and_exactly_one_of_each_pair_wins(crm, eshop):
    steward = make_user("steward", roles=[Role.STEWARD])
    rounds = 15
    pairs = [
        (one(crm, f"C{n}", person(n)).customer_id, one(eshop, f"E{n}", person(n)).customer_id)
        for n in range(rounds)
    ]

    def merge_into(survivor: int, loser: int) -> Callable[[], Any]:
        def call() -> None:
            with transaction.atomic():
                customers_merge(customer_ids=[survivor, loser], survivor_id=survivor,
                                acting_user=steward)
        return call

    for a, b in pairs:
        outcomes = all_at_once([merge_into(a, b), merge_into(b, a)])
        assert_only_conflicts(outcomes)
        assert outcomes.count(MERGED) == 1, outcomes

    assert Decision.objects.count() == rounds
    assert SourceRecord.objects.values("customer_id").distinct().count() == rounds
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_a_candidate_decision_and_a_merge_of_one_of_its_customers_never_deadlock(
    crm, eshop, service_client_source
):
    # One steward merges the candidate A-B while another merges A with C: both touch A
    # and the candidate (its departments change when A takes C's records).
    first = make_user("first", roles=[Role.STEWARD])
    second = make_user("second", roles=[Role.STEWARD])
    rounds = 10
    for n in range(rounds):
        a = one(crm, f"C{n}", person(n))
        b = one(eshop, f"E{n}", person(n))
        c = one(service_client_source, f"S{n}", person(n))
        candidate = candidate_between(a, b)

        def merge_candidate(candidate=candidate) -> None:
            candidate_merge(candidate_id=candidate.pk, acting_user=first)

        def merge_a_and_c(a=a, c=c) -> None:
            with transaction.atomic():
                customers_merge(customer_ids=[a.customer_id, c.customer_id],
                                survivor_id=c.customer_id, acting_user=second)

        outcomes = all_at_once([merge_candidate, merge_a_and_c])
        assert_only_conflicts(outcomes)
        assert outcomes[1] == MERGED  # nothing stood in its way but a wait
        candidate.refresh_from_db()
        if outcomes[0] == MERGED:
            assert candidate.status == MergeCandidate.Status.MERGED
            assert fresh(a).customer_id == fresh(b).customer_id == fresh(c).customer_id
        else:
            assert candidate.status == MergeCandidate.Status.OPEN
            assert fresh(a).customer_id == fresh(c).customer_id != fresh(b).customer_id
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_a_rejection_and_a_merge_of_the_same_customers_at_once_never_both_win(crm, eshop):
    steward = make_user("steward", roles=[Role.STEWARD])
    other = make_user("other", roles=[Role.STEWARD])
    rounds = 10
    for n in range(rounds):
        a, b = one(crm, f"C{n}", person(n)), one(eshop, f"E{n}", person(n))
        candidate = candidate_between(a, b)

        def reject(candidate=candidate) -> None:
            candidate_reject(candidate_id=candidate.pk, acting_user=steward)

        def merge(a=a, b=b) -> None:
            with transaction.atomic():
                customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=other)

        outcomes = all_at_once([reject, merge])
        assert_only_conflicts(outcomes)
        assert outcomes.count(MERGED) == 1, outcomes
        candidate.refresh_from_db()
        together = fresh(a).customer_id == fresh(b).customer_id
        kinds = set(PairDecision.objects.filter(record_a__in=[a, b]).values_list("kind", flat=True))
        if outcomes[0] == MERGED:  # the rejection won
            assert candidate.status == MergeCandidate.Status.REJECTED
            assert not together and kinds == {"cannot_link"}
        else:
            assert candidate.status == MergeCandidate.Status.MERGED
            assert together and kinds == {"must_link"}
    assert_every_record_in_exactly_one_active_customer()


def test_a_correction_and_a_merge_of_the_same_customer_at_once_both_hold(crm, eshop):
    """The correction locks the customer as every decision does: whichever goes first,
    the corrected value is the golden one afterwards, on the merged customer."""
    from stewardship.services.corrections import customer_values_correct

    a, b = one(crm, "C1", person(1)), one(eshop, "E1", person(1))
    steward = make_user("steward_both", roles=[Role.STEWARD], departments=["marketing", "ecommerce"])
    outcomes = all_at_once([
        lambda: customer_values_correct(customer_id=a.customer_id, values={"first_name": "Helena"},
                                        reason="typo", acting_user=steward),
        lambda: customers_merge(customer_ids=[a.customer_id, b.customer_id],
                                survivor_id=a.customer_id, acting_user=steward),
    ])
    assert outcomes == [MERGED, MERGED], outcomes
    survivor = fresh(a).customer
    assert survivor.first_name == "Helena" and fresh(b).customer_id == survivor.pk
    assert_every_record_in_exactly_one_active_customer()
