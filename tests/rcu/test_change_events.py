"""The outbox: every change to a golden customer writes its events in the same
transaction. A rolled-back change leaves none; a committed one exactly the events
that describe it, numbered per customer without gaps."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from rcu.models import ChangeEvent, Customer, SourceRecord
from rcu.roles import Role
from rcu.services.events import EVENT_ATTRIBUTES, event_json
from stewardship.services.merge import customers_merge
from stewardship.services.unmerge import decision_undo, records_detach
from tests.factories import TEST_ACTOR, frozen_default_model, ingest, make_user
from tests.stewardship.ledger import match_batch, one

pytestmark = pytest.mark.django_db

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "birth_date": "1984-03-12", "city": "Paris"}


@pytest.fixture
def steward(db):
    return make_user("steward", roles=[Role.STEWARD],
                     departments=["marketing", "service-client", "ecommerce"])


def events_of(*customers: int) -> list[tuple[str, int]]:
    return list(ChangeEvent.objects.filter(customer_id__in=customers)
                .order_by("id").values_list("type", "version"))


def rolled_back(change: Callable[[], object]) -> None:
    with transaction.atomic():
        change()
        transaction.set_rollback(True)


def test_a_new_record_creates_its_customer_with_one_created_event_carrying_its_values(crm):
    record = one(crm, "C1", HELENE)
    (event,) = ChangeEvent.objects.all()
    assert (event.type, event.customer_id, event.version) == ("customer.created", record.customer_id, 1)
    assert event.customer_public_id == record.customer.public_id
    assert event.changes["first_name"] == "Hélène"
    assert event.changes["birth_date"] == "1984-03-12"
    assert (event.actor_id, event.actor_job) == (None, TEST_ACTOR.job)


@pytest.mark.parametrize("copy_min_rows", [1, 10_000], ids=["by-copy", "row-by-row"])
def test_a_batch_of_new_records_creates_events_carrying_the_values_as_stored(crm, settings, copy_min_rows):
    """The events of a large batch are built from the rows inserted, not read back: they
    must say exactly what reading the customers back says."""
    settings.RCU_COPY_MIN_ROWS = copy_min_rows
    people = [
        {"id": f"C{i}", "first_name": first, "last_name": "Lefèvre", "birth_date": "1984-03-12",
         "email": f"p{i}@orange.fr" if i % 2 else "", "city": "Paris" if i % 3 else "",
         "phone": "06 12 34 56 78" if i % 4 == 0 else ""}
        for i, first in enumerate(["Hélène", "Zoé", "Jean-Luc", "Ana", "Ève", "Noé"] * 10)
    ]
    ingest(crm, people)
    events = list(ChangeEvent.objects.order_by("customer_id"))
    customers = list(Customer.objects.order_by("pk").values("pk", "public_id", *EVENT_ATTRIBUTES))
    assert [e.customer_id for e in events] == [c["pk"] for c in customers]
    for event, customer in zip(events, customers, strict=True):
        assert (event.type, event.version) == ("customer.created", 1)
        assert event.customer_public_id == customer.pop("public_id")
        customer.pop("pk")
        assert event.changes == {k: event_json(v) for k, v in customer.items() if v not in ("", None, {})}
        assert "email" not in event.changes or event.changes["email"].endswith("@orange.fr")


def test_a_rolled_back_import_leaves_no_event(crm):
    rolled_back(lambda: ingest(crm, [{"id": "C1", **HELENE}, {"id": "C2", **HELENE}]))
    assert not ChangeEvent.objects.exists()
    assert not Customer.objects.exists()


def test_a_source_update_emits_one_updated_event_with_only_what_changed(crm):
    record = one(crm, "C1", HELENE)
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])
    assert events_of(record.customer_id) == [("customer.created", 1), ("customer.updated", 2)]
    assert ChangeEvent.objects.get(version=2).changes == {"city": "Lyon"}
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])  # the same again: no change
    assert ChangeEvent.objects.count() == 2


def test_a_merge_emits_merged_on_the_survivor_naming_the_retired_ids(crm, eshop, steward):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "email": "", "mobile": "06 12 34 56 78"})
    before = ChangeEvent.objects.count()
    rolled_back(lambda: customers_merge(customer_ids=[a.customer_id, b.customer_id],
                                        acting_user=steward, survivor_id=a.customer_id))
    assert ChangeEvent.objects.count() == before

    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                    survivor_id=a.customer_id)
    merged, updated = ChangeEvent.objects.filter(id__gt=0).order_by("id")[before:]
    assert (merged.type, merged.customer_id, merged.version) == ("customer.merged", a.customer_id, 2)
    assert merged.data == {"survivor_id": str(a.customer.public_id),
                           "retired_ids": [str(b.customer.public_id)]}
    assert merged.actor_id == steward.pk
    assert (updated.type, updated.customer_id, updated.version) == ("customer.updated", a.customer_id, 3)
    assert updated.changes == {"mobile": "+33612345678"}
    assert events_of(b.customer_id) == [("customer.created", 1)]  # a retired id goes quiet


def test_undoing_a_merge_emits_unmerged_for_the_customer_restored(crm, eshop, steward):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "mobile": "06 12 34 56 78"})
    merge = customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                            survivor_id=a.customer_id)
    decision_undo(decision_id=merge.pk, acting_user=steward)
    restored = ChangeEvent.objects.filter(customer_id=b.customer_id).order_by("id")
    assert [(e.type, e.version) for e in restored] == [("customer.created", 1), ("customer.unmerged", 2)]
    assert restored.last().data == {"merged_from": str(a.customer.public_id)}
    assert events_of(a.customer_id)[-1] == ("customer.updated", 4)  # the mobile leaves again


def test_detaching_the_records_a_merge_brought_brings_their_id_back(crm, eshop, steward):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "mobile": "06 12 34 56 78"})
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                    survivor_id=a.customer_id)
    before = ChangeEvent.objects.count()
    records_detach(customer_id=a.customer_id, record_ids=[b.pk], acting_user=steward)
    assert SourceRecord.objects.get(pk=b.pk).customer_id == b.customer_id  # its old id, revived
    kinds = list(ChangeEvent.objects.order_by("id")[before:].values_list("type", "customer_id"))
    assert ("customer.unmerged", b.customer_id) in kinds
    assert ("customer.updated", a.customer_id) in kinds  # the mobile leaves
    assert not any(kind == "customer.created" for kind, _ in kinds)


def test_detaching_a_record_that_had_no_other_id_creates_a_customer(crm, eshop, steward):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "mobile": "06 12 34 56 78"})
    customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                    survivor_id=a.customer_id)
    before = ChangeEvent.objects.count()
    records_detach(customer_id=a.customer_id, record_ids=[a.pk], acting_user=steward)
    new_customer = SourceRecord.objects.get(pk=a.pk).customer_id
    assert new_customer not in (a.customer_id, b.customer_id)
    kinds = list(ChangeEvent.objects.order_by("id")[before:].values_list("type", "customer_id"))
    assert ("customer.created", new_customer) in kinds
    assert ("customer.updated", new_customer) in kinds  # its values, once recomputed


@pytest.mark.parametrize("copy_min_rows", [1, 10_000], ids=["by-copy", "row-by-row"])
def test_a_matching_run_that_links_two_records_emits_a_merge_by_the_run(
    crm, eshop, settings, copy_min_rows
):
    settings.RCU_COPY_MIN_ROWS = copy_min_rows  # a batch run's events go by COPY
    frozen_default_model()
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "mobile": "06 12 34 56 78"})
    match_batch()
    survivor = SourceRecord.objects.get(pk=a.pk).customer_id
    retired = ({a.customer_id, b.customer_id} - {survivor}).pop()
    merged = ChangeEvent.objects.get(type="customer.merged")
    assert merged.customer_id == survivor
    assert merged.data["retired_ids"] == [str(Customer.objects.get(pk=retired).public_id)]
    assert merged.actor_id is None and merged.actor_job.startswith("matching run #")
    # The survivor's golden values now draw on both records: one update, numbered too.
    (updated,) = ChangeEvent.objects.filter(type="customer.updated", customer_id=survivor)
    assert updated.changes["mobile"] == "+33612345678"
    assert updated.customer_public_id == merged.customer_public_id
    assert sorted(v for _, v in events_of(survivor)) == [1, 2, 3]


def test_versions_count_each_customers_events_from_one_without_gaps(crm, eshop, steward):
    a = one(crm, "C1", HELENE)
    b = one(eshop, "E1", {**HELENE, "mobile": "06 12 34 56 78"})
    for city in ("Lyon", "Nantes", "Lille"):
        ingest(crm, [{"id": "C1", **HELENE, "city": city}])
    merge = customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward,
                            survivor_id=a.customer_id)
    decision_undo(decision_id=merge.pk, acting_user=steward)
    for customer in (a.customer_id, b.customer_id):
        versions = [v for _, v in events_of(customer)]
        assert versions == list(range(1, len(versions) + 1))
