"""export_links writes a file for programs: RFC 4180, and nothing a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from django.core.management import call_command

from rcu.csv_safe import unneutralise
from tests.factories import ingest

# Values a source may send that a spreadsheet would run, and values that must stay as sent.
HOSTILE = ['=HYPERLINK("x")', "@SUM(1)", "-x", "+x"]
INTACT = ["+33612345678", "-12", "CRM-1042"]


def export(tmp_path) -> bytes:
    out = tmp_path / "links.csv"
    call_command("export_links", str(out), stdout=io.StringIO())
    return out.read_bytes()


def test_a_formula_sent_by_a_source_is_written_as_text(crm, tmp_path):
    ingest(crm, [
        {"id": external_id, "first_name": external_id, "last_name": "Formule"}
        for external_id in [*HOSTILE, *INTACT]
    ])

    rows = list(csv.DictReader(io.StringIO(export(tmp_path).decode("utf-8"), newline="")))

    written = {row["external_id"] for row in rows}
    assert written == {"'" + value for value in HOSTILE} | set(INTACT)
    assert {unneutralise(value) for value in written} == {*HOSTILE, *INTACT}


def test_the_file_is_rfc_4180(crm, tmp_path):
    ingest(crm, [{"id": 'a,"b"', "first_name": "Jean", "last_name": "Martin"}])

    content = export(tmp_path)

    assert not content.startswith(b"\xef\xbb\xbf")
    assert content.startswith(b"source,external_id,customer_id\r\n")
    assert b'crm,"a,""b""",' in content
