"""Importing a file through the UI, following the job, downloading its rejects."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from rcu.models import ImportJob, SourceRecord
from tests.factories import PLAIN_FIELDS

HEADER = ["id", *PLAIN_FIELDS, "updated"]


def csv_upload(rows: list[dict[str, str]], name: str = "clients.csv") -> SimpleUploadedFile:
    lines = [";".join(HEADER)]
    lines += [";".join(row.get(column, "") for column in HEADER) for row in rows]
    content = ("\n".join(lines) + "\n").encode("utf-8")
    return SimpleUploadedFile(name, content, content_type="text/csv")


SAMPLE = [
    {"id": "CRM-10", "first_name": "Zoé", "last_name": "Garnier", "mobile": "06 01 02 03 04",
     "updated": "2024-02-01 10:00"},
    {"id": "CRM-11", "first_name": "Noah", "last_name": "Faure", "email": "noah@example.fr",
     "updated": "2024-02-01 10:00"},
    {"id": "", "first_name": "Sans", "last_name": "Identifiant"},
]


@pytest.fixture
def uploaded_job(client, steward_marketing, crm, django_capture_on_commit_callbacks) -> ImportJob:
    client.force_login(steward_marketing)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_new"), {"source": crm.pk, "file": csv_upload(SAMPLE)})
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("import_detail", args=[job.pk])
    return job


def test_upload_runs_the_import_and_counts_rows(uploaded_job, steward_marketing):
    job = uploaded_job
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.created_by == steward_marketing
    assert (job.created_count, job.updated_count, job.unchanged_count, job.rejected_count) == (2, 0, 0, 1)
    assert set(SourceRecord.objects.filter(source__code="crm").values_list("external_id", flat=True)) == {
        "CRM-10", "CRM-11",
    }


def test_job_page_shows_status_counts_and_rejected_rows(client, uploaded_job):
    response = client.get(reverse("import_detail", args=[uploaded_job.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "badge-ok" in body
    assert [e.line for e in response.context["rejects"].object_list] == [4]
    assert "missing external id" in body
    assert reverse("import_rejects", args=[uploaded_job.pk]) in body
    assert 'hx-trigger="every 2s"' not in body  # finished: nothing to poll
    for count in ('<span class="stat-value">2</span>', '<span class="stat-value">1</span>'):
        assert count in body


def test_sending_the_same_file_again_updates_nothing(client, uploaded_job, crm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_new"), {"source": crm.pk, "file": csv_upload(SAMPLE)})
    second = ImportJob.objects.exclude(pk=uploaded_job.pk).get()
    assert (second.created_count, second.unchanged_count, second.rejected_count) == (0, 2, 1)


def test_rejects_download_for_the_owner_department(client, uploaded_job):
    response = client.get(reverse("import_rejects", args=[uploaded_job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"import-{uploaded_job.pk}-rejects.csv" in response["Content-Disposition"]
    content = b"".join(response.streaming_content).decode("utf-8")
    assert content.startswith("\ufeff")  # a French spreadsheet opens it as UTF-8
    assert content.splitlines()[0] == "\ufeffrcu_line;rcu_field;rcu_reason;" + ";".join(HEADER)
    assert "missing external id" in content


@pytest.mark.parametrize("persona", ["steward_service_client", "outsider"])
def test_rejects_download_is_404_for_other_departments(client, request, uploaded_job, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("import_rejects", args=[uploaded_job.pk])).status_code == 404
    assert client.get(reverse("import_detail", args=[uploaded_job.pk])).status_code == 404


def test_rejects_download_is_404_when_nothing_was_rejected(client, steward_marketing, crm, django_capture_on_commit_callbacks):
    client.force_login(steward_marketing)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_new"), {"source": crm.pk, "file": csv_upload(SAMPLE[:1])})
    job = ImportJob.objects.get()
    assert job.rejected_count == 0
    assert client.get(reverse("import_rejects", args=[job.pk])).status_code == 404


def test_refused_file_ends_failed_with_its_reason(client, steward_marketing, crm, django_capture_on_commit_callbacks):
    client.force_login(steward_marketing)
    upload = SimpleUploadedFile("bad.csv", b"id;prenom\nX;Y\n", content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_new"), {"source": crm.pk, "file": upload})
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "missing mapped column" in job.message
    response = client.get(reverse("import_detail", args=[job.pk]))
    assert job.message in response.content.decode()


def test_upload_form_refuses_an_empty_file(client, steward_marketing, crm):
    client.force_login(steward_marketing)
    upload = SimpleUploadedFile("empty.csv", b"", content_type="text/csv")
    response = client.post(reverse("import_new"), {"source": crm.pk, "file": upload})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not ImportJob.objects.exists()


def test_upload_form_preselects_the_source_from_its_page(client, steward_marketing, crm):
    client.force_login(steward_marketing)
    response = client.get(reverse("import_new"), {"source": "crm"})
    assert response.context["form"].initial["source"] == crm
    assert f'<option value="{crm.pk}" selected>' in response.content.decode()


def test_upload_form_has_labels_for_every_input(client, steward_marketing, crm):
    client.force_login(steward_marketing)
    body = client.get(reverse("import_new")).content.decode()
    assert '<label for="id_source">' in body and '<label for="id_file">' in body
    assert 'enctype="multipart/form-data"' in body


@pytest.fixture
def running_job(crm) -> ImportJob:
    return ImportJob.objects.create(
        source=crm, file_name="big.csv", status=ImportJob.Status.RUNNING, total_lines=1000,
        lines_done=250, created_count=240, rejected_count=10,
    )


def test_running_job_page_polls_its_progress(client, steward_marketing, running_job):
    client.force_login(steward_marketing)
    body = client.get(reverse("import_detail", args=[running_job.pk])).content.decode()
    assert 'hx-trigger="every 2s"' in body
    assert f'hx-get="{reverse("import_detail", args=[running_job.pk])}"' in body
    assert '<progress max="100" value="25"' in body


def test_progress_poll_returns_the_partial_while_running(client, steward_marketing, running_job):
    client.force_login(steward_marketing)
    response = client.get(
        reverse("import_detail", args=[running_job.pk]),
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-progress",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and "<progress" in body
    assert "HX-Refresh" not in response


def test_progress_poll_stops_once_finished(client, steward_marketing, running_job):
    ImportJob.objects.filter(pk=running_job.pk).update(status=ImportJob.Status.SUCCEEDED, lines_done=1000)
    client.force_login(steward_marketing)
    response = client.get(
        reverse("import_detail", args=[running_job.pk]),
        HTTP_HX_REQUEST="true", HTTP_HX_TARGET="job-progress",
    )
    assert response.status_code == 286  # htmx stops polling
    assert response["HX-Refresh"] == "true"


def test_import_list_links_to_upload_only_for_people_who_may_import(client, steward_marketing, dpo, crm):
    client.force_login(steward_marketing)
    assert reverse("import_new") in client.get(reverse("import_list")).content.decode()
    client.force_login(dpo)
    assert reverse("import_new") not in client.get(reverse("import_list")).content.decode()


def test_upload_form_preselects_the_only_source_offered(client, steward_marketing, crm, service_client_source):
    client.force_login(steward_marketing)
    response = client.get(reverse("import_new"))
    assert response.context["form"].initial["source"] == crm


def test_upload_form_preselects_nothing_when_several_sources_are_offered(client, admin_user, crm, service_client_source):
    client.force_login(admin_user)
    response = client.get(reverse("import_new"))
    assert response.context["form"].initial["source"] is None


@pytest.mark.parametrize(
    "url",
    ["/imports/new/?source=%00", "/imports/?page=%00", "/customers/?q=a%00b", "/imports/new/?a%00=1"],
)
def test_a_nul_in_a_query_string_is_a_400_never_a_500(client, steward_marketing, crm, url):
    client.force_login(steward_marketing)
    assert client.get(url).status_code == 400


def test_a_source_preselected_by_its_code_still_works(client, steward_marketing, crm):
    client.force_login(steward_marketing)
    response = client.get(reverse("import_new") + "?source=crm")
    assert response.status_code == 200
    assert response.context["form"].initial["source"] == crm
