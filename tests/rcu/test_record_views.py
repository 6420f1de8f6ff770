"""What survivorship reads of each customer's records (`record_views_by_customer`):
every linked record with its source, trust, time, values, keys and quality flags, the
records deleted at their source only for a customer that has nothing else. Read
straight from the driver on PostgreSQL, like the customers a recompute locks: the same
values as through the ORM."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rcu.models import ChangeEvent, Customer, SourceRecord
from rcu.services.customers import customers_recompute, record_views_by_customer
from rcu.survivorship import RecordView
from tests.factories import TEST_ACTOR
from tests.stewardship.ledger import one

pytestmark = pytest.mark.django_db


def _as_the_orm_reads_them(record: SourceRecord) -> RecordView:
    record = SourceRecord.objects.select_related("source").get(pk=record.pk)
    return RecordView(
        record.source.code, record.external_id, record.source.trust_rank, record.business_ts,
        record.attributes, record.keys, frozenset(record.quality_flags),
    )


def test_each_customer_gets_its_records_as_stored(crm, eshop):
    kept = one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre",
                           "email": "not-an-address", "city": "Paris"})
    other = one(eshop, "E1", {"first_name": "Zoé", "last_name": "Martin",
                              "mobile": "06 12 34 56 78", "birth_date": "1990-02-01"})
    gone = one(eshop, "E2", {"first_name": "Hélène", "last_name": "Lefevre"})
    only_gone = one(crm, "C2", {"first_name": "Noé", "last_name": "Durand"})
    moment = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    SourceRecord.objects.filter(pk=kept.pk).update(business_ts=moment)
    SourceRecord.objects.filter(pk=gone.pk).update(customer_id=kept.customer_id)
    SourceRecord.objects.filter(pk__in=[gone.pk, only_gone.pk]).update(deleted_at_source=moment)

    views = record_views_by_customer([kept.customer_id, other.customer_id, only_gone.customer_id])

    assert views[kept.customer_id] == [_as_the_orm_reads_them(kept)]  # the deleted one left out
    assert views[kept.customer_id][0].business_ts == moment
    assert "email.invalid" in views[kept.customer_id][0].flags
    assert views[other.customer_id] == [_as_the_orm_reads_them(other)]
    assert views[only_gone.customer_id] == [_as_the_orm_reads_them(only_gone)]


def test_recomputing_customers_whose_records_did_not_change_changes_nothing(crm, eshop):
    """The locked rows are read as the golden values are computed (dates as dates, JSON
    decoded): nothing differs, so no history row and no event."""
    people = [
        one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
                        "email": "helene.lefevre@orange.fr", "city": "Paris", "postcode": "75011"}),
        one(eshop, "E1", {"first_name": "Zoé", "last_name": "Martin", "mobile": "06 12 34 56 78"}),
    ]
    ids = [record.customer_id for record in people]
    history = Customer.history.count()
    events = ChangeEvent.objects.count()
    assert customers_recompute(customer_ids=ids, acting_user=TEST_ACTOR) == 0
    assert (Customer.history.count(), ChangeEvent.objects.count()) == (history, events)
    # Not vacuous: a changed record does change its customer.
    SourceRecord.objects.filter(pk=people[1].pk).update(
        attributes={**people[1].attributes, "last_name": "Dupont"})
    assert customers_recompute(customer_ids=ids, acting_user=TEST_ACTOR) == 1
    assert Customer.objects.get(pk=ids[1]).last_name == "Dupont"
