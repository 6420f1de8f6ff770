"""The living hub on the demo base: after `make demo`, files of duplicates from new
sources and a re-import with changes link and propose exactly as a full run would."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from rcu.models import Customer, PendingMatch
from rcu.services.demo import demo_seed
from rcu.services.imports import import_job_submit
from tests.factories import PLAIN_FIELDS, make_source
from tests.rcu.matching_db.invariants import (
    assert_every_record_in_one_active_customer,
    matching_state,
    matching_state_after_full_run,
)

pytestmark = pytest.mark.django_db


def rows_of_customers(customers, *, prefix: str, change: bool = False) -> list[dict]:
    """Existing customers as another system holds them; `change`: some values differ."""
    rows = []
    for i, c in enumerate(customers):
        row = {
            "id": f"{prefix}{c.pk}", "first_name": c.first_name, "last_name": c.last_name,
            "birth_date": c.birth_date.isoformat() if c.birth_date else "",
            "email": c.email if i % 3 else "", "mobile": c.mobile if i % 2 else "",
            "address_line1": c.address_line1, "postcode": c.postcode, "city": c.city,
        }
        if i % 4 == 1:  # a typo in the last name
            row["last_name"] = (c.last_name or "x")[:-1] + "z"
        if change and i % 3 == 0:  # the re-import: moved house
            row.update(address_line1="8 place Bellecour", postcode="69002", city="Lyon")
        rows.append(row)
    return rows


def upload(source, rows, admin):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", *PLAIN_FIELDS, "updated"], extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = import_job_submit(
            source=source, acting_user=admin,
            upload=SimpleUploadedFile("file.csv", out.getvalue().encode(), content_type="text/csv"),
        )
    job.refresh_from_db()
    assert job.status == "succeeded", job.message
    assert job.rejected_count == 0
    return job



def test_duplicates_then_another_source_then_changes_match_as_a_full_run_would(tmp_path):
    with TestCase.captureOnCommitCallbacks(execute=True):
        seeded = demo_seed(persons=100, seed=7, data_dir=tmp_path)
    assert seeded.seeded
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.get(username="admin")
    customers = list(Customer.objects.filter(merged_into__isnull=True).order_by("pk")[:40])
    shop = make_source("boutique", department="ecommerce", trust_rank=6)
    store = make_source("magasin", department="ecommerce", trust_rank=7)

    steps = [
        (shop, rows_of_customers(customers[:25], prefix="B")),
        (store, rows_of_customers(customers[15:40], prefix="M")),
        (shop, rows_of_customers(customers[:25], prefix="B", change=True)),
    ]
    for source, rows in steps:
        upload(source, rows, admin)
        assert not PendingMatch.objects.exists()
        assert_every_record_in_one_active_customer()
        assert matching_state() == matching_state_after_full_run(admin)
    # The duplicates did join the customers they duplicate: most automatically.
    for source in (shop, store):
        joined = sum(
            1 for r in source.records.select_related("customer")
            if r.customer.records.exclude(source=source).exists()
        )
        assert joined >= 15, (source.code, joined)
