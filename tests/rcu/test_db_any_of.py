"""`field__any_of`: the `in` lookup for long id lists, one array parameter on PostgreSQL;
`driver_rows`: a `values_list` read straight from the driver there."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.test.utils import CaptureQueriesContext

from rcu.db import driver_rows
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


def test_driver_rows_are_the_rows_django_reads(customers_with_records):
    """`driver_rows`: straight from the driver on PostgreSQL, the same values as the ORM
    (UUIDs, aware datetimes, dates, JSON cast to text); an empty `any_of` reads nothing."""
    customer = customers_with_records[0]
    Customer.objects.filter(pk=customer.pk).update(birth_date="1984-03-12", first_name="Hélène")
    SourceRecord.objects.filter(customer=customer).update(business_ts="2026-03-01T08:30:00Z")
    wanted = [c.pk for c in customers_with_records]
    customers = Customer.objects.filter(pk__any_of=wanted).order_by("pk").values_list(
        "pk", "public_id", "birth_date", "first_name", "created_at")
    records = SourceRecord.objects.filter(customer_id__any_of=wanted).order_by("pk").annotate(
        raw_text=Cast("raw", TextField())).values_list("pk", "business_ts", "raw_text")
    assert list(driver_rows(customers)) == list(customers)
    assert list(driver_rows(records)) == list(records)
    assert next(iter(driver_rows(customers)))[2] == date(1984, 3, 12)  # a date, not text
    assert list(driver_rows(Customer.objects.filter(pk__any_of=[]).values_list("pk"))) == []
