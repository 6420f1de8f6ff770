"""A job always ends succeeded, failed or cancelled; admins cancel, in the UI and the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from rcu.models import ImportJob, SourceRecord
from rcu.services.imports import (
    ImportJobFinished,
    import_job_cancel,
    import_job_create,
    import_job_run,
)
from tests.factories import PLAIN_FIELDS, TEST_ACTOR

HEADER = ["id", *PLAIN_FIELDS, "updated"]


def csv_file(tmp_path, rows: int):
    lines = [";".join(HEADER)]
    for i in range(rows):
        cells = {"id": f"C-{i}", "first_name": "Léa", "last_name": f"Martin{chr(65 + i % 26)}",
                 "email": f"lea{i}@exemple.fr", "updated": "2024-02-01 10:00"}
        lines.append(";".join(cells.get(column, "") for column in HEADER))
    path = tmp_path / "clients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_pending_job_cancelled_never_runs(crm, tmp_path, admin_user):
    job, _ = import_job_create(source=crm, path=csv_file(tmp_path, 5), acting_user=TEST_ACTOR)

    import_job_cancel(job=job, acting_user=admin_user)
    job = import_job_run(job=job)

    assert job.status == ImportJob.Status.CANCELLED
    assert job.is_finished
    assert "cancelled by admin" in job.message
    assert not SourceRecord.objects.exists()


def test_a_running_job_stops_at_the_next_batch_and_keeps_what_it_committed(crm, tmp_path, admin_user):
    job, _ = import_job_create(source=crm, path=csv_file(tmp_path, 50), acting_user=TEST_ACTOR)
    seen = []

    def cancel_after_the_second_batch(current: ImportJob) -> None:
        seen.append(current.lines_done)
        if current.lines_done == 21 and not current.is_finished:
            import_job_cancel(job=current, acting_user=admin_user)

    job = import_job_run(job=job, batch_size=10, progress=cancel_after_the_second_batch, match_after=False)

    assert job.status == ImportJob.Status.CANCELLED
    # On PostgreSQL the batch already handed to the writer thread still commits.
    assert job.lines_done in (21, 31)
    assert SourceRecord.objects.count() == job.created_count == job.lines_done - 1
    assert import_job_run(job=job).status == ImportJob.Status.CANCELLED  # ended for good


def test_an_interrupted_job_can_be_cancelled(crm, tmp_path, admin_user):
    job, _ = import_job_create(source=crm, path=csv_file(tmp_path, 5), acting_user=TEST_ACTOR)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.INTERRUPTED)

    job = import_job_cancel(job=job, acting_user=admin_user)

    assert job.status == ImportJob.Status.CANCELLED
    # The same file again is a new job, not a resumption of the cancelled one.
    again, resumed = import_job_create(source=crm, path=csv_file(tmp_path, 5), acting_user=TEST_ACTOR)
    assert (resumed, again.pk != job.pk) == (False, True)


def test_a_finished_job_cannot_be_cancelled(crm, tmp_path, admin_user):
    job, _ = import_job_create(source=crm, path=csv_file(tmp_path, 2), acting_user=TEST_ACTOR)
    job = import_job_run(job=job, match_after=False)

    with pytest.raises(ImportJobFinished):
        import_job_cancel(job=job, acting_user=admin_user)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED


@pytest.fixture
def pending_job(crm, steward_marketing):
    upload = SimpleUploadedFile("clients.csv", b"id;first_name\nC-1;Lea\n")
    job, _ = import_job_create(source=crm, upload=upload, acting_user=steward_marketing)
    return job


def test_admins_see_a_cancel_button_and_cancel_from_the_job_page(client, admin_user, pending_job):
    client.force_login(admin_user)
    page = client.get(reverse("import_detail", args=[pending_job.pk])).content.decode()
    assert f'data-cancel-import="{pending_job.pk}"' in page

    response = client.post(reverse("import_cancel", args=[pending_job.pk]))

    assert response.status_code == 302
    pending_job.refresh_from_db()
    assert pending_job.status == ImportJob.Status.CANCELLED
    page = client.get(reverse("import_detail", args=[pending_job.pk])).content.decode()
    assert "data-cancel-import" not in page  # ended: nothing left to cancel


def test_the_steward_who_uploaded_sees_no_button_and_may_not_cancel(client, steward_marketing, pending_job):
    client.force_login(steward_marketing)
    page = client.get(reverse("import_detail", args=[pending_job.pk])).content.decode()
    assert "data-cancel-import" not in page

    assert client.post(reverse("import_cancel", args=[pending_job.pk])).status_code == 403
    pending_job.refresh_from_db()
    assert pending_job.status == ImportJob.Status.PENDING


@pytest.mark.parametrize("persona", ["steward_service_client", "outsider"])
def test_cancel_is_404_for_who_cannot_see_the_job(client, request, persona, pending_job):
    client.force_login(request.getfixturevalue(persona))
    assert client.post(reverse("import_cancel", args=[pending_job.pk])).status_code == 404


def test_cancel_only_accepts_post(client, admin_user, pending_job):
    client.force_login(admin_user)
    assert client.get(reverse("import_cancel", args=[pending_job.pk])).status_code == 405


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("admin_user", 200), ("steward_marketing", 403), ("auditor", 403), ("dpo", 403),
     ("steward_service_client", 404), ("outsider", 404)],
)
def test_api_cancel_is_for_admins(request, persona, expected, pending_job):
    api = APIClient()
    api.force_authenticate(request.getfixturevalue(persona))

    response = api.post(f"/api/v1/imports/{pending_job.pk}/cancel/")

    assert response.status_code == expected
    pending_job.refresh_from_db()
    assert (pending_job.status == ImportJob.Status.CANCELLED) == (expected == 200)
    if expected == 200:
        assert response.json()["status"] == "cancelled"


def test_api_cancel_of_an_ended_job_is_a_conflict(admin_user, pending_job):
    api = APIClient()
    api.force_authenticate(admin_user)
    assert api.post(f"/api/v1/imports/{pending_job.pk}/cancel/").status_code == 200

    assert api.post(f"/api/v1/imports/{pending_job.pk}/cancel/").status_code == 409


def test_api_cancel_needs_authentication(pending_job):
    assert APIClient().post(f"/api/v1/imports/{pending_job.pk}/cancel/").status_code in (401, 403)
