"""Indexes kept to what reads use (a batch run rewrites hundreds of thousands of rows):
customer search reads active customers through partial indexes that hold only them,
and records carry no index that nothing reads."""

from __future__ import annotations

import pytest
from django.db import connection

from rcu.models import Customer
from rcu.selectors.customers import customer_search

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="query plans are PostgreSQL's"
)


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # A few rows would be read by a sequential scan: make the index the planner's
        # only way, so that the plan says whether the query may use it at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def base_of_customers(db):
    """Two thousand active customers with distinct values, and as many retired ones."""
    active = Customer.objects.bulk_create(
        Customer(
            last_name=f"Nom{i}", last_name_key=f"nom{i}", first_name_key="jean",
            email=f"client{i}@example.fr", phone=f"+3314000{i:04d}",
            mobile=f"+3361000{i:04d}", postcode=f"{75000 + i % 100}",
        )
        for i in range(2000)
    )
    Customer.objects.bulk_create(
        Customer(last_name_key=f"nom{i}", email=f"client{i}@example.fr", merged_into=active[i])
        for i in range(2000)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE rcu_customer")


@pytest.mark.parametrize(
    ("criteria", "indexes"),
    [
        ({"email": "Client12@Example.fr"}, ["customer_email_idx"]),
        ({"q": "nom12"}, ["customer_name_key_idx"]),
        ({"postcode": "75011"}, ["customer_postcode_idx"]),
        ({"phone": "06 10 00 00 12"}, ["customer_phone_idx", "customer_mobile_idx"]),
    ],
)
def test_each_search_criterion_reads_its_active_customers_index(
    base_of_customers, dpo, criteria, indexes
):
    search = customer_search(user=dpo, **criteria)
    plan = plan_of(search)
    for index in indexes:
        assert f"Index Scan using {index}" in plan or f"Bitmap Index Scan on {index}" in plan
    assert search.exists()


def test_retired_customers_are_left_out_of_the_search_indexes(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'rcu_customer' "
            "AND indexname LIKE 'customer\\_%%\\_idx' AND indexname <> 'customer_merged_into_idx'"
        )
        definitions = dict(cursor.fetchall())
    assert set(definitions) == {
        "customer_email_idx", "customer_phone_idx", "customer_mobile_idx",
        "customer_name_key_idx", "customer_postcode_idx",
    }
    assert all("WHERE (merged_into_id IS NULL)" in d for d in definitions.values())


def test_only_retired_customers_are_indexed_by_their_survivor(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'rcu_customer' "
            "AND indexdef LIKE '%%(merged_into_id)%%'"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert len(definitions) == 1
    assert definitions[0].endswith("WHERE (merged_into_id IS NOT NULL)")


def test_records_carry_only_the_indexes_their_reads_use(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'rcu_sourcerecord'"
        )
        definitions = dict(cursor.fetchall())
    assert len(definitions) == 4
    assert "(id)" in definitions["rcu_sourcerecord_pkey"]
    # Partial: only the rare records deleted at source are in it.
    assert "WHERE (deleted_at_source IS NOT NULL)" in definitions["record_deleted_at_source_idx"]
    assert "(source_id, external_id)" in definitions["uniq_record_source_external_id"]
    assert sum("(customer_id)" in d for d in definitions.values()) == 1
