"""export_candidates writes a file for programs: nothing in it a spreadsheet would run."""

from __future__ import annotations

import csv
import io

from django.core.management import call_command

from tests.stewardship.api_world import open_candidate, record


def test_a_formula_sent_by_a_source_is_written_as_text(crm, eshop, tmp_path):
    a = record(crm, '=HYPERLINK("x")', {"first_name": '=HYPERLINK("x")', "last_name": "Martin"})
    b = record(eshop, "@SUM(1)", {"first_name": "@SUM(1)", "last_name": "Martin"})
    c = record(eshop, "+33612345678", {"first_name": "Jean", "last_name": "Martin"})
    open_candidate(a, b, probability=0.8)
    open_candidate(a, c, probability=0.7)
    out = tmp_path / "candidates.csv"

    call_command("export_candidates", str(out), stdout=io.StringIO())

    content = out.read_bytes()
    assert content.startswith(b"source_a,external_id_a,source_b,external_id_b,score,status\r\n")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    pairs = {(row["external_id_a"], row["external_id_b"]) for row in rows}
    assert pairs == {
        ("'=HYPERLINK(\"x\")", "'@SUM(1)"),
        ("'=HYPERLINK(\"x\")", "+33612345678"),
    }
    assert {row["score"] for row in rows} == {"0.8", "0.7"}


def test_a_restricted_customers_candidates_are_left_out(crm, eshop, tmp_path):
    from rcu.services.restriction import customer_restrict
    from tests.factories import TEST_ACTOR

    a = record(crm, "A", {"first_name": "Jean", "last_name": "Martin"})
    b = record(eshop, "B", {"first_name": "Jean", "last_name": "Martin"})
    c = record(eshop, "C", {"first_name": "Jeanne", "last_name": "Martin"})
    open_candidate(a, b, probability=0.8)
    open_candidate(b, c, probability=0.7)
    customer_restrict(customer=c.customer, reason="contested", acting_user=TEST_ACTOR)
    out = tmp_path / "candidates.csv"

    call_command("export_candidates", str(out), stdout=io.StringIO())

    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {(row["external_id_a"], row["external_id_b"]) for row in rows} == {("A", "B")}
