"""Re-import quarantine: a source that sends an erased person again does not bring them
back silently. Their identifiers' keyed hashes are kept at erasure; a record carrying one
is held for the DPO (file import and ingest API alike), who releases or discards it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from gdpr.identifier_hashes import IdentifierKind, identifier_digests
from gdpr.models import ErasedIdentifier, QuarantinedRecord
from gdpr.services.quarantine import (
    QuarantineConflict,
    quarantine_hashes_purge,
    quarantined_record_discard,
    quarantined_record_release,
)
from rcu.models import SourceRecord
from rcu.services.erasure import persons_erase, persons_erase_preview
from rcu.services.imports import import_job_create, import_job_run
from tests.factories import PLAIN_FIELDS, TEST_ACTOR, ingest

pytestmark = pytest.mark.django_db

HELENE = {"id": "CRM-1", "first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
          "email": "Helene.Lefevre@Orange.fr", "mobile": "06 12 34 56 78", "city": "Paris",
          "updated": "2024-05-03 10:00"}
PAUL = {"id": "CRM-2", "first_name": "Paul", "last_name": "Durand", "birth_date": "1970-01-02",
        "email": "paul.durand@free.fr", "city": "Lyon", "updated": "2024-05-03 10:00"}
HEADER = ["id", *PLAIN_FIELDS, "updated"]


def erase(record: SourceRecord) -> None:
    persons_erase(customer_ids=[record.customer_id], acting_user=TEST_ACTOR)


def import_file(source, rows, tmp_path):
    path = tmp_path / "again.csv"
    lines = [";".join(HEADER)] + [";".join(row.get(name, "") for name in HEADER) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    job, _ = import_job_create(source=source, path=path, acting_user=TEST_ACTOR)
    return import_job_run(job=job)


@pytest.fixture
def erased_helene(crm):
    (record,) = ingest(crm, [HELENE])
    erase(record)
    assert not SourceRecord.objects.filter(source=crm, external_id="CRM-1").exists()
    return record


def test_erasure_keeps_keyed_hashes_of_every_identifier_and_no_value(erased_helene, settings):
    kinds = sorted(ErasedIdentifier.objects.values_list("kind", flat=True).distinct())
    assert kinds == sorted(IdentifierKind)
    stored = " ".join(ErasedIdentifier.objects.values_list("digest", flat=True))
    for value in ("lefevre", "Lefèvre", "helene.lefevre@orange.fr", "+33612345678", "CRM-1", "1984-03-12"):
        assert value.lower() not in stored.lower()
    expires = ErasedIdentifier.objects.values_list("expires_at", flat=True).first()
    assert expires - timezone.now() > timedelta(days=settings.RCU_QUARANTINE_HASH_RETENTION_DAYS - 1)


def test_an_erasure_preview_writes_no_hash(crm):
    (record,) = ingest(crm, [HELENE])
    report = persons_erase_preview(customer_ids=[record.customer_id], acting_user=TEST_ACTOR)
    assert report.count("gdpr.ErasedIdentifier", "written") == 4
    assert not ErasedIdentifier.objects.exists()


def test_a_file_reimport_of_an_erased_person_is_held_and_the_job_counts_it(erased_helene, crm, tmp_path):
    job = import_file(crm, [HELENE, PAUL], tmp_path)

    assert (job.created_count, job.held_count) == (1, 1)
    assert list(SourceRecord.objects.values_list("external_id", flat=True)) == ["CRM-2"]
    held = QuarantinedRecord.objects.get()
    assert (held.source, held.external_id, held.import_job_id, held.status) == (crm, "CRM-1", job.pk, "held")
    assert held.matched == sorted(IdentifierKind)
    assert "Hélène" in held.raw.values()


@pytest.mark.parametrize("changed", [
    {"id": "NEW-ID"},  # another external id, the same e-mail, phone, name and birth date
    {"id": "NEW-ID", "email": "", "first_name": "", "birth_date": ""},  # the phone alone
    {"id": "NEW-ID", "email": " HELENE.LEFEVRE@orange.fr ", "mobile": "", "birth_date": ""},  # the e-mail alone
    {"mobile": "", "email": "", "birth_date": ""},  # the source's own id alone
])
def test_any_one_identifier_is_enough_to_hold_a_record(erased_helene, crm, tmp_path, changed):
    job = import_file(crm, [{**HELENE, **changed}], tmp_path)
    assert (job.created_count, job.held_count) == (0, 1)


def test_the_ingest_api_holds_it_too(erased_helene, steward_marketing):
    api = APIClient()
    api.force_authenticate(steward_marketing)

    response = api.post("/api/v1/sources/crm/records/", HELENE, format="json")

    assert response.status_code == 202
    assert response.json() == {"status": "held", "source": "crm", "external_id": "CRM-1"}
    assert not SourceRecord.objects.exists()
    assert QuarantinedRecord.objects.get().import_job is None


def test_a_person_never_erased_flows_normally(erased_helene, crm, tmp_path, steward_marketing):
    job = import_file(crm, [PAUL], tmp_path)
    api = APIClient()
    api.force_authenticate(steward_marketing)
    response = api.post("/api/v1/sources/crm/records/", {**PAUL, "id": "CRM-3", "email": "p.d@free.fr"},
                        format="json")
    assert (job.created_count, job.held_count, response.status_code) == (1, 0, 201)
    assert not QuarantinedRecord.objects.exists()


def test_nothing_is_screened_while_nobody_was_erased(crm, django_assert_max_num_queries, tmp_path):
    from gdpr.services.quarantine import records_screen_quarantine
    from rcu.selectors.sources import source_row_mapper

    rows = [source_row_mapper(crm).map(i, {**PAUL, "id": f"P{i}"}) for i in range(200)]
    with django_assert_max_num_queries(1):
        assert records_screen_quarantine(source=crm, rows=rows, job=None, acting_user=TEST_ACTOR) == set()


def test_a_batch_is_screened_with_one_query_whatever_its_size(erased_helene, crm, django_assert_num_queries):
    from gdpr.services.quarantine import records_screen_quarantine
    from rcu.selectors.sources import source_row_mapper

    mapper = source_row_mapper(crm)
    rows = [mapper.map(i, {**PAUL, "id": f"P{i}", "email": f"p{i}@free.fr"}) for i in range(500)]
    rows.append(mapper.map(600, HELENE))
    # Whether anything was ever erased, the batch's hashes, the held rows written.
    with django_assert_num_queries(3):
        held = records_screen_quarantine(source=crm, rows=rows, job=None, acting_user=TEST_ACTOR)
    assert held == {500}


def test_release_ingests_it_forgets_its_hashes_and_keeps_the_trail(erased_helene, crm, tmp_path, dpo):
    import_file(crm, [HELENE], tmp_path)
    held = QuarantinedRecord.objects.get()

    outcome = quarantined_record_release(held=held, acting_user=dpo, note="new contract signed")

    assert outcome.ingest.status == "created" and outcome.ingest.customer is not None
    assert SourceRecord.objects.get(external_id="CRM-1").customer.last_name == "Lefèvre"
    row = QuarantinedRecord.objects.get()
    assert (row.status, row.decided_by, row.raw, row.external_id, row.digests) == ("released", dpo, {}, "", [])
    assert row.matched == sorted(IdentifierKind) and row.note == "new contract signed"
    # She is back: her next update flows normally.
    job = import_file(crm, [{**HELENE, "city": "Lyon"}], tmp_path)
    assert (job.updated_count, job.held_count) == (1, 0)
    with pytest.raises(QuarantineConflict):
        quarantined_record_discard(held=row, acting_user=dpo)


def test_discard_deletes_the_held_data_and_the_person_stays_erased(erased_helene, crm, tmp_path, dpo):
    import_file(crm, [HELENE], tmp_path)
    held = QuarantinedRecord.objects.get()

    quarantined_record_discard(held=held, acting_user=dpo)

    row = QuarantinedRecord.objects.get()
    assert (row.status, row.raw, row.external_id, row.digests) == ("discarded", {}, "", [])
    assert not SourceRecord.objects.exists()
    with pytest.raises(QuarantineConflict):
        quarantined_record_release(held=row, acting_user=dpo)
    # Sent once more: held again.
    assert import_file(crm, [HELENE], tmp_path).held_count == 1


def test_erasing_the_person_again_deletes_their_held_rows(erased_helene, crm, tmp_path):
    import_file(crm, [HELENE, PAUL], tmp_path)
    assert QuarantinedRecord.objects.filter(status="held").count() == 1
    paul = SourceRecord.objects.get(external_id="CRM-2")

    # Her hashes lapse, she comes back under another id, and is erased again: the row
    # held meanwhile carries her e-mail, so it goes with her.
    quarantine_hashes_purge(now=timezone.now() + timedelta(days=10_000))
    (again,) = ingest(crm, [{**HELENE, "id": "CRM-9", "mobile": "", "birth_date": ""}])
    report = persons_erase(customer_ids=[again.customer_id], acting_user=TEST_ACTOR)

    assert report.count("gdpr.QuarantinedRecord") == 1
    assert not QuarantinedRecord.objects.exists()
    assert SourceRecord.objects.filter(pk=paul.pk).exists()


def test_hashes_past_their_retention_are_purged(erased_helene, settings, crm, tmp_path):
    later = timezone.now() + timedelta(days=settings.RCU_QUARANTINE_HASH_RETENTION_DAYS + 1)
    assert quarantine_hashes_purge(now=timezone.now()) == 0

    assert quarantine_hashes_purge(now=later) == 4

    assert not ErasedIdentifier.objects.exists()
    assert import_file(crm, [HELENE], tmp_path).held_count == 0


def test_a_new_key_recognises_nobody(erased_helene, crm, tmp_path, settings):
    """docs/erasure.md: rotating RCU_ERASURE_HASH_KEY forgets every erased person."""
    settings.RCU_ERASURE_HASH_KEY = "another key"
    assert import_file(crm, [HELENE], tmp_path).held_count == 0


def test_digests_depend_on_the_key_and_on_the_kind():
    a = identifier_digests(key="k1", source="crm", external_id="1", attributes={"email": "a@b.fr"})
    b = identifier_digests(key="k2", source="crm", external_id="1", attributes={"email": "a@b.fr"})
    assert set(a.values()) == {IdentifierKind.SOURCE_REF, IdentifierKind.EMAIL}
    assert not set(a) & set(b)


def test_the_import_command_reports_held_rows_as_a_count(erased_helene, crm, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    path = tmp_path / "again.csv"
    path.write_text(";".join(HEADER) + "\n" + ";".join(HELENE.get(n, "") for n in HEADER) + "\n",
                    encoding="utf-8")
    out = StringIO()
    call_command("import_records", str(path), source="crm", no_progress=True, stdout=out)
    said = out.getvalue()
    assert "held in quarantine 1" in said and "Lef" not in said and "CRM-1" not in said


def test_mapping_stored_records_again_holds_nothing(crm):
    """Renormalising reads what RCU already holds: nothing incoming to screen, even a
    record sharing a phone with an erased person."""
    from rcu.services.renormalise import source_records_renormalise

    ingest(crm, [{**PAUL, "mobile": HELENE["mobile"]}])
    (helene,) = ingest(crm, [HELENE])
    erase(helene)

    source_records_renormalise(source=crm, acting_user=TEST_ACTOR)

    assert not QuarantinedRecord.objects.exists()
    assert SourceRecord.objects.filter(external_id="CRM-2").exists()
