"""On PostgreSQL, large batches are written with COPY: it must store exactly what the ORM stores."""

from __future__ import annotations

import pytest
from django.db import connection

from rcu.models import Customer, SourceRecord
from tests.factories import ingest, make_source

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="COPY is the PostgreSQL fast path; needs DATABASE_URL"
)

ROWS = [
    {
        "id": f"X{i}", "civility": "Mme" if i % 2 else "M.", "first_name": f"Prénom{i}",
        "last_name": "Lefèvre" if i % 3 else "Le Goff", "birth_date": f"19{50 + i % 40}-0{1 + i % 9}-1{i % 9}",
        "email": f"P{i}@Orange.FR", "phone": "", "mobile": f"06 12 34 {10 + i % 80:02d} 78",
        "address_line1": f"{i} bd Saint-Michel", "address_line2": "", "postcode": "75005",
        "city": "Paris CEDEX 05", "country": "France", "updated": "2024-05-03 10:00",
    }
    for i in range(60)
]

COMPARED_CUSTOMER_FIELDS = [
    "civility", "first_name", "last_name", "birth_date", "email", "mobile", "address_line1",
    "postcode", "city", "country", "first_name_key", "last_name_key", "extra_identifiers",
    "pinned", "merged_into_id",
]


def _snapshot(source_code: str):
    records = SourceRecord.objects.filter(source__code=source_code).select_related("customer")
    snap = {}
    for record in records:
        customer = record.customer
        provenance = {
            attr: {k: v for k, v in p.items() if k != "source"} for attr, p in customer.provenance.items()
        }
        snap[record.external_id] = (
            record.raw, record.attributes, record.keys, record.quality_flags, record.business_ts,
            record.payload_hash,
            tuple(getattr(customer, f) for f in COMPARED_CUSTOMER_FIELDS), provenance,
            record.history.count(), customer.history.count(),
            record.history.get().history_change_reason, customer.history.get().history_type,
        )
    return snap


@pytest.mark.django_db
def test_copy_path_stores_exactly_what_the_orm_path_stores(settings, admin_user):
    by_orm = make_source("by_orm", department="marketing")
    by_copy = make_source("by_copy", department="marketing")

    settings.RCU_COPY_MIN_ROWS = 10**9
    ingest(by_orm, ROWS, acting_user=admin_user)
    settings.RCU_COPY_MIN_ROWS = 1
    ingest(by_copy, ROWS, acting_user=admin_user)

    assert _snapshot("by_orm") == _snapshot("by_copy")
    copied = Customer.objects.filter(records__source=by_copy)
    assert copied.count() == 60
    assert copied.values("public_id").distinct().count() == 60
    assert all(c.created_at and c.updated_at for c in copied)
    assert {h.history_user_id for c in copied for h in c.history.all()} == {admin_user.pk}


@pytest.mark.django_db
def test_ids_from_the_copy_path_keep_the_sequence_in_step(settings):
    source = make_source("by_copy", department="marketing")
    settings.RCU_COPY_MIN_ROWS = 1
    ingest(source, ROWS[:30])
    settings.RCU_COPY_MIN_ROWS = 10**9
    ingest(source, ROWS[30:])  # ORM inserts after COPY ones must not collide
    assert SourceRecord.objects.filter(source=source).count() == 60
