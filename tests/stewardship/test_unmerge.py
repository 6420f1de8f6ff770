"""Unmerging: detaching records (`records_detach`) and undoing a decision from the ledger
(`decision_undo`), exactly, or not at all when a later decision stands in the way."""

from __future__ import annotations

import pytest

from rcu.attributes import ADDRESS_GROUP
from rcu.models import Customer, PairDecision, SourceRecord
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict, DecisionInvalid
from stewardship.services.merge import candidate_merge, customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo, records_detach
from tests.factories import frozen_default_model, ingest
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, PAUL
from tests.stewardship.ledger import (
    assert_every_record_in_exactly_one_active_customer,
    assert_source_stats_match_the_records,
    candidate_between,
    customer_differences,
    customer_of,
    customers_state,
    fresh,
    match_batch,
    match_realtime,
    must_link_components,
    one,
    pair_kinds,
    partition,
    placement,
)

pytestmark = pytest.mark.django_db

HELENE_CRM = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene@orange.fr",
              "mobile": "06 12 34 56 78", "address_line1": "12 rue de la Paix",
              "postcode": "75002", "city": "Paris", "updated": "2024-05-03 10:00"}
HELENE_ESHOP = {"first_name": "Helene", "last_name": "Lefevre", "email": "h.lefevre@gmail.com",
                "birth_date": "1984-03-12", "address_line1": "3 rue des Lilas",
                "postcode": "69003", "city": "Lyon", "updated": "2024-06-01 09:00"}
HELENE_SC = {"first_name": "Hélène", "last_name": "Lefèvre", "phone": "01 42 11 22 33",
             "address_line1": "8 place Bellecour", "postcode": "69002", "city": "Lyon",
             "updated": "2024-02-01 08:00"}


@pytest.fixture(autouse=True)
def known_model(db):
    frozen_default_model()


@pytest.fixture
def helene(crm, eshop, service_client_source):
    return {
        "crm": one(crm, "C1", HELENE_CRM),
        "eshop": one(eshop, "E1", HELENE_ESHOP),
        "sc": one(service_client_source, "S1", HELENE_SC),
    }


@pytest.fixture
def merged(helene, steward_marketing):
    """The three records merged into the CRM's customer, the e-shop's e-mail chosen."""
    customers_merge(
        customer_ids=[r.customer_id for r in helene.values()], survivor_id=helene["crm"].customer_id,
        choices={"email": helene["eshop"].pk, "address": helene["sc"].pk},
        acting_user=steward_marketing,
    )
    return customer_of(helene["crm"])


# --- Detaching ----------------------------------------------------------------------------


def test_detached_records_leave_under_the_id_they_had_before_the_merge(
    helene, merged, steward_marketing
):
    decision = records_detach(customer_id=merged.pk, record_ids=[helene["eshop"].pk],
                              acting_user=steward_marketing, reason="another Hélène")
    new = customer_of(helene["eshop"])
    # `helene` holds the records as ingested: each in the customer it had before the merge.
    assert new.pk == decision.survivor_id == helene["eshop"].customer_id != merged.pk
    assert new.merged_into_id is None
    assert new.email == "h.lefevre@gmail.com" and new.birth_date is not None
    assert partition() == {frozenset({"crm:C1", "service_client:S1"}), frozenset({"eshop:E1"})}
    assert customer_of(helene["crm"]).pk == merged.pk  # the rest keeps its customer
    assert decision.kind == Decision.Kind.DETACH and decision.decided_by == steward_marketing
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_detaching_writes_cannot_links_and_withdraws_the_must_links(helene, merged, steward_marketing):
    records = list(helene.values())
    assert set(pair_kinds(records).values()) == {"must_link"}
    records_detach(customer_id=merged.pk, record_ids=[helene["eshop"].pk],
                   acting_user=steward_marketing)
    kinds = pair_kinds(records)
    eshop = helene["eshop"].pk
    for (a, b), kind in kinds.items():
        assert kind == ("cannot_link" if eshop in (a, b) else "must_link")
    assert {(a, b) for (a, b), k in kinds.items() if k == "cannot_link"} == {
        tuple(sorted((eshop, helene[k].pk))) for k in ("crm", "sc")
    }


def test_detaching_drops_the_pins_that_referenced_the_detached_record(
    helene, merged, steward_marketing
):
    assert set(merged.pinned) == {"email", *ADDRESS_GROUP}
    records_detach(customer_id=merged.pk, record_ids=[helene["eshop"].pk],
                   acting_user=steward_marketing)
    rest = customer_of(helene["crm"])
    assert set(rest.pinned) == set(ADDRESS_GROUP)  # the address chosen from S1 stays pinned
    assert rest.email == "helene@orange.fr"  # back to survivorship: the CRM's
    assert rest.city == "Lyon" and rest.provenance["city"]["rule"] == "steward_choice"


@pytest.mark.parametrize("run", ["realtime", "full batch"])
def test_a_later_matching_run_never_puts_detached_records_back_nor_splits_the_rest(
    crm, eshop, service_client_source, steward_marketing, run
):
    # The engine links Jeanne's two records; a steward merged Paul's record with them,
    # then finds out the CRM record (the anchor of the merge) is another Jeanne.
    jeanne = ingest(crm, [{"id": "C1", **JEANNE}]) + ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    match_realtime(jeanne)
    paul = one(service_client_source, "S1", PAUL)
    customers_merge(customer_ids=[customer_of(jeanne[0]).pk, paul.customer_id],
                    acting_user=steward_marketing)
    records_detach(customer_id=customer_of(paul).pk, record_ids=[jeanne[0].pk],
                   acting_user=steward_marketing)
    expected = {frozenset({"crm:C1"}), frozenset({"eshop:E1", "service_client:S1"})}
    assert partition() == expected
    if run == "realtime":
        match_realtime([*jeanne, paul])
    else:
        match_batch(full=True)
    assert partition() == expected


@pytest.mark.parametrize(
    "pick",
    [lambda h, other: [h["crm"].pk, h["eshop"].pk, h["sc"].pk],  # all of them
     lambda h, other: [h["eshop"].pk, other.pk],  # one of another customer
     lambda h, other: []],  # none
    ids=["every record", "a foreign record", "no record"],
)
def test_detaching_is_refused_unless_it_names_some_but_not_all_of_the_customer_records(
    helene, merged, crm, steward_marketing, pick
):
    other = one(crm, "C2", {"first_name": "Paul", "last_name": "Martin"})
    before_customers, before_records = customers_state(), placement()
    with pytest.raises(DecisionInvalid) as error:
        records_detach(customer_id=merged.pk, record_ids=pick(helene, other),
                       acting_user=steward_marketing)
    assert error.value.field == "records"
    assert customers_state() == before_customers and placement() == before_records


def test_detaching_from_a_customer_merged_away_is_a_conflict(helene, merged, steward_marketing):
    retired = helene["eshop"].customer_id
    with pytest.raises(DecisionConflict):
        records_detach(customer_id=retired, record_ids=[helene["eshop"].pk],
                       acting_user=steward_marketing)


def test_open_candidates_of_detached_records_follow_them(helene, merged, eshop, steward_marketing):
    outsider = one(eshop, "E9", {"first_name": "Helene", "last_name": "Lefevre"})
    candidate = candidate_between(helene["sc"], outsider)
    assert set(candidate.departments.values_list("code", flat=True)) == {
        "marketing", "service-client", "ecommerce"
    }
    records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                   acting_user=steward_marketing)
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN
    assert set(candidate.departments.values_list("code", flat=True)) == {
        "service-client", "ecommerce"
    }


# --- Undoing a merge ----------------------------------------------------------------------


def test_undoing_a_merge_restores_partition_ids_pins_and_golden_values_exactly(
    helene, steward_marketing, steward_service_client
):
    # A first merge, with a pinned choice; the state after it is what the second undo
    # must give back exactly.
    customers_merge(customer_ids=[helene["crm"].customer_id, helene["eshop"].customer_id],
                    survivor_id=helene["eshop"].customer_id, choices={"email": helene["crm"].pk},
                    acting_user=steward_marketing)
    before_records, before_customers = placement(), customers_state()
    second = customers_merge(
        customer_ids=[helene["eshop"].customer_id, helene["sc"].customer_id],
        survivor_id=helene["sc"].customer_id,
        choices={"email": helene["eshop"].pk, "address": helene["crm"].pk},
        acting_user=steward_service_client,
    )
    assert customers_state() != before_customers

    decision_undo(decision_id=second.pk, acting_user=steward_service_client)
    assert placement() == before_records
    # Ids, merged_into, pins and every golden column, provenance included.
    assert customer_differences(before_customers, customers_state()) == {}
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_undoing_every_merge_gives_back_the_base_as_imported(helene, steward_marketing):
    imported_records, imported_customers = placement(), customers_state()
    first = customers_merge(customer_ids=[helene["crm"].customer_id, helene["sc"].customer_id],
                            choices={"phone": helene["sc"].pk}, acting_user=steward_marketing)
    second = customers_merge(customer_ids=[first.survivor_id, helene["eshop"].customer_id],
                             acting_user=steward_marketing)
    decision_undo(decision_id=second.pk, acting_user=steward_marketing)
    decision_undo(decision_id=first.pk, acting_user=steward_marketing)
    assert placement() == imported_records
    assert customer_differences(imported_customers, customers_state()) == {}
    assert not PairDecision.objects.exists()
    assert_source_stats_match_the_records()


def test_undoing_a_merge_reopens_the_candidates_it_closed(helene, steward_marketing):
    candidate = candidate_between(helene["crm"], helene["eshop"])
    decision = candidate_merge(candidate_id=candidate.pk, acting_user=steward_marketing)
    undo = decision_undo(decision_id=decision.pk, acting_user=steward_marketing)
    candidate.refresh_from_db()
    assert candidate.status == MergeCandidate.Status.OPEN and candidate.decided_by is None
    assert undo.kind == Decision.Kind.UNDO and undo.undoes == decision
    assert undo.decided_by == steward_marketing
    decision.refresh_from_db()
    assert decision.undone_at is not None and not decision.can_be_undone


def test_undoing_a_merge_after_a_source_update_recomputes_from_the_new_values(
    helene, crm, steward_marketing
):
    decision = customers_merge(customer_ids=[helene["crm"].customer_id, helene["eshop"].customer_id],
                               acting_user=steward_marketing)
    ingest(crm, [{"id": "C1", **HELENE_CRM, "email": "helene.new@orange.fr",
                  "updated": "2024-08-01 10:00"}])
    decision_undo(decision_id=decision.pk, acting_user=steward_marketing)
    assert customer_of(helene["crm"]).email == "helene.new@orange.fr"
    assert customer_of(helene["eshop"]).email == "h.lefevre@gmail.com"


def test_undo_is_refused_when_a_later_decision_moved_the_records(
    steward_everywhere, helene, merged, steward_marketing
):
    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    detach = records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                            acting_user=steward_marketing)
    state = (placement(), customers_state())
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=merge.pk, acting_user=steward_everywhere)
    assert (placement(), customers_state()) == state
    # Undo the later decision first, then this one.
    decision_undo(decision_id=detach.pk, acting_user=steward_everywhere)
    decision_undo(decision_id=merge.pk, acting_user=steward_everywhere)
    assert len(partition()) == 3


def test_undo_is_refused_when_a_later_merge_retired_the_survivor(helene, crm, steward_marketing):
    first = customers_merge(customer_ids=[helene["crm"].customer_id, helene["eshop"].customer_id],
                            survivor_id=helene["crm"].customer_id, acting_user=steward_marketing)
    customers_merge(customer_ids=[helene["crm"].customer_id, helene["sc"].customer_id],
                    survivor_id=helene["sc"].customer_id, acting_user=steward_marketing)
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=first.pk, acting_user=steward_marketing)


def test_undo_is_refused_when_a_later_merge_brought_other_records_in(helene, steward_marketing):
    first = customers_merge(customer_ids=[helene["crm"].customer_id, helene["eshop"].customer_id],
                            survivor_id=helene["crm"].customer_id, acting_user=steward_marketing)
    customers_merge(customer_ids=[helene["crm"].customer_id, helene["sc"].customer_id],
                    survivor_id=helene["crm"].customer_id, acting_user=steward_marketing)
    state = (placement(), customers_state())
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=first.pk, acting_user=steward_marketing)
    assert (placement(), customers_state()) == state


def test_undoing_twice_is_refused(helene, merged, steward_marketing):
    merge = Decision.objects.get(kind=Decision.Kind.MERGE)
    undo = decision_undo(decision_id=merge.pk, acting_user=steward_marketing)
    state = (placement(), customers_state())
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=merge.pk, acting_user=steward_marketing)
    with pytest.raises(DecisionInvalid):
        decision_undo(decision_id=undo.pk, acting_user=steward_marketing)  # an undo is final
    assert (placement(), customers_state()) == state


# --- Undoing a detachment -----------------------------------------------------------------


def test_undoing_a_detachment_puts_everything_back(helene, merged, steward_marketing):
    records = list(helene.values())
    before_records, before_customers = placement(), customers_state()
    before_links = pair_kinds(records)
    detach = records_detach(customer_id=merged.pk, record_ids=[helene["crm"].pk, helene["eshop"].pk],
                            acting_user=steward_marketing)
    created = detach.survivor_id
    decision_undo(decision_id=detach.pk, acting_user=steward_marketing)

    assert placement() == before_records
    # The detachment revived the e-shop's old id (it brought the e-shop record); undone,
    # that id is retired into the merged customer again, exactly as before.
    assert created == helene["eshop"].customer_id
    assert customer_differences(before_customers, customers_state()) == {}  # pins and golden values too
    assert pair_kinds(records) == before_links
    assert_every_record_in_exactly_one_active_customer()
    assert_source_stats_match_the_records()


def test_a_customer_created_by_a_detachment_resolves_to_the_original_once_undone(
    steward_everywhere, helene, merged, steward_marketing
):
    from rcu.selectors.customers import customer_resolve

    detach = records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                            acting_user=steward_marketing)
    created = Customer.objects.get(pk=detach.survivor_id)
    decision_undo(decision_id=detach.pk, acting_user=steward_everywhere)
    assert customer_resolve(created.public_id).pk == merged.pk


def test_a_detachment_and_its_undo_are_filed_under_the_departments_of_the_customer(
    steward_everywhere, helene, merged, steward_marketing
):
    detach = records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                            acting_user=steward_marketing)
    undo = decision_undo(decision_id=detach.pk, acting_user=steward_everywhere)
    everyone = {"marketing", "ecommerce", "service-client"}
    assert set(detach.departments.values_list("code", flat=True)) == everyone
    assert set(undo.departments.values_list("code", flat=True)) == everyone


def test_undoing_a_detachment_is_refused_once_its_customer_was_merged(
    helene, merged, crm, steward_marketing
):
    detach = records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                            acting_user=steward_marketing)
    other = one(crm, "C7", {"first_name": "Hélène", "last_name": "Lefèvre", "city": "Lyon"})
    customers_merge(customer_ids=[detach.survivor_id, other.customer_id],
                    survivor_id=other.customer_id, acting_user=steward_marketing)
    with pytest.raises(DecisionConflict):
        decision_undo(decision_id=detach.pk, acting_user=steward_marketing)
    assert fresh(helene["sc"]).customer_id == other.customer_id
    assert SourceRecord.objects.filter(customer_id=merged.pk).count() == 2
    assert must_link_components([helene["crm"].pk, helene["eshop"].pk]) == [
        {helene["crm"].pk, helene["eshop"].pk}
    ]


def test_undoing_a_merge_does_not_reopen_a_pair_a_steward_rejected_since(crm, eshop, steward_everywhere):
    a1 = one(crm, "A1", JEANNE)
    a2 = one(crm, "A2", JEANNE)
    b = one(eshop, "B1", JEANNE_ESHOP)
    superseded_by_the_merge = candidate_between(a2, b, probability=0.7)
    rejected_later = candidate_between(a1, b, probability=0.8)
    merge = customers_merge(customer_ids=[a1.customer_id, a2.customer_id],
                            acting_user=steward_everywhere)
    superseded_by_the_merge.refresh_from_db()
    assert superseded_by_the_merge.status == MergeCandidate.Status.SUPERSEDED
    candidate_reject(candidate_id=rejected_later.pk, acting_user=steward_everywhere)

    decision_undo(decision_id=merge.pk, acting_user=steward_everywhere)

    superseded_by_the_merge.refresh_from_db()
    assert superseded_by_the_merge.status != MergeCandidate.Status.OPEN  # a2 and b are cannot-linked
    assert PairDecision.objects.filter(record_a_id=min(a2.pk, b.pk), record_b_id=max(a2.pk, b.pk),
                                       kind=PairDecision.Kind.CANNOT_LINK).exists()


# --- Stable ids: undoing an automatic link ---------------------------------------------------


@pytest.fixture
def auto_linked(crm, eshop):
    """Jeanne's e-shop record arrives as a customer of its own; matching links it to
    her CRM customer automatically and retires the e-shop's customer id into it."""
    (c1,) = ingest(crm, [{"id": "C1", **JEANNE}])
    (e1,) = ingest(eshop, [{"id": "E1", **JEANNE_ESHOP}])
    eshop_id = SourceRecord.history.filter(id=e1.pk).earliest("history_date").customer_id
    match_realtime([c1, e1])
    assert customer_of(e1).pk == customer_of(c1).pk != eshop_id
    assert Customer.objects.get(pk=eshop_id).merged_into_id == customer_of(c1).pk
    return c1, e1, eshop_id


def test_detaching_an_auto_linked_record_revives_the_id_it_had(auto_linked, steward_everywhere):
    c1, e1, eshop_id = auto_linked
    home = customer_of(c1).pk
    count = Customer.objects.count()
    decision = records_detach(customer_id=home, record_ids=[e1.pk],
                              acting_user=steward_everywhere, reason="not her")
    assert customer_of(e1).pk == eshop_id and decision.survivor_id == eshop_id
    revived = Customer.objects.get(pk=eshop_id)
    assert revived.merged_into_id is None and revived.email == "jeanne.lefevre@orange.fr"
    assert Customer.objects.count() == count  # no new id
    assert customer_of(c1).pk == home
    assert_every_record_in_exactly_one_active_customer()


def test_a_revived_id_resolves_to_its_own_person_again(auto_linked, steward_everywhere):
    from rcu.selectors.customers import customer_resolve

    c1, e1, eshop_id = auto_linked
    public_id = Customer.objects.get(pk=eshop_id).public_id
    assert customer_resolve(public_id).pk == customer_of(c1).pk  # linked: her CRM customer
    records_detach(customer_id=customer_of(c1).pk, record_ids=[e1.pk],
                   acting_user=steward_everywhere)
    assert customer_resolve(public_id).pk == eshop_id  # never the CRM's person any more


def test_undoing_the_detach_of_an_auto_link_retires_the_revived_id_again(
    auto_linked, steward_everywhere
):
    c1, e1, eshop_id = auto_linked
    home = customer_of(c1).pk
    decision = records_detach(customer_id=home, record_ids=[e1.pk], acting_user=steward_everywhere)
    decision_undo(decision_id=decision.pk, acting_user=steward_everywhere)
    assert customer_of(e1).pk == home
    assert Customer.objects.get(pk=eshop_id).merged_into_id == home
    assert_every_record_in_exactly_one_active_customer()


def test_a_merged_customer_detached_whole_gets_its_own_id_back(helene, merged, steward_marketing):
    """The same for a steward's merge: the service-client customer comes back under its id."""
    sc_id = SourceRecord.history.filter(id=helene["sc"].pk).earliest("history_date").customer_id
    decision = records_detach(customer_id=merged.pk, record_ids=[helene["sc"].pk],
                              acting_user=steward_marketing)
    assert customer_of(helene["sc"]).pk == sc_id == decision.survivor_id
    assert Customer.objects.get(pk=sc_id).merged_into_id is None


def test_records_of_two_old_ids_leave_under_one_and_the_other_redirects_to_it(
    helene, merged, steward_marketing
):
    eshop_id = SourceRecord.history.filter(id=helene["eshop"].pk).earliest("history_date").customer_id
    sc_id = SourceRecord.history.filter(id=helene["sc"].pk).earliest("history_date").customer_id
    records_detach(customer_id=merged.pk, record_ids=[helene["eshop"].pk, helene["sc"].pk],
                   acting_user=steward_marketing)
    target = customer_of(helene["eshop"]).pk
    assert customer_of(helene["sc"]).pk == target and target in (eshop_id, sc_id)
    other = sc_id if target == eshop_id else eshop_id
    assert Customer.objects.get(pk=other).merged_into_id == target  # not the CRM's person


def test_a_record_that_never_had_another_id_leaves_under_a_new_one(helene, merged,
                                                                   steward_marketing):
    count = Customer.objects.count()
    records_detach(customer_id=merged.pk, record_ids=[helene["crm"].pk],
                   acting_user=steward_marketing)
    assert Customer.objects.count() == count + 1
    assert customer_of(helene["crm"]).pk != merged.pk
