"""Auditing a file before loading it: every figure of the report, and nothing written.

The hand-built CRM file below has 9 data rows (lines 2 to 10):
- line 4 has no external id, line 5 too few cells, line 9 a last name too long: the
  import rejects them;
- A1 comes twice with the same values (lines 2 and 6), A2 twice with another city
  (lines 3 and 10); A2 and A4 hold the same values under two ids;
- A2, A4 (twice) have an e-mail that is not one; A5 an impossible birth date and a
  placeholder e-mail; the second A2 a city that is not its postcode's.
"""

from __future__ import annotations

import json

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from rcu.ingestion.profile import reports_compare
from rcu.models import ImportAudit, ImportJob
from rcu.services.import_audits import import_audit_create, import_audit_run, import_audit_submit

pytestmark = pytest.mark.django_db

HEADER = "id,civility,first_name,last_name,birth_date,email,phone,mobile,address_line1,address_line2,postcode,city,country,updated"
LONG_NAME = "X" * 246
SAMPLE = "\n".join([
    HEADER,
    "A1,Mme,Jeanne,Lefèvre,1980-04-03,jeanne.lefevre@orange.fr,,06 12 34 56 78,12 rue de la Paix,,75002,Paris,FR,2024-01-01 10:00",
    "A2,M.,Marc,Dubois,1965-07-14,not-an-email,,,,,33000,Bordeaux,FR,",
    ",M.,Paul,Martin,1970-01-01,paul@free.fr,,,,,69003,Lyon,FR,",
    "A3,Mme,broken",
    "A1,Mme,Jeanne,Lefèvre,1980-04-03,jeanne.lefevre@orange.fr,,06 12 34 56 78,12 rue de la Paix,,75002,Paris,FR,2024-01-01 10:00",
    "A4,M.,Marc,Dubois,1965-07-14,not-an-email,,,,,33000,Bordeaux,FR,",
    "A5,Mme,Claire,Petit,1980-13-45,noemail@free.fr,01 42 00 00 01,,,,75011,Paris,FR,",
    f"A6,M.,Luc,{LONG_NAME},,,,,,,,,FR,",
    "A2,M.,Marc,Dubois,1965-07-14,not-an-email,,,,,33000,Lille,FR,",
]) + "\n"


@pytest.fixture
def sample_path(tmp_path):
    path = tmp_path / "sample.csv"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


@pytest.fixture
def report(crm, crm_customer, admin_user, sample_path) -> dict:
    audit = import_audit_run(
        audit=import_audit_create(source=crm, acting_user=admin_user, path=sample_path)
    )
    assert audit.status == ImportAudit.Status.SUCCEEDED, audit.message
    assert (audit.total_lines, audit.rows, audit.rejected_count) == (10, 9, 3)
    return audit.report


def by(entries: list[dict], key: str) -> dict[str, dict]:
    return {entry[key]: entry for entry in entries}


def test_report_counts_rows_read_readable_and_accepted(report):
    assert (report["rows"], report["readable"], report["accepted"]) == (9, 8, 6)
    assert report["file"] == {
        "format": "csv", "encoding": "utf-8", "delimiter": ",", "total_lines": 10,
        "sha256": report["file"]["sha256"],
    }


def test_fill_rate_distinct_and_most_frequent_values_of_each_column(report):
    columns = by(report["columns"], "column")
    assert list(columns) == HEADER.split(",")
    expected = {  # filled of the 8 readable rows, distinct values
        "id": (7, 5), "civility": (8, 2), "first_name": (8, 5), "last_name": (8, 5),
        "birth_date": (7, 4), "email": (7, 4), "phone": (1, 1), "mobile": (2, 1),
        "address_line1": (2, 1), "address_line2": (0, 0), "postcode": (7, 4), "city": (7, 4),
        "country": (8, 1), "updated": (2, 1),
    }
    for name, (filled, distinct) in expected.items():
        column = columns[name]
        assert (column["filled"], column["total"], column["distinct"]) == (filled, 8, distinct), name
        assert column["fill_rate"] == round(filled / 8, 4), name
        assert column["distinct_complete"] is True
    assert columns["email"] == {
        "column": "email", "attributes": ["email"], "fill_rate": 0.875, "filled": 7, "total": 8,
        "distinct": 4, "distinct_complete": True,
        "top_values": [
            {"value": "not-an-email", "count": 3},
            {"value": "jeanne.lefevre@orange.fr", "count": 2},
            {"value": "paul@free.fr", "count": 1},
            {"value": "noemail@free.fr", "count": 1},
        ],
    }
    assert columns["updated"]["attributes"] == []  # the business timestamp, not an attribute


def test_validity_rate_by_flag_of_each_attribute(report):
    attributes = by(report["attributes"], "attribute")
    # Of the 6 accepted rows: A1, A2, A1, A4, A5, A2.
    assert attributes["email"] == {
        "attribute": "email", "columns": ["email"], "filled": 6, "valid": 3,
        "validity_rate": 0.5,
        "flags": [{"flag": "email.invalid", "count": 3, "total": 6, "rate": 0.5}],
        "generic_values": [
            {"value": "noemail@free.fr", "count": 1, "reason": "known_placeholder"},
        ],
    }
    assert attributes["birth_date"]["filled"] == 6
    assert attributes["birth_date"]["valid"] == 5
    assert attributes["birth_date"]["validity_rate"] == 0.8333
    assert attributes["birth_date"]["flags"] == [
        {"flag": "birth_date.impossible", "count": 1, "total": 6, "rate": 0.1667}
    ]
    assert attributes["city"]["flags"] == [
        {"flag": "city.postcode_mismatch", "count": 1, "total": 6, "rate": 0.1667}
    ]
    assert (attributes["city"]["filled"], attributes["city"]["valid"]) == (6, 6)
    assert (attributes["phone"]["filled"], attributes["phone"]["valid"]) == (1, 1)
    assert attributes["address_line2"] == {
        "attribute": "address_line2", "columns": ["address_line2"], "filled": 0, "valid": 0,
        "validity_rate": 0.0, "flags": [], "generic_values": [],
    }


def test_rejected_rows_say_line_field_and_reason(report):
    assert report["rejected"] == 3
    assert report["rejected_rows"] == [
        {"line": 4, "external_id": "", "field": "id", "reason": "missing external id"},
        {"line": 5, "external_id": "", "field": "", "reason": "expected 14 fields, found 3"},
        {"line": 9, "external_id": "A6", "field": "last_name",
         "reason": "longer than 150 characters (246)"},
    ]
    assert report["rejected_by_field"] == [
        {"field": "", "count": 1}, {"field": "id", "count": 1}, {"field": "last_name", "count": 1},
    ]


def test_duplicates_inside_the_file(report):
    assert report["duplicates"] == {
        "external_ids": 2,
        "extra_rows": 2,
        "examples": [
            {"external_id": "A1", "lines": [2, 6], "identical": True},
            {"external_id": "A2", "lines": [3, 10], "identical": False},
        ],
        "same_content": 1,
        "same_content_rows": 2,
        "same_content_examples": [{"external_ids": ["A2", "A4"], "lines": [3, 7]}],
    }


def test_prediction_of_what_the_import_does(report):
    # A1 and A2 arrive twice in one batch: the later row counts as unchanged (A1, the
    # same values) or updated (A2). A2 and A4 are the same person: one new customer.
    assert report["prediction"] == {
        "created": 4, "updated": 1, "unchanged": 1, "rejected": 3, "matched": True,
        "records_linked": 0, "records_to_review": 0, "records_new_customer": 4,
        "new_customers": 3, "review_pairs": 0,
    }


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._base_manager.count()
        for model in apps.get_models(include_auto_created=True)
        if model is not ImportAudit
    }


def test_an_audit_writes_nothing_but_its_report(
    crm, crm_customer, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.RCU_AUDIT_INLINE_MAX_BYTES = 1 << 20
    before = _row_counts()
    with django_capture_on_commit_callbacks() as callbacks:
        audit = import_audit_submit(
            source=crm, upload=SimpleUploadedFile("sample.csv", SAMPLE.encode()),
            acting_user=admin_user,
        )
    assert audit.status == ImportAudit.Status.SUCCEEDED
    assert audit.report["prediction"]["created"] == 4  # it did run the import
    assert _row_counts() == before
    assert callbacks == []  # no task queued: the matching run's steps were rolled back
    assert ImportAudit.objects.count() == 1
    media = settings.MEDIA_ROOT
    assert not [p for p in media.rglob("*") if p.is_file()]  # the upload went, no rejects file
    assert not audit.upload


def test_a_big_file_is_queued_and_its_report_read_later(
    crm, admin_user, settings, django_capture_on_commit_callbacks
):
    settings.RCU_AUDIT_INLINE_MAX_BYTES = 10
    with django_capture_on_commit_callbacks() as callbacks:
        audit = import_audit_submit(
            source=crm, upload=SimpleUploadedFile("sample.csv", SAMPLE.encode()),
            acting_user=admin_user,
        )
    assert audit.status == ImportAudit.Status.PENDING
    assert len(callbacks) == 1
    callbacks[0]()  # the task, run eagerly
    audit.refresh_from_db()
    assert audit.status == ImportAudit.Status.SUCCEEDED
    assert audit.rejected_count == 3
    assert import_audit_run(audit=audit).report == audit.report  # finished: left as it is


def test_a_refused_file_fails_the_audit_saying_why(crm, admin_user, tmp_path):
    path = tmp_path / "wrong.csv"
    path.write_text("nom;prenom\nDupont;Jean\n", encoding="utf-8")
    audit = import_audit_run(audit=import_audit_create(source=crm, acting_user=admin_user, path=path))
    assert audit.status == ImportAudit.Status.FAILED
    assert "missing mapped column" in audit.message
    assert not ImportJob.objects.exists()


def test_dry_run_prints_the_summary_and_imports_nothing(crm, sample_path, capsys):
    before = _row_counts()
    call_command("import_records", str(sample_path), "--source", "crm", "--dry-run")
    out = capsys.readouterr().out
    assert "nothing was imported" in out
    assert "rows 9, would be rejected 3; created 4, updated 1, unchanged 1" in out
    assert "0 would join an existing customer, 0 would go to review, 4 would start a new customer" in out
    assert "2 external ids sent more than once, 1 groups of rows" in out
    assert "    email: 87.5% (7/8), 4 distinct" in out
    assert "    email: 50.0% (3/6); email.invalid 3" in out
    assert "  line 4: id: missing external id" in out
    assert _row_counts() == before
    assert ImportAudit.objects.get().file_name == "sample.csv"


def test_two_reports_side_by_side_with_their_changes(report, crm, admin_user, tmp_path):
    better = tmp_path / "better.csv"
    better.write_text(SAMPLE.replace("not-an-email", "marc.dubois@free.fr"), encoding="utf-8")
    later = import_audit_run(audit=import_audit_create(source=crm, acting_user=admin_user, path=better))
    comparison = reports_compare(report, later.report)
    summary = {d.label: (d.earlier, d.later, d.change) for d in comparison.summary}
    assert summary["rejected"] == (3, 3, 0)
    assert summary["rows"] == (9, 9, 0)
    validity = {d.label: (d.earlier, d.later, d.change) for d in comparison.validity_rates}
    assert validity["email"] == (0.5, 1.0, 0.5)
    fill = {d.label: d.change for d in comparison.fill_rates}
    assert fill["email"] == 0


def test_compare_page_shows_both_reports(client, report, crm, admin_user, tmp_path):
    later = import_audit_run(audit=import_audit_create(
        source=crm, acting_user=admin_user, path=tmp_path / "sample.csv"
    ))
    earlier = ImportAudit.objects.exclude(pk=later.pk).get()
    client.force_login(admin_user)
    page = client.get(reverse("audit_compare", args=["crm"]), {"a": earlier.pk, "b": later.pk})
    assert page.status_code == 200
    assert page.context["comparison"].summary[0].change == 0
    detail = client.get(reverse("audit_detail", args=["crm", later.pk]))
    assert detail.context["previous"] == earlier
    assert b"Compare with audit" in detail.content or "Comparer" in detail.content.decode()


def test_audit_page_upload_then_report(client, crm, steward_marketing):
    client.force_login(steward_marketing)
    response = client.post(
        reverse("audit_list", args=["crm"]),
        {"file": SimpleUploadedFile("sample.csv", SAMPLE.encode())},
    )
    audit = ImportAudit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("audit_detail", args=["crm", audit.pk])
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "missing external id" in html and "not-an-email" in html
    listing = client.get(reverse("audit_list", args=["crm"]))
    assert f"#{audit.pk} sample.csv" in listing.content.decode()


def test_api_audits_at_once_then_reads_the_report(crm, steward_marketing, settings):
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(steward_marketing)
    response = api.post(
        "/api/v1/sources/crm/audits/",
        {"file": SimpleUploadedFile("sample.csv", SAMPLE.encode())}, format="multipart",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "succeeded" and body["rejected"] == 3
    assert body["report"]["rejected"] == 3
    again = api.get(f"/api/v1/sources/crm/audits/{body['id']}/")
    assert again.status_code == 200 and again.json() == body
    listed = api.get("/api/v1/sources/crm/audits/").json()
    assert [a["id"] for a in listed] == [body["id"]] and "report" not in listed[0]


def test_api_queues_a_big_file_with_202(crm, steward_marketing, settings, django_capture_on_commit_callbacks):
    from rest_framework.test import APIClient

    settings.RCU_AUDIT_INLINE_MAX_BYTES = 10
    api = APIClient()
    api.force_authenticate(steward_marketing)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/sources/crm/audits/",
            {"file": SimpleUploadedFile("sample.csv", SAMPLE.encode())}, format="multipart",
        )
    assert response.status_code == 202
    body = response.json()
    assert body == {"id": body["id"], "status": "pending"}
    report = api.get(f"/api/v1/sources/crm/audits/{body['id']}/").json()
    assert report["status"] == "succeeded" and report["report"]["rejected"] == 3


def test_a_json_lines_file_is_profiled_by_its_members(crm, admin_user, tmp_path):
    path = tmp_path / "sample.jsonl"
    first = {name: "" for name in HEADER.split(",")}  # every mapped member, once at least
    first.update(id="J1", first_name="Zoé", last_name="Garnier", email="zoe@free.fr")
    path.write_text(
        json.dumps(first) + "\n"
        "{not json\n"
        '{"id": "J2", "first_name": "Léa", "last_name": "Roux", "extra": {"a": 1}}\n',
        encoding="utf-8",
    )
    audit = import_audit_run(audit=import_audit_create(source=crm, acting_user=admin_user, path=path))
    report = audit.report
    assert (report["rows"], report["readable"], report["accepted"], report["rejected"]) == (3, 2, 2, 1)
    columns = by(report["columns"], "column")
    assert (columns["email"]["filled"], columns["email"]["total"]) == (1, 2)
    assert columns["extra"]["top_values"] == [{"value": '{"a":1}', "count": 1}]
    assert report["rejected_rows"][0]["line"] == 2
    assert report["prediction"]["created"] == 2
