"""`field__any_of`: the `in` lookup for long id lists, one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rcu.models import Customer, SourceRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers_with_records(crm):
    customers = [Customer.objects.create() for _ in range(5)]
    for i, customer in enumerate(customers):
        SourceRecord.objects.create(source=crm, external_id=f"C{i}", customer=customer, raw={})
    return customers


def test_it_finds_what_in_finds_by_key_and_by_foreign_key(customers_with_records):
    wanted = [c.pk for c in customers_with_records[1:4]] + [10**9]  # one id matches nothing
    assert set(Customer.objects.filter(pk__any_of=wanted).values_list("pk", flat=True)) == set(
        Customer.objects.filter(pk__in=wanted).values_list("pk", flat=True)
    ) == set(wanted[:3])
    records = SourceRecord.objects.filter(customer_id__any_of=wanted)
    assert sorted(records.values_list("customer_id", flat=True)) == sorted(wanted[:3])
    assert not Customer.objects.filter(pk__any_of=[]).exists()


def test_postgresql_gets_the_ids_as_one_parameter(customers_with_records):
    wanted = [c.pk for c in customers_with_records]
    with CaptureQueriesContext(connection) as queries:
        list(Customer.objects.filter(pk__any_of=wanted).values_list("pk"))
    sql = queries.captured_queries[-1]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(" in sql and " IN (" not in sql
    else:
        assert " IN (" in sql
