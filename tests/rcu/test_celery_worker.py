"""An upload queued from the UI service is run by a real Celery worker over a real broker."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from rcu.models import ImportJob, SourceRecord
from rcu.services.imports import import_job_submit
from tests.factories import TEST_ACTOR, make_source

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the worker thread needs a database it can share: set DATABASE_URL to PostgreSQL",
    ),
]


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_is_imported_by_a_worker(celery_worker_app, admin_user):
    source = make_source(
        "crm", department="marketing",
        fields=["first_name", "last_name", "birth_date", "email", "mobile"],
    )
    content = (
        "id;first_name;last_name;birth_date;email;mobile;updated\n"
        "A1;Hélène;Lefèvre;1984-03-12;helene@orange.fr;0612345678;2024-05-03 10:00\n"
        "A2;Jean;Martin;1971-11-02;jean@free.fr;0711223344;2024-05-03 10:00\n"
        ";Sans;Identifiant;;;;\n"
    ).encode()

    job = import_job_submit(
        source=source, upload=SimpleUploadedFile("crm.csv", content), acting_user=admin_user
    )

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert (job.created_count, job.rejected_count) == (2, 1)
    assert SourceRecord.objects.filter(source=source).count() == 2
    assert job.row_errors.get().line == 4


@pytest.mark.django_db(transaction=True)
def test_a_matching_run_is_carried_out_by_a_worker(celery_worker_app):
    from rcu.models import MatchRun
    from rcu.services.matching.batch import match_run_create
    from tests.factories import frozen_default_model, ingest

    frozen_default_model()
    crm = make_source("crm", department="marketing")
    eshop = make_source("eshop", department="ecommerce")
    jeanne = {"first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": "1980-04-03",
              "email": "jeanne.lefevre@orange.fr", "postcode": "75002"}
    [a] = ingest(crm, [{"id": "C1", **jeanne}])
    [b] = ingest(eshop, [{"id": "E1", **jeanne, "postcode": "69003"}])
    assert a.customer_id != b.customer_id

    run = match_run_create(full=True, partitions=3, acting_user=TEST_ACTOR)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED):
            break
        time.sleep(0.2)
    assert run.status == MatchRun.Status.SUCCEEDED, run.message
    assert run.partitions_done == 3 and run.records_moved == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.customer_id == b.customer_id
