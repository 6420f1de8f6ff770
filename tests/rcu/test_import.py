"""Importing files: messy French exports, bad rows, re-imports and resumption."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from rcu.models import Customer, ImportJob, ImportRowError, SourceRecord
from rcu.services import imports as imports_service
from rcu.services.sources import source_configure
from tests.factories import TEST_ACTOR

CRM_CONFIG = {
    "code": "crm",
    "name": "CRM",
    "department": "marketing",
    "trust_rank": 1,
    "default_country": "FR",
    "external_id": "ID_CLIENT",
    "business_timestamp": {"source": "DATE_MAJ", "format": "%d/%m/%Y %H:%M"},
    "fields": [
        {"source": "CIVILITE", "attribute": "civility"},
        {"source": "PRENOM", "attribute": "first_name"},
        {"source": "NOM", "attribute": "last_name"},
        {"source": "DATE_NAISS", "attribute": "birth_date", "format": "%d/%m/%Y"},
        {"source": "EMAIL", "attribute": "email"},
        {"source": "TEL", "attribute": "mobile"},
        {"source": ["NUM_VOIE", "LIBELLE_VOIE"], "attribute": "address_line1"},
        {"source": "CP", "attribute": "postcode"},
        {"source": "VILLE", "attribute": "city"},
    ],
}

HEADER = "ID_CLIENT;CIVILITE;PRENOM;NOM;DATE_NAISS;EMAIL;TEL;NUM_VOIE;LIBELLE_VOIE;CP;VILLE;DATE_MAJ"
MESSY_LINES = [
    HEADER,  # line 1
    "C1;Mme;Hélène;Lefèvre;12/03/1984;HELENE.LEFEVRE@ORANGE.FR;06 12 34 56 78;12;bd Saint-Michel;75005;Paris;03/05/2024 10:00",
    "C2;M.;François;Né;31/02/1980;f.ne@free.fr;06.42.11.22.33;3;rue des Lilas;69003;Lyon;01/01/2023 09:00",
    ";M.;Sans;Identifiant;01/01/1970;x@y.fr;;;;;;",  # line 4: no external id
    "C4;Mme;Tronquée;Ligne",  # line 5: truncated
    "C5;M.;Jérôme;Dupré;05/06/1990;jerome@@mail;0612;;;7500X;Pariss;02/02/2022 08:00",
    '"C6";"Mme";"Zoé";"Da Silva";"29/02/1988";"zoe.dasilva@laposte.net";"+33 7 81 22 33 44";"4";"place de l\'Église";"13001";"Marseille";"15/09/2021 18:30"',
]


@pytest.fixture
def crm_source(db):
    source, _ = source_configure(data=CRM_CONFIG, acting_user=TEST_ACTOR)
    return source


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "cp1252") -> Path:
    path = tmp_path / name
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def run_import(path: Path, source: str = "crm", **options) -> str:
    from io import StringIO

    out = StringIO()
    call_command("import_records", str(path), source=source, no_progress=True, stdout=out, **options)
    return out.getvalue()


def test_messy_windows_1252_semicolon_file_lands_its_good_rows_and_reports_bad_ones(crm_source, tmp_path):
    path = write(tmp_path, "crm.csv", MESSY_LINES)

    output = run_import(path)

    job = ImportJob.objects.get()
    assert (job.created_count, job.updated_count, job.unchanged_count, job.rejected_count) == (4, 0, 0, 2)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.encoding == "cp1252" and job.delimiter == ";"
    assert "created 4, updated 0, unchanged 0, rejected 2" in output
    errors = list(job.row_errors.values_list("line", "field", "reason"))
    assert errors == [
        (4, "ID_CLIENT", "missing external id"),
        (5, "", "expected 12 fields, found 4"),
    ]
    assert "line 4: ID_CLIENT: missing external id" in output
    assert SourceRecord.objects.count() == 4
    assert Customer.objects.count() == 4


def test_accents_survive_windows_1252_and_values_are_normalised(crm_source, tmp_path):
    run_import(write(tmp_path, "crm.csv", MESSY_LINES))

    helene = SourceRecord.objects.get(external_id="C1")
    assert helene.raw["PRENOM"] == "Hélène"  # kept exactly as received
    assert helene.attributes["email"] == "helene.lefevre@orange.fr"
    assert helene.attributes["mobile"] == "+33612345678"
    assert helene.attributes["birth_date"] == "1984-03-12"
    assert helene.business_ts == datetime(2024, 5, 3, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
    assert helene.customer.first_name == "Hélène"
    assert helene.customer.provenance["email"]["external_id"] == "C1"


def test_problems_become_quality_flags_and_the_row_is_kept(crm_source, tmp_path):
    run_import(write(tmp_path, "crm.csv", MESSY_LINES))

    francois = SourceRecord.objects.get(external_id="C2")
    assert "birth_date" not in francois.attributes
    assert "birth_date.impossible" in francois.quality_flags
    assert francois.raw["DATE_NAISS"] == "31/02/1980"

    jerome = SourceRecord.objects.get(external_id="C5")
    assert {"email.invalid", "mobile.invalid", "postcode.invalid"} <= set(jerome.quality_flags)
    assert "email" not in jerome.attributes
    assert jerome.attributes["last_name"] == "Dupré"


def test_rejected_rows_are_written_to_a_rejects_file_with_the_sources_own_columns(crm_source, tmp_path):
    rejects = tmp_path / "rejects.csv"
    run_import(write(tmp_path, "crm.csv", MESSY_LINES), rejects=rejects)

    lines = rejects.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "rcu_line;rcu_field;rcu_reason;" + HEADER
    assert lines[1] == "4;ID_CLIENT;missing external id;" + MESSY_LINES[3]
    assert lines[2] == "5;;expected 12 fields, found 4;C4;Mme;Tronquée;Ligne"


def test_a_helper_process_maps_big_files_to_the_same_result(crm_source, tmp_path, settings):
    settings.RCU_IMPORT_MAPPER_PROCESS_MIN_LINES = 1  # every file counts as big
    output = run_import(write(tmp_path, "crm.csv", MESSY_LINES), batch_size=2)

    assert "created 4, updated 0, unchanged 0, rejected 2" in output
    assert list(ImportRowError.objects.values_list("line", "field")) == [(4, "ID_CLIENT"), (5, "")]
    helene = SourceRecord.objects.get(external_id="C1")
    assert helene.attributes["mobile"] == "+33612345678"
    assert helene.raw["PRENOM"] == "Hélène"


def test_a_resumed_job_maps_only_the_rest_in_the_helper_process(crm_source, tmp_path, settings, monkeypatch):
    settings.RCU_IMPORT_MAPPER_PROCESS_MIN_LINES = 1
    path = write(tmp_path, "crm.csv", MESSY_LINES)
    original = imports_service.records_upsert

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    calls = {"n": 0}

    def second_batch_interrupted(**kwargs):
        calls["n"] += 1
        return interrupted(**kwargs) if calls["n"] == 2 else original(**kwargs)

    monkeypatch.setattr(imports_service, "records_upsert", second_batch_interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_import(path, batch_size=2)
    monkeypatch.setattr(imports_service, "records_upsert", original)
    run_import(path, batch_size=2)

    job = ImportJob.objects.get()
    assert (job.status, job.created_count, job.rejected_count) == (ImportJob.Status.SUCCEEDED, 4, 2)
    assert SourceRecord.objects.count() == 4


def test_reimporting_the_same_file_creates_nothing_and_writes_no_history(crm_source, tmp_path):
    path = write(tmp_path, "crm.csv", MESSY_LINES)
    run_import(path)
    history_before = SourceRecord.history.count() + Customer.history.count()

    output = run_import(path)

    assert "created 0, updated 0, unchanged 4, rejected 2" in output
    assert SourceRecord.objects.count() == 4
    assert Customer.objects.count() == 4
    assert SourceRecord.history.count() + Customer.history.count() == history_before


def test_a_changed_row_updates_its_record_and_golden_customer_with_history(crm_source, tmp_path):
    run_import(write(tmp_path, "v1.csv", MESSY_LINES))
    changed = list(MESSY_LINES)
    changed[1] = changed[1].replace("HELENE.LEFEVRE@ORANGE.FR", "helene@nouvelle-adresse.fr")

    output = run_import(write(tmp_path, "v2.csv", changed))

    assert "created 0, updated 1, unchanged 3, rejected 2" in output
    record = SourceRecord.objects.get(external_id="C1")
    assert record.attributes["email"] == "helene@nouvelle-adresse.fr"
    assert [h.history_type for h in record.history.order_by("history_date")] == ["+", "~"]
    assert record.history.earliest("history_date").attributes["email"] == "helene.lefevre@orange.fr"
    record.customer.refresh_from_db()
    assert record.customer.email == "helene@nouvelle-adresse.fr"
    assert record.customer.history.count() == 2


def test_a_file_missing_a_mapped_column_is_refused_before_anything_is_written(crm_source, tmp_path):
    lines = [line.rsplit(";", 1)[0] for line in MESSY_LINES]  # drops DATE_MAJ
    with pytest.raises(CommandError, match=r"missing mapped column.*DATE_MAJ"):
        run_import(write(tmp_path, "crm.csv", lines))
    assert SourceRecord.objects.count() == 0
    assert Customer.objects.count() == 0
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "DATE_MAJ" in job.message


def test_an_unknown_source_is_refused_with_the_known_ones(crm_source, tmp_path):
    with pytest.raises(CommandError, match=r"unknown source 'erp' \(known: crm\)"):
        run_import(write(tmp_path, "crm.csv", MESSY_LINES), source="erp")


def test_a_batch_that_fails_leaves_nothing_half_written(crm_source, tmp_path, monkeypatch):
    original = imports_service.records_upsert
    calls = {"n": 0}

    def failing_on_second_batch(**kwargs):
        calls["n"] += 1
        result = original(**kwargs)
        if calls["n"] == 2:
            raise RuntimeError("database went away")
        return result

    monkeypatch.setattr(imports_service, "records_upsert", failing_on_second_batch)
    with pytest.raises(RuntimeError):
        run_import(write(tmp_path, "crm.csv", MESSY_LINES), batch_size=2)

    job = ImportJob.objects.get()
    # Batch 1 (lines 2-3) is committed with its counters; batch 2 (lines 4-5) rolled back whole.
    assert job.lines_done == 3
    assert job.status == ImportJob.Status.INTERRUPTED
    assert "database went away" in job.message
    assert job.created_count == 2
    assert set(SourceRecord.objects.values_list("external_id", flat=True)) == {"C1", "C2"}
    assert Customer.objects.count() == 2
    assert ImportRowError.objects.count() == 0


def test_an_interrupted_import_resumes_without_duplicates(crm_source, tmp_path, monkeypatch):
    path = write(tmp_path, "crm.csv", MESSY_LINES)
    original = imports_service.records_upsert
    calls = {"n": 0}

    def interrupted_on_third_batch(**kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(**kwargs)

    monkeypatch.setattr(imports_service, "records_upsert", interrupted_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run_import(path, batch_size=2)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INTERRUPTED
    assert job.lines_done == 5

    monkeypatch.setattr(imports_service, "records_upsert", original)
    output = run_import(path, batch_size=2)

    assert f"Resuming import job #{job.pk} after line 5" in output
    job.refresh_from_db()
    assert (job.created_count, job.rejected_count, job.status) == (4, 2, ImportJob.Status.SUCCEEDED)
    assert SourceRecord.objects.count() == 4
    assert Customer.objects.count() == 4
    assert ImportRowError.objects.count() == 2


def test_utf8_comma_separated_files_are_read_too(crm_source, tmp_path):
    lines = [line.replace(";", ",") for line in MESSY_LINES[:3]]
    run_import(write(tmp_path, "crm.csv", lines, encoding="utf-8-sig"))
    job = ImportJob.objects.get()
    assert (job.encoding, job.delimiter, job.created_count) == ("utf-8-sig", ",", 2)
    assert SourceRecord.objects.get(external_id="C1").attributes["first_name"] == "Hélène"


def test_json_lines_with_nested_fields_and_a_broken_line(db, tmp_path):
    source_configure(data={
        "code": "eshop", "department": "ecommerce", "trust_rank": 3, "external_id": "customer_id",
        "business_timestamp": {"source": "updated_at"},
        "fields": [
            {"source": "firstname", "attribute": "first_name"},
            {"source": "lastname", "attribute": "last_name"},
            {"source": "email", "attribute": "email"},
            {"source": "address.zip", "attribute": "postcode"},
        ],
    }, acting_user=TEST_ACTOR)
    rows = [
        json.dumps({"customer_id": 101, "firstname": "Noël", "lastname": "Çelik", "email": "NOEL@GMAIL.COM",
                    "address": {"zip": "35000"}, "updated_at": "2024-02-01T12:00:00"}),
        '{"customer_id": 102, "firstname": "Broken"',
        json.dumps({"customer_id": 103, "firstname": "Inès", "lastname": "Roy", "email": None,
                    "address": {"zip": "33000"}, "updated_at": "2023-02-01T12:00:00"}),
    ]
    path = tmp_path / "eshop.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")

    output = run_import(path, source="eshop")

    assert "created 2, updated 0, unchanged 0, rejected 1" in output
    assert ImportRowError.objects.get().line == 2
    noel = SourceRecord.objects.get(external_id="101")
    assert noel.raw["customer_id"] == 101  # the payload exactly as received
    assert noel.attributes["postcode"] == "35000"
    assert noel.attributes["email"] == "noel@gmail.com"
