"""The access log for the DPO: every read recorded (who, which customer, what, how, why),
searched by person, user, period and purpose, exported, purged after its retention."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from django.contrib.admin.sites import site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from gdpr.models import AccessLogEntry
from gdpr.models.access_log import AccessLogImmutable
from gdpr.services.access_log import access_log_purge, access_log_record
from gdpr.tasks import access_log_purge_task
from rcu import hooks
from rcu.csv_safe import PEOPLE_CSV_BOM
from rcu.models import ImportJob
from tests.factories import PLAIN_FIELDS, ingest
from tests.stewardship.api_world import open_candidate, record

pytestmark = pytest.mark.django_db

PERSONAS = ["dpo", "admin_user", "steward_marketing", "auditor", "outsider", "anonymous"]

HELENE = {"first_name": "Hélène", "last_name": "Lefèvre", "email": "helene.lefevre@orange.fr",
          "phone": "01 42 11 22 33", "city": "Paris"}
MARC = {"first_name": "Marc", "last_name": "Dubois", "email": "marc.dubois@free.fr", "city": "Lyon"}


def customer(source, external_id: str, values: dict):
    (record,) = ingest(source, [{"id": external_id, **values}])
    return record.customer


def backdate(days: int) -> None:
    """Every entry so far is moved `days` into the past (auto_now_add cannot be set)."""
    AccessLogEntry.objects.update(at=timezone.now() - timedelta(days=days))


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_the_dpo_reads_the_access_log_page_and_api(client, request, persona, crm, dpo):
    access_log_record(user=dpo, customers=[customer(crm, "C1", HELENE)], purpose="customer_page")
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    page = client.get("/gdpr/access-log/")
    exported = client.get("/gdpr/access-log/?export=csv")
    api = APIClient()
    if persona != "anonymous":
        api.force_authenticate(request.getfixturevalue(persona))
    listed = api.get("/api/v1/gdpr/access-log/")
    if persona == "dpo":
        assert (page.status_code, exported.status_code, listed.status_code) == (200, 200, 200)
        assert len(listed.json()["results"]) == 1
    elif persona == "anonymous":
        assert (page.status_code, exported.status_code, listed.status_code) == (302, 302, 401)
    else:  # admins too: the log traces what they read
        assert (page.status_code, exported.status_code, listed.status_code) == (403, 403, 403)


def test_a_customer_page_read_appears_in_the_log_with_what_and_channel(client, steward_marketing, crm, dpo):
    helene = customer(crm, "C1", HELENE)
    client.force_login(steward_marketing)
    assert client.get(reverse("customer_detail", args=[helene.public_id])).status_code == 200

    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.customer_public_id, entry.purpose, entry.what, entry.channel) == (
        steward_marketing, helene.public_id, "customer_page", "customer page", "ui",
    )
    client.force_login(dpo)
    page = client.get("/gdpr/access-log/", {"person": str(helene.public_id)})
    search, read = page.context["page"].object_list  # newest first: the DPO's search is logged
    assert read.pk == entry.pk and (search.user, search.purpose) == (dpo, "access_log_person_search")
    assert "steward_marketing" in page.content.decode()


def test_existing_callers_keep_their_signature_and_get_channel_and_what_derived(dpo, crm):
    helene = customer(crm, "C1", HELENE)
    hooks.personal_data_read(user=dpo, customers=[helene, helene], purpose="api_customer")
    hooks.personal_data_read(user=dpo, customers=[helene], purpose="admin")
    hooks.personal_data_read(user=dpo, customers=[helene], purpose="some_new_screen")
    assert list(AccessLogEntry.objects.order_by("id").values_list("purpose", "what", "channel")) == [
        ("api_customer", "API customer", "api"),  # one row per customer, a page showing it twice
        ("admin", "Django admin page", "admin"),
        ("some_new_screen", "some new screen", "ui"),
    ]


def test_search_by_person_name_finds_their_ids_and_is_itself_logged(client, dpo, steward_marketing, crm):
    helene, marc = customer(crm, "C1", HELENE), customer(crm, "C2", MARC)
    access_log_record(user=steward_marketing, customers=[helene, marc], purpose="customer_search")
    client.force_login(dpo)

    page = client.get("/gdpr/access-log/", {"person": "Lefèvre"})

    assert [p.customer for p in page.context["people"]] == [helene]
    found = page.context["page"].object_list
    assert {(e.user, e.customer_public_id) for e in found} == {
        (steward_marketing, helene.public_id),  # the steward's read
        (dpo, helene.public_id),  # the DPO's own search, logged before the page was read
    }
    search = AccessLogEntry.objects.get(user=dpo)
    assert (search.purpose, search.customer_public_id) == ("access_log_person_search", helene.public_id)


def test_search_by_person_includes_the_ids_merged_into_them(client, dpo, steward_marketing, crm):
    helene, twin = customer(crm, "C1", HELENE), customer(crm, "C9", HELENE)
    access_log_record(user=steward_marketing, customers=[twin], purpose="customer_page")
    twin.merged_into = helene
    twin.save(update_fields=["merged_into"])  # a merge, as far as the log is concerned
    client.force_login(dpo)
    page = client.get("/gdpr/access-log/", {"person": str(helene.public_id), "user": "steward_marketing"})
    assert [e.customer_public_id for e in page.context["page"].object_list] == [twin.public_id]


def test_search_by_user_and_period_and_purpose(client, dpo, steward_marketing, auditor, crm):
    helene = customer(crm, "C1", HELENE)
    access_log_record(user=steward_marketing, customers=[helene], purpose="customer_page")
    backdate(40)
    access_log_record(user=steward_marketing, customers=[helene], purpose="api_customer")
    access_log_record(user=auditor, customers=[helene], purpose="customer_page")
    client.force_login(dpo)
    today = timezone.localdate()

    def found(**params):
        page = client.get("/gdpr/access-log/", params).context["page"]
        return sorted((e.user.username, e.purpose) for e in page.object_list)

    assert found(user="steward_marketing") == [("steward_marketing", "api_customer"),
                                              ("steward_marketing", "customer_page")]
    assert found(user="steward_marketing", since=str(today - timedelta(days=7))) == [
        ("steward_marketing", "api_customer")]
    assert found(until=str(today - timedelta(days=30))) == [("steward_marketing", "customer_page")]
    assert found(purpose="customer_page", since=str(today)) == [("auditor", "customer_page")]
    assert found(channel="api") == [("steward_marketing", "api_customer")]


def test_the_api_filters_and_pages_without_counting(dpo, steward_marketing, crm, settings):
    people = [customer(crm, f"C{i}", {**MARC, "email": f"m{i}@free.fr"}) for i in range(3)]
    access_log_record(user=steward_marketing, customers=people, purpose="api_customer_list")
    api = APIClient()
    api.force_authenticate(dpo)
    with CaptureQueriesContext(connection) as queries:
        first = api.get("/api/v1/gdpr/access-log/", {"user": "steward_marketing"}).json()
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(first["results"]) == 3 and first["next"] is None and first["previous"] is None
    assert {r["customer_public_id"] for r in first["results"]} == {str(p.public_id) for p in people}
    assert first["results"][0]["channel"] == "api" and first["results"][0]["user"] == "steward_marketing"
    bad = api.get("/api/v1/gdpr/access-log/", {"since": "yesterday"})
    assert bad.status_code == 400


def test_the_api_pages_link_to_the_next(dpo, steward_marketing, crm, monkeypatch):
    monkeypatch.setattr("gdpr.apis.access_log.PAGE_SIZE", 2)
    people = [customer(crm, f"C{i}", {**MARC, "email": f"m{i}@free.fr"}) for i in range(3)]
    access_log_record(user=steward_marketing, customers=people, purpose="api_customer_list")
    api = APIClient()
    api.force_authenticate(dpo)
    first = api.get("/api/v1/gdpr/access-log/").json()
    assert len(first["results"]) == 2 and "page=2" in first["next"]
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1 and second["next"] is None


def test_the_csv_export_lists_the_entries_and_neutralises_formulas(client, dpo, crm):
    helene = customer(crm, "C1", HELENE)
    access_log_record(user=dpo, customers=[helene], purpose="customer_page")
    access_log_record(user=dpo, customers=[], purpose="import_rejects", reference="=cmd|' /C calc'!A0")
    client.force_login(dpo)
    response = client.get("/gdpr/access-log/", {"export": "csv", "user": "dpo"})
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith(PEOPLE_CSV_BOM)
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix(PEOPLE_CSV_BOM)), delimiter=";"))
    assert len(header) == 8
    assert sorted((r[2], r[3], r[6]) for r in rows) == [
        ("", "import_rejects", "'=cmd|' /C calc'!A0"),
        (str(helene.public_id), "customer_page", ""),
    ]


def test_the_purge_deletes_entries_past_the_retention_and_keeps_the_others(dpo, crm, settings):
    settings.RCU_ACCESS_LOG_RETENTION_DAYS = 180
    helene = customer(crm, "C1", HELENE)
    access_log_record(user=dpo, customers=[helene], purpose="customer_page")
    backdate(181)
    access_log_record(user=dpo, customers=[helene], purpose="api_customer")
    AccessLogEntry.objects.filter(purpose="api_customer").update(at=timezone.now() - timedelta(days=179))
    access_log_record(user=dpo, customers=[helene], purpose="admin")

    assert access_log_purge_task.apply().get() == 1
    assert sorted(AccessLogEntry.objects.values_list("purpose", flat=True)) == ["admin", "api_customer"]
    assert access_log_purge(older_than=timedelta(days=1), chunk=1) == 1  # chunked, again
    assert list(AccessLogEntry.objects.values_list("purpose", flat=True)) == ["admin"]


def test_the_purge_runs_nightly(settings):
    from gdpr.retention import RETENTION_PURGES

    schedule = settings.CELERY_BEAT_SCHEDULE["gdpr-retention-purge-daily"]
    assert schedule["task"] == "gdpr.tasks.retention_purge_task"
    assert access_log_purge in [purge.purge for purge in RETENTION_PURGES]


def test_a_bulk_export_logs_one_row_per_customer_it_wrote(tmp_path, crm, dpo):
    people = [customer(crm, "C1", HELENE), customer(crm, "C2", MARC)]
    ingest(crm, [{"id": "C1", **HELENE, "city": "Lyon"}])  # a second event for Hélène
    out = tmp_path / "changes.jsonl"
    call_command("export_changes", str(out), "--user", "dpo", stdout=io.StringIO())
    written = {json.loads(line)["data"]["customer_id"] for line in out.read_text().splitlines()}
    assert written == {str(c.public_id) for c in people}

    entries = list(AccessLogEntry.objects.values_list("user", "customer_public_id", "purpose", "channel",
                                                      "reference"))
    assert sorted(entries) == sorted(
        (dpo.pk, c.public_id, "export_changes", "command", "changes.jsonl") for c in people
    )


def test_a_command_run_without_user_is_logged_as_rcu_running_it(tmp_path, crm):
    helene = customer(crm, "C1", HELENE)
    call_command("export_changes", str(tmp_path / "c.csv"), "--format", "csv", stdout=io.StringIO())
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.actor, entry.customer_public_id) == (None, "export_changes command",
                                                                 helene.public_id)


@pytest.mark.parametrize(("command", "name"), [("export_links", "links.csv"),
                                               ("export_candidates", "candidates.csv")])
def test_the_identifier_exports_hold_no_personal_data(tmp_path, crm, eshop, command, name):
    """Source references, public ids and scores only: not a read of anyone's data."""
    a = record(crm, "C1", HELENE)
    b = record(eshop, "E1", {**HELENE, "email": "h.lefevre@orange.fr"})  # a likely duplicate
    open_candidate(a, b, probability=0.8)
    call_command(command, str(tmp_path / name), stdout=io.StringIO())
    text = (tmp_path / name).read_text(encoding="utf-8")
    assert "C1" in text and "E1" in text
    for value in ("Hélène", "Lefèvre", "lefevre", "orange.fr", "01 42", "0142", "Paris"):
        assert value.lower() not in text.lower()
    assert not AccessLogEntry.objects.exists()


def csv_upload(rows: list[dict[str, str]]) -> SimpleUploadedFile:
    header = ["id", *PLAIN_FIELDS, "updated"]
    lines = [";".join(header)] + [";".join(row.get(c, "") for c in header) for row in rows]
    return SimpleUploadedFile("clients.csv", ("\n".join(lines) + "\n").encode(), content_type="text/csv")


def test_reading_rejected_rows_on_the_page_and_in_the_file_is_logged(
    client, steward_marketing, crm, django_capture_on_commit_callbacks
):
    client.force_login(steward_marketing)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("import_new"), {"source": crm.pk, "file": csv_upload([
            {"id": "CRM-1", "first_name": "Zoé", "last_name": "Garnier", "updated": "2024-02-01 10:00"},
            {"id": "", "first_name": "Sans", "last_name": "Identifiant"},
        ])})
    job = ImportJob.objects.get()
    assert client.get(reverse("import_detail", args=[job.pk])).status_code == 200
    assert client.get(reverse("import_rejects", args=[job.pk])).status_code == 200
    assert list(AccessLogEntry.objects.order_by("id").values_list(
        "user", "customer_public_id", "purpose", "channel", "reference")) == [
        (steward_marketing.pk, None, "import_rejects", "ui", f"import #{job.pk}, rejected rows page 1"),
        (steward_marketing.pk, None, "export_import_rejects", "export", f"import #{job.pk}, rejected rows file"),
    ]


def test_the_admin_keeps_the_log_read_only_for_everyone(rf, admin_user):
    model_admin = site._registry[AccessLogEntry]
    request = rf.get("/")
    request.user = admin_user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_an_entry_is_never_changed_or_deleted_one_by_one(dpo, crm):
    access_log_record(user=dpo, customers=[customer(crm, "C1", HELENE)], purpose="customer_page")
    entry = AccessLogEntry.objects.get()
    entry.purpose = "nothing_to_see"
    with pytest.raises(AccessLogImmutable):
        entry.save()
    with pytest.raises(AccessLogImmutable):
        entry.delete()
    assert AccessLogEntry.objects.get().purpose == "customer_page"
