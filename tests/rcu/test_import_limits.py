"""Limits instead of crashes: a file mixing every bad value with good rows lands its
good rows, lists each bad one with its line and reason, and ends succeeded; the rejects
file, corrected as it is, imports again."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from rcu.csv_safe import people_csv_writer
from rcu.ingestion import mapping as mapping_module
from rcu.models import ImportJob, ImportRowError, SourceRecord
from rcu.services.imports import import_job_create, import_job_run
from tests.factories import PLAIN_FIELDS, TEST_ACTOR

HEADER = ["id", *PLAIN_FIELDS, "updated", "notes"]
FIRST_NAMES = ["Zoé", "Noah", "Léa", "Hugo", "Chloé", "Louis", "Inès", "Jules", "Manon", "Arthur"]
LAST_NAMES = ["Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller", "Henry", "Roussel"]


def good_row(i: int) -> dict[str, str]:
    return {
        "id": f"G-{i}", "civility": "Mme" if i % 2 else "M.",
        "first_name": FIRST_NAMES[i % len(FIRST_NAMES)], "last_name": LAST_NAMES[i % len(LAST_NAMES)],
        "birth_date": f"19{50 + i % 50}-0{1 + i % 9}-1{i % 10}", "email": f"client{i}@exemple.fr",
        "phone": "", "mobile": f"06 12 34 {i % 100:02d} {i % 97:02d}",
        "address_line1": f"{i} rue des Lilas", "address_line2": "",
        "postcode": "69003", "city": "Lyon", "country": "FR", "updated": "2024-02-01 10:00",
        "notes": "",
    }


# Each bad value on its own row: (overrides, field at fault, words of the reason, corrected cells).
CSV_BAD = {
    "long first name": ({"first_name": "A" * 151, "last_name": '=HYPERLINK("http://x")'},
                        "first_name", "longer than 150", {"first_name": "Anne"}),
    "long address": ({"address_line1": "1 rue " + "x" * 250}, "address_line1", "longer than 255",
                     {"address_line1": "1 rue Courte"}),
    "long city": ({"city": "V" * 151}, "city", "longer than 150", {"city": "Vienne"}),
    "long external id": ({"id": "X" * 201}, "id", "longer than 200", {"id": "X-1"}),
    "NUL": ({"last_name": "Du\x00pont"}, "last_name", "NUL", {"last_name": "Dupont"}),
    "escape character": ({"first_name": "Jean\x1bPaul"}, "first_name", "control character (U+001B)",
                         {"first_name": "Jean-Paul"}),
    "DEL character": ({"city": "Ly\x7fon"}, "city", "control character (U+007F)", {"city": "Lyon"}),
    "key too long": ({"first_name": "ß" * 100}, "first_name", "comparison form longer than 150",
                     {"first_name": "Brigitte"}),
    "payload over 64 KiB": ({"notes": "n" * 70_000}, "", "larger than 64 KiB", {"notes": "court"}),
    "undecodable bytes": ({"last_name": "Lef\ufffdvre"}, "last_name", "could not be decoded",
                          {"last_name": "Lefèvre"}),
}


def csv_bytes(rows: list[dict[str, str]], *, damaged: bool = True) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.get(column, "") for column in HEADER])
    # A real undecodable byte: U+FFFD in the text stands for a lone 0xE9 in the file.
    text = out.getvalue()
    data = text.encode("utf-8")
    return data.replace("\ufffd".encode(), b"\xe9") if damaged else data


def mixed_rows() -> tuple[list[dict[str, str]], dict[int, str]]:
    """59 good rows with the bad ones spread among them; line number → kind."""
    rows: list[dict[str, str]] = []
    bad_lines: dict[int, str] = {}
    kinds = list(CSV_BAD)
    for i in range(59):
        if i % 5 == 2 and kinds:
            kind = kinds.pop(0)
            bad = {**good_row(1000 + i), **CSV_BAD[kind][0]}
            rows.append(bad)
            bad_lines[len(rows) + 1] = kind
        rows.append(good_row(i))
    return rows, bad_lines


def run(source, path: Path, **options) -> ImportJob:
    job, _ = import_job_create(source=source, path=path, acting_user=TEST_ACTOR)
    return import_job_run(job=job, batch_size=10, match_after=False, **options)


@pytest.fixture(params=["inline", "helper process"])
def import_path(request, settings):
    """Both ways a file is mapped; on PostgreSQL, new rows go through COPY."""
    settings.RCU_COPY_MIN_ROWS = 1
    if request.param == "helper process":
        settings.RCU_IMPORT_MAPPER_PROCESS_MIN_LINES = 1
    return request.param


def test_csv_mixing_every_bad_value_lands_every_good_row_and_lists_every_bad_one(
    crm, tmp_path, import_path, client, steward_marketing
):
    rows, bad_lines = mixed_rows()
    truncated_line = len(rows) + 2
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(rows) + b"T-1;Mme;Tronqu\xc3\xa9e\r\n")

    job = run(crm, path)

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.created_count == 59
    assert set(SourceRecord.objects.values_list("external_id", flat=True)) == {f"G-{i}" for i in range(59)}
    errors = {e.line: e for e in ImportRowError.objects.filter(job=job)}
    assert set(errors) == {*bad_lines, truncated_line}
    assert job.rejected_count == len(bad_lines) + 1
    for line, kind in bad_lines.items():
        _, field, words, _ = CSV_BAD[kind]
        assert (errors[line].field, kind) == (field, kind)
        assert words in errors[line].reason, (kind, errors[line].reason)
    assert "expected 15 fields, found 3" in errors[truncated_line].reason
    assert all("\x00" not in e.reason + e.content + e.field for e in errors.values())

    # The job page lists them, line and reason.
    client.force_login(steward_marketing)
    body = client.get(reverse("import_detail", args=[job.pk]) + "?page=1").content.decode()
    assert "longer than 150 characters" in body and "contains a NUL character" in body


def test_the_rejects_file_corrected_as_it_is_imports_again(crm, tmp_path, import_path):
    rows, bad_lines = mixed_rows()
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(rows))
    job = run(crm, path)
    rejects = Path(job.rejects_file)

    raw = rejects.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for a French spreadsheet
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0] == ["rcu_line", "rcu_field", "rcu_reason", *HEADER]
    assert sorted(int(r[0]) for r in table[1:]) == sorted(bad_lines)
    by_line = {int(r[0]): dict(zip(table[0], r, strict=True)) for r in table[1:]}
    # The source's own cells, as the file had them; a formula-like cell neutralised.
    first = min(bad_lines)
    assert by_line[first]["first_name"] == "A" * 151
    assert by_line[first]["last_name"] == '\'=HYPERLINK("http://x")'

    # A person corrects the cells at fault and saves the file in the same layout.
    out = io.StringIO(newline="")
    writer = people_csv_writer(out)
    writer.writerow(table[0])
    for line, cells in by_line.items():
        corrected = {**cells, **CSV_BAD[bad_lines[line]][3]}
        # Kept as the file holds it: the neutralised cell keeps its leading quote.
        writer._writer.writerow([corrected[column] for column in table[0]])
    rejects.write_bytes(out.getvalue().encode("utf-8"))

    again = run(crm, rejects)

    assert again.status == ImportJob.Status.SUCCEEDED, again.message
    assert (again.created_count, again.rejected_count) == (len(bad_lines), 0)
    landed = SourceRecord.objects.get(last_import_job=again, attributes__first_name="Anne")
    assert landed.raw["last_name"] == '=HYPERLINK("http://x")'  # our quote taken off again
    assert "rcu_line" not in landed.raw and "rcu_reason" not in landed.raw


JSON_GOOD = {k: v for k, v in good_row(0).items() if k != "notes"}


def json_line(**overrides) -> str:
    return json.dumps({**JSON_GOOD, **overrides}, ensure_ascii=False)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# (line text, field at fault, words of the reason, corrected line)
JSONL_BAD = {
    "long first name": (json_line(id="J-1", first_name="A" * 151), "first_name", "longer than 150"),
    "long address": (json_line(id="J-2", address_line1="x" * 256), "address_line1", "longer than 255"),
    "escaped NUL": (json_line(id="J-3", last_name="Du\x00pont"), "last_name", "NUL"),
    "raw NUL": ('{"id": "J-4", "last_name": "Du\x00pont"}', "", "invalid JSON"),
    "NaN": ('{"id": "J-5", "first_name": "Léa", "score": NaN}', "score", "NaN or Infinity"),
    "Infinity": ('{"id": "J-6", "first_name": "Léa", "score": -Infinity}', "score", "NaN or Infinity"),
    "overflowing number": ('{"id": "J-7", "first_name": "Léa", "score": 1e999}', "score", "NaN or Infinity"),
    "nesting 40 levels": ('{"id": "J-8", "extra": ' + nested(40) + "}", "extra", "nested deeper than 32"),
    "nesting 100,000 levels": ('{"id": "J-9", "extra": ' + nested(100_000) + "}", "", "nested deeper than 32"),
    "lone surrogate": ('{"id": "J-10", "first_name": "L\\ud800a"}', "first_name", "lone surrogate"),
    "escape character": (json_line(id="J-11", city="Ly\x1bon"), "city", "control character"),
    "NUL in a field name": ('{"id": "J-12", "fir\\u0000st": "x"}', "fir\\x00st", "field name contains a NUL"),
    "payload over 64 KiB": (json_line(id="J-13", notes="n" * 70_000), "", "larger than 64 KiB"),
    "nested value": (json_line(id="J-14", email={"home": "a@b.fr"}), "email", "nested value"),
    "not an object": ("[1, 2, 3]", "", "one JSON object"),
    "invalid JSON": ('{"id": "J-16", ', "", "invalid JSON"),
}


def test_jsonl_mixing_every_bad_value_lands_every_good_row_and_lists_every_bad_one(
    crm, tmp_path, import_path
):
    lines: list[str] = []
    bad_lines: dict[int, str] = {}
    kinds = list(JSONL_BAD)
    for i in range(59):
        if i % 3 == 1 and kinds:
            kind = kinds.pop(0)
            lines.append(JSONL_BAD[kind][0])
            bad_lines[len(lines)] = kind
        lines.append(json.dumps({**good_row(i), "notes": None}, ensure_ascii=False))
    assert not kinds
    path = tmp_path / "clients.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    job = run(crm, path)

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.created_count == 59
    errors = {e.line: e for e in ImportRowError.objects.filter(job=job)}
    assert set(errors) == set(bad_lines)
    for line, kind in bad_lines.items():
        _, field, words = JSONL_BAD[kind]
        assert (errors[line].field, kind) == (field, kind)
        assert words in errors[line].reason, (kind, errors[line].reason)

    # The rejects file: JSON Lines, each rejected object with its line and reason.
    rejects = Path(job.rejects_file)
    assert rejects.suffix == ".jsonl"
    written = [json.loads(text) for text in rejects.read_text(encoding="utf-8").splitlines()]
    assert [entry["rcu_rejected"]["line"] for entry in written] == sorted(bad_lines)
    # Corrected as it is (the note stays), it imports again.
    corrected = []
    for entry in written:
        note = entry["rcu_rejected"]
        fixed = {**JSON_GOOD, "id": f"R-{note['line']}", "rcu_rejected": note}
        if "text" not in note:
            fixed = {**entry, **{k: v for k, v in fixed.items() if k in ("first_name", "address_line1",
                                                                        "last_name", "city", "email")}}
            fixed = {k: v for k, v in fixed.items() if k not in ("score", "extra", "notes") and "\x00" not in k}
        corrected.append(json.dumps(fixed, ensure_ascii=False))
    rejects.write_text("\n".join(corrected) + "\n", encoding="utf-8")
    again = run(crm, rejects)
    assert again.status == ImportJob.Status.SUCCEEDED, again.message
    assert (again.created_count + again.updated_count, again.rejected_count) == (len(bad_lines), 0)
    assert not SourceRecord.objects.filter(raw__has_key="rcu_rejected").exists()


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (bytes(range(256)) * 64, "not text"),
        ("id;first_name\nA-1;Léa\n".encode("utf-16-le") * 20, "UTF-16 (little-endian) without a byte order mark"),
        ("id;first_name\nA-1;Léa\n".encode("utf-16-be") * 20, "UTF-16 (big-endian) without a byte order mark"),
        (b"PK\x03\x04" + bytes(200), "ZIP archive"),
        (b"\x00" * 500, "not text"),
    ],
    ids=["binary", "utf-16-le", "utf-16-be", "xlsx", "nuls"],
)
def test_a_file_that_is_not_text_fails_with_one_clear_message_never_pending(
    client, steward_marketing, crm, content, words, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(steward_marketing)
    upload = SimpleUploadedFile("export", content, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("import_new"), {"source": crm.pk, "file": upload})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert words in job.message
    assert "\x00" not in job.message
    assert not SourceRecord.objects.exists()
    page = client.get(reverse("import_detail", args=[job.pk]))
    assert words in page.content.decode()


def test_utf16_with_a_byte_order_mark_is_read(crm, tmp_path):
    path = tmp_path / "export"
    rows = [good_row(1), good_row(2)]
    text = csv_bytes(rows, damaged=False).decode("utf-8")
    path.write_bytes(text.encode("utf-16"))  # with its byte order mark

    job = run(crm, path)

    assert (job.status, job.encoding, job.created_count, job.rejected_count) == (
        ImportJob.Status.SUCCEEDED, "utf-16", 2, 0
    )
    assert SourceRecord.objects.get(external_id="G-1").raw["first_name"] == "Noah"


def test_a_utf8_file_with_one_damaged_byte_stays_utf8_and_rejects_only_that_row(crm, tmp_path):
    rows = [good_row(1), {**good_row(2), "last_name": "Lef\ufffdvre"}, {**good_row(3), "first_name": "Hélène"}]
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(rows))

    job = run(crm, path)

    assert (job.encoding, job.created_count, job.rejected_count) == ("utf-8", 2, 1)
    assert SourceRecord.objects.get(external_id="G-3").raw["first_name"] == "Hélène"  # not mojibake


def test_a_refusal_message_quoting_the_file_is_stored_without_nul(crm, tmp_path):
    path = tmp_path / "clients.csv"
    path.write_bytes(b"col\x00one;two\r\n" + b"A;B\r\n" * 100)  # text, with a NUL in its header

    from rcu.ingestion.readers import FileRefused

    with pytest.raises(FileRefused):
        run(crm, path)
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    assert "col\\x00one" in job.message


def test_a_row_the_database_still_refuses_is_rejected_alone(crm, tmp_path, monkeypatch, settings):
    """Past the limits, a database error on one row rejects that row, not its batch."""
    from django.db import IntegrityError

    from rcu.services import imports as imports_service

    original = imports_service.records_upsert

    def refusing_g3(**kwargs):
        if any(row.external_id == "G-3" for row in kwargs["rows"]):
            raise IntegrityError("simulated refusal of G-3")
        return original(**kwargs)

    monkeypatch.setattr(imports_service, "records_upsert", refusing_g3)
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes([good_row(i) for i in range(25)]))

    job = run(crm, path)

    assert (job.status, job.created_count, job.rejected_count) == (ImportJob.Status.SUCCEEDED, 24, 1)
    error = ImportRowError.objects.get(job=job)
    assert (error.line, error.external_id) == (5, "G-3")
    assert "simulated refusal of G-3" in error.reason
    assert json.loads(error.content)[0] == "G-3"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite stores what PostgreSQL refuses")
def test_on_postgresql_values_past_the_checks_are_isolated_not_a_stuck_job(crm, tmp_path, monkeypatch, settings):
    """Even with the checks switched off, PostgreSQL's refusals (NUL, too long) cost one row each."""
    settings.RCU_COPY_MIN_ROWS = 1
    monkeypatch.setattr(mapping_module, "payload_problem", lambda row: None)
    monkeypatch.setattr(mapping_module, "attribute_max_length", lambda name: 10**6)
    rows = [good_row(i) for i in range(25)]
    rows[3]["last_name"] = "Du\x00pont"
    rows[7]["first_name"] = "A" * 151
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_bytes(rows))

    job = run(crm, path)

    assert (job.status, job.created_count, job.rejected_count) == (ImportJob.Status.SUCCEEDED, 23, 2)
    assert set(ImportRowError.objects.values_list("external_id", flat=True)) == {"G-3", "G-7"}
