""""Not the same person" (`candidate_reject`) and changing one's mind (`candidate_reopen`):
cannot-links for every record pair across the two customers, obeyed by the engine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rcu.models import PairDecision
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.leases import candidate_claim
from stewardship.services.merge import candidate_merge, customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import candidate_reopen, decision_undo
from tests.factories import frozen_default_model, ingest
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_SPARSE
from tests.stewardship.ledger import (
    candidate_between,
    customer_of,
    fresh,
    match_batch,
    match_realtime,
    pair_kinds,
    partition,
    placement,
)

pytestmark = pytest.mark.django_db

JEANNE_SC_OTHER = {"first_name": "Jeanne", "last_name": "Lefevre", "mobile": "07 81 22 33 44",
                   "postcode": "75002", "city": "Paris"}


@pytest.fixture(autouse=True)
def known_model(db):
    frozen_default_model()


@pytest.fixture
def two_jeannes(crm, eshop, service_client_source, steward_service_client):
    """The engine links Jeanne's CRM and e-shop records, and proposes customer service's
    Jeanne (a name and a town only) to a steward; customer service knows that one
    under two records, which a steward merged."""
    known = ingest(crm, [{"id": "C1", **JEANNE}]) + ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_realtime(known)
    sparse = ingest(service_client_source, [{"id": "S1", **JEANNE_SPARSE},
                                            {"id": "S2", **JEANNE_SC_OTHER}])
    customers_merge(customer_ids=[r.customer_id for r in sparse], acting_user=steward_service_client)
    match_realtime(sparse)
    candidate = MergeCandidate.objects.open().get()
    return {"known": known, "sparse": sparse, "candidate": candidate}


def across(left, right) -> set[tuple[int, int]]:
    return {(min(a.pk, b.pk), max(a.pk, b.pk)) for a in left for b in right}


def cannot_links() -> set[tuple[int, int]]:
    return set(
        PairDecision.objects.filter(kind=PairDecision.Kind.CANNOT_LINK)
        .values_list("record_a_id", "record_b_id")
    )


def test_the_engine_proposes_the_two_jeannes(two_jeannes):
    assert partition() == {frozenset({"crm:C1", "eshop:E1"}),
                           frozenset({"service_client:S1", "service_client:S2"})}
    assert two_jeannes["candidate"].status == MergeCandidate.Status.OPEN


def test_reject_writes_a_cannot_link_for_every_record_pair_across_the_two_customers(
    two_jeannes, steward_marketing
):
    candidate = two_jeannes["candidate"]
    decision = candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing,
                                reason="two different Jeannes")
    expected = across(two_jeannes["known"], two_jeannes["sparse"])
    assert len(expected) == 4
    assert cannot_links() == expected
    assert all(d.decided_by == steward_marketing
               for d in PairDecision.objects.filter(kind=PairDecision.Kind.CANNOT_LINK))
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.REJECTED
    assert candidate.decided_by == steward_marketing
    assert decision.kind == Decision.Kind.REJECT and decision.reason == "two different Jeannes"
    assert set(decision.customers.values_list("pk", flat=True)) == {
        customer_of(two_jeannes["known"][0]).pk, customer_of(two_jeannes["sparse"][0]).pk
    }
    assert set(decision.departments.values_list("code", flat=True)) == {
        "marketing", "ecommerce", "service-client"
    }


def test_a_rejection_moves_no_record(two_jeannes, steward_marketing):
    before = placement()
    candidate_reject(candidate_id=two_jeannes["candidate"].pk, acting_user=steward_marketing)
    assert placement() == before


@pytest.mark.parametrize("run", ["realtime", "batch", "full batch"])
def test_a_rejected_pair_is_never_proposed_or_linked_again(
    two_jeannes, eshop, steward_marketing, run
):
    candidate = two_jeannes["candidate"]
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    everyone = [*two_jeannes["known"], *two_jeannes["sparse"]]
    for _ in range(2):
        if run == "realtime":
            match_realtime(everyone)
        else:
            # The e-shop now has her landline too: every score moves, the answer does not.
            ingest(eshop, [{"id": "E1", **JEANNE_ESHOP, "city": "Lyon 3e"}])
            match_batch(full=run == "full batch")
        candidate.refresh_from_db()
        assert candidate.status == MergeCandidate.Status.REJECTED
        assert not MergeCandidate.objects.open().exists()
        assert partition() == {frozenset({"crm:C1", "eshop:E1"}),
                               frozenset({"service_client:S1", "service_client:S2"})}


def test_other_open_candidates_between_the_same_customers_are_rejected_with_it(
    steward_everywhere, two_jeannes, steward_marketing
):
    candidate = two_jeannes["candidate"]
    others = {candidate.record_a_id, candidate.record_b_id}
    second = candidate_between(
        next(r for r in two_jeannes["known"] if r.pk not in others),
        next(r for r in two_jeannes["sparse"] if r.pk not in others),
    )
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    second.refresh_from_db()
    assert second.status == MergeCandidate.Status.REJECTED
    assert not MergeCandidate.objects.open().exists()
    # Reopening the rejection reopens both.
    candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)
    assert set(MergeCandidate.objects.open().values_list("pk", flat=True)) == {candidate.pk,
                                                                               second.pk}


def test_a_rejected_customer_pair_cannot_be_merged_by_another_candidate(
    two_jeannes, steward_marketing
):
    candidate_reject(candidate_id=two_jeannes["candidate"].pk, acting_user=steward_marketing)
    with pytest.raises(DecisionConflict):
        customers_merge(
            customer_ids=[customer_of(two_jeannes["known"][0]).pk,
                          customer_of(two_jeannes["sparse"][0]).pk],
            acting_user=steward_marketing,
        )


@pytest.mark.parametrize("decide", [candidate_reject, candidate_merge])
def test_rejecting_an_already_decided_candidate_is_a_conflict(
    two_jeannes, steward_marketing, steward_service_client, decide
):
    candidate = two_jeannes["candidate"]
    decide(candidate_id=candidate.pk, acting_user=steward_service_client)
    links = pair_kinds([*two_jeannes["known"], *two_jeannes["sparse"]])
    with pytest.raises(DecisionConflict):
        candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert pair_kinds([*two_jeannes["known"], *two_jeannes["sparse"]]) == links


def test_rejecting_a_candidate_leased_by_another_steward_is_a_conflict(
    two_jeannes, steward_marketing, steward_service_client
):
    candidate = two_jeannes["candidate"]
    candidate_claim(candidate=candidate, user=steward_service_client)
    with pytest.raises(DecisionConflict, match="steward_sc"):
        candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert not cannot_links()


def test_rejecting_a_stale_candidate_is_a_conflict(two_jeannes, steward_marketing):
    candidate = two_jeannes["candidate"]
    seen = candidate.updated_at
    MergeCandidate.objects.filter(pk=candidate.pk).update(updated_at=seen + timedelta(seconds=1))
    with pytest.raises(DecisionConflict):
        candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing,
                         expected_updated_at=seen)
    assert not cannot_links()
    candidate.refresh_from_db()
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing,
                     expected_updated_at=candidate.updated_at)
    assert cannot_links()


# --- Reopening ----------------------------------------------------------------------------


def test_reopen_withdraws_exactly_the_cannot_links_of_the_rejection(
    steward_everywhere, two_jeannes, steward_marketing, steward_service_client
):
    known, sparse = two_jeannes["known"], two_jeannes["sparse"]
    # An older word of a steward on one of the pairs: not the rejection's to withdraw.
    older = PairDecision.objects.create(
        record_a_id=min(known[0].pk, sparse[1].pk), record_b_id=max(known[0].pk, sparse[1].pk),
        kind=PairDecision.Kind.CANNOT_LINK, decided_by=steward_service_client,
    )
    must_links = set(PairDecision.objects.filter(kind="must_link").values_list("pk", flat=True))
    candidate = two_jeannes["candidate"]
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert cannot_links() == across(known, sparse)

    undo = candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere,
                            reason="same mobile after all")
    assert cannot_links() == {(older.record_a_id, older.record_b_id)}
    assert set(PairDecision.objects.filter(kind="must_link").values_list("pk", flat=True)) == must_links
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN
    assert candidate.decided_by is None and candidate.decided_at is None
    assert undo.kind == Decision.Kind.REOPEN and undo.decided_by == steward_everywhere
    rejection = Decision.objects.get(kind=Decision.Kind.REJECT)
    assert rejection.undone_at is not None and rejection.undone_by == undo


def test_reopen_puts_back_a_decision_the_rejection_replaced(two_jeannes, steward_marketing, steward_everywhere):
    known, sparse = two_jeannes["known"], two_jeannes["sparse"]
    pair = (min(known[1].pk, sparse[0].pk), max(known[1].pk, sparse[0].pk))
    PairDecision.objects.create(record_a_id=pair[0], record_b_id=pair[1], kind="must_link")
    candidate = two_jeannes["candidate"]
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert pair_kinds([*known, *sparse])[pair] == "cannot_link"
    candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)
    assert pair_kinds([*known, *sparse])[pair] == "must_link"


def test_a_reopened_candidate_can_be_merged(two_jeannes, steward_marketing, steward_everywhere):
    candidate = two_jeannes["candidate"]
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)
    match_realtime([*two_jeannes["known"], *two_jeannes["sparse"]])
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN  # proposed again
    candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing)
    assert len(partition()) == 1


def test_reopen_without_a_rejection_in_effect_is_a_conflict(two_jeannes, steward_marketing, steward_everywhere):
    candidate = two_jeannes["candidate"]
    with pytest.raises(DecisionConflict):
        candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)
    with pytest.raises(DecisionConflict):
        candidate_reopen(candidate_id=candidate.pk, acting_user=steward_everywhere)


def test_undoing_a_rejection_from_the_ledger_reopens_it(two_jeannes, steward_marketing, steward_everywhere):
    candidate = two_jeannes["candidate"]
    rejection = candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    decision_undo(decision_id=rejection.pk, acting_user=steward_everywhere)
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN and not cannot_links()
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=rejection.pk, acting_user=steward_everywhere)


def test_a_rejection_leaves_the_lease_free(two_jeannes, steward_marketing):
    candidate = two_jeannes["candidate"]
    candidate_claim(candidate=candidate, user=steward_marketing)
    candidate_reject(candidate_id=candidate.pk, acting_user=steward_marketing)
    candidate.refresh_from_db()
    assert candidate.leased_by is None and candidate.leased_until is None
    assert fresh(two_jeannes["known"][0]).customer.merged_into_id is None
    assert candidate.decided_at <= timezone.now()
