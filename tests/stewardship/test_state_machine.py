"""Any sequence of imports, matching runs, merges, rejections, detachments and undos keeps
the base whole: every source record in exactly one active customer, a rejected pair never
together nor proposed again, and an undone merge gives back exactly what it changed.

Each Hypothesis example runs in a savepoint of the test's transaction, rolled back in
`teardown`: examples start from the same empty base (sources and stewards only).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rcu.models import PairDecision, PendingMatch, SourceRecord
from rcu.services.matching.realtime import records_match
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.merge import customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo, records_detach
from tests.factories import frozen_default_model, ingest
from tests.rcu.matching_db.people import (
    JEANNE,
    JEANNE_ESHOP,
    JEANNE_LANDLINE,
    JEANNE_SPARSE,
    MARC,
    PAUL,
)
from tests.stewardship.ledger import (
    assert_every_record_in_exactly_one_active_customer,
    assert_source_stats_match_the_records,
    customer_differences,
    customers_state,
    placement,
)

pytestmark = pytest.mark.django_db

# People close enough to each other for links, candidates and contradictions.
PEOPLE = [JEANNE, JEANNE_ESHOP, JEANNE_SPARSE, JEANNE_LANDLINE, PAUL, MARC,
          {**JEANNE_SPARSE, "email": "jeanne.martin@gmail.com", "last_name": "Martin"}]
SOURCES = ["crm", "eshop", "service_client"]
EXTERNAL_IDS = ["1", "2"]
CHOICES = ["email", "address", "first_name", "mobile"]

MACHINE_SETTINGS = settings(
    max_examples=25, stateful_step_count=15, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def customers_with_records() -> dict[int, list[int]]:
    records: dict[int, list[int]] = {}
    for pk, customer_id in SourceRecord.objects.order_by("pk").values_list("pk", "customer_id"):
        records.setdefault(customer_id, []).append(pk)
    return records


def cannot_link_between(side_a: list[int], side_b: list[int]) -> bool:
    return PairDecision.objects.filter(
        Q(record_a_id__in=side_a, record_b_id__in=side_b)
        | Q(record_a_id__in=side_b, record_b_id__in=side_a),
        kind=PairDecision.Kind.CANNOT_LINK,
    ).exists()


def whole_state() -> tuple[Any, ...]:
    return (
        placement(),
        customers_state(),
        sorted(PairDecision.objects.values_list("record_a_id", "record_b_id", "kind")),
        sorted(MergeCandidate.objects.values_list("pk", "status")),
    )


class StewardshipMachine(RuleBasedStateMachine):
    def __init__(self, sources, steward) -> None:
        super().__init__()
        self.sources, self.steward = sources, steward
        # What each merge in effect changed, to check its undo against.
        self.before_merge: dict[int, dict[str, Any]] = {}
        self._example = transaction.atomic()
        self._example.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._example.__exit__(None, None, None)

    # --- The world moves ------------------------------------------------------------------

    @initialize(rows=st.lists(
        st.tuples(st.sampled_from(SOURCES), st.sampled_from(EXTERNAL_IDS), st.sampled_from(PEOPLE)),
        min_size=3, max_size=6, unique_by=lambda row: row[:2],
    ), match=st.booleans())
    def a_base_is_imported(self, rows, match) -> None:
        records = [ingest(self.sources[s], [{"id": i, **p}])[0] for s, i, p in rows]
        if match:
            records_match(record_ids=[r.pk for r in records])

    @rule(source=st.sampled_from(SOURCES), external_id=st.sampled_from(EXTERNAL_IDS),
          person=st.sampled_from(PEOPLE), match=st.booleans())
    def a_source_sends_a_record(self, source, external_id, person, match) -> None:
        (record,) = ingest(self.sources[source], [{"id": external_id, **person}])
        if match:
            records_match(record_ids=[record.pk])

    @rule()
    def matching_runs(self) -> None:
        pending = list(PendingMatch.objects.values_list("record_id", flat=True))
        records_match(record_ids=pending or SourceRecord.objects.values_list("pk", flat=True))

    # --- Stewards decide --------------------------------------------------------------------

    @rule(data=st.data())
    def a_steward_merges_two_customers(self, data) -> None:
        customers = customers_with_records()
        if len(customers) < 2:
            return
        survivor, other = data.draw(
            st.lists(st.sampled_from(sorted(customers)), min_size=2, max_size=2, unique=True)
        )
        records = customers[survivor] + customers[other]
        choices = {}
        attribute = data.draw(st.sampled_from(CHOICES))
        having = [
            pk for pk, attributes in SourceRecord.objects.filter(pk__in=records)
            .values_list("pk", "attributes")
            if any(attributes.get(n) for n in (
                ("address_line1", "postcode", "city") if attribute == "address" else (attribute,)
            ))
        ]
        if having:
            choices[attribute] = data.draw(st.sampled_from(having))
        refused = cannot_link_between(customers[survivor], customers[other])
        before = {"placement": placement(), "customers": customers_state([survivor, other]),
                  "hashes": self._hashes(records)}
        try:
            decision = customers_merge(customer_ids=[survivor, other], survivor_id=survivor,
                                       choices=choices, acting_user=self.steward)
        except DecisionConflict:
            assert refused, "a merge was refused with no steward decision against it"
            assert placement() == before["placement"]
            return
        assert not refused, "a merge went through a cannot-link"
        assert set(SourceRecord.objects.filter(customer_id=survivor).values_list("pk", flat=True)) \
            == set(records)
        self.before_merge[decision.pk] = before

    @rule(data=st.data())
    def a_steward_rejects_a_candidate(self, data) -> None:
        candidates = list(MergeCandidate.objects.open().order_by("pk"))
        if not candidates:
            return
        candidate = data.draw(st.sampled_from(candidates))
        candidate_reject(candidate_id=candidate.pk, acting_user=self.steward)
        candidate.refresh_from_db()
        assert candidate.status == MergeCandidate.Status.REJECTED

    @rule(data=st.data())
    def a_steward_detaches_records(self, data) -> None:
        customers = {c: r for c, r in customers_with_records().items() if len(r) >= 2}
        if not customers:
            return
        customer = data.draw(st.sampled_from(sorted(customers)))
        records = customers[customer]
        detached = data.draw(
            st.lists(st.sampled_from(records), min_size=1, max_size=len(records) - 1, unique=True)
        )
        decision = records_detach(customer_id=customer, record_ids=detached,
                                  acting_user=self.steward)
        assert set(SourceRecord.objects.filter(customer_id=decision.survivor_id)
                   .values_list("pk", flat=True)) == set(detached)
        assert cannot_link_between(detached, sorted(set(records) - set(detached)))

    @rule(data=st.data())
    def a_steward_undoes_a_decision(self, data) -> None:
        decisions = list(  # latest first: the one most often undoable
            Decision.objects.in_effect().filter(
                kind__in=[Decision.Kind.MERGE, Decision.Kind.DETACH, Decision.Kind.REJECT]
            ).order_by("-pk")
        )
        if not decisions:
            return
        decision = data.draw(st.sampled_from(decisions))
        state = whole_state()
        try:
            decision_undo(decision_id=decision.pk, acting_user=self.steward)
        except DecisionConflict:
            assert whole_state() == state, "a refused undo changed something"
            return
        if decision.kind == Decision.Kind.MERGE:
            self._check_merge_undone(decision)
        with pytest.raises(DecisionConflict):
            decision_undo(decision_id=decision.pk, acting_user=self.steward)

    def _check_merge_undone(self, decision: Decision) -> None:
        before = self.before_merge.pop(decision.pk)
        records = [r for r, _ in decision.before["records"]]
        now = placement()
        assert {r: now[r] for r in records} == {r: before["placement"][r] for r in records}
        if self._hashes(records) == before["hashes"]:  # no source changed them meanwhile
            assert customer_differences(before["customers"],
                                        customers_state(before["customers"])) == {}

    @staticmethod
    def _hashes(records) -> dict[int, str]:
        return dict(SourceRecord.objects.filter(pk__in=records).values_list("pk", "payload_hash"))

    # --- What always holds ------------------------------------------------------------------

    @invariant()
    def every_record_is_in_exactly_one_active_customer(self) -> None:
        assert_every_record_in_exactly_one_active_customer()
        assert_source_stats_match_the_records()

    @invariant()
    def a_rejected_pair_is_never_together_nor_proposed_again(self) -> None:
        customer_of = placement()
        refused = set(
            PairDecision.objects.filter(kind=PairDecision.Kind.CANNOT_LINK)
            .values_list("record_a_id", "record_b_id")
        )
        for a, b in refused:
            assert customer_of[a] != customer_of[b], f"records {a} and {b} rejected yet together"
        proposed = set(MergeCandidate.objects.open().values_list("record_a_id", "record_b_id"))
        assert not proposed & refused, "a rejected pair is proposed again"
        for decision in Decision.objects.in_effect().filter(kind=Decision.Kind.REJECT):
            assert decision.candidate.status == MergeCandidate.Status.REJECTED


def test_any_sequence_of_decisions_keeps_the_base_whole(sources, steward_everywhere):
    # A steward of every department: the machine undoes whatever it decided, on any customer.
    frozen_default_model()
    run_state_machine_as_test(
        lambda: StewardshipMachine(sources, steward_everywhere), settings=MACHINE_SETTINGS
    )
