"""CSV files for people and for machines never carry a formula a spreadsheet would run."""

from __future__ import annotations

import csv
import io

import pytest

from rcu.csv_safe import (
    PEOPLE_CSV_BOM,
    machine_csv_writer,
    neutralise_for_machines,
    neutralise_for_people,
    people_csv_writer,
    unneutralise,
)

FORMULAS = [
    '=HYPERLINK("http://evil.example", "click")',
    "@SUM(A1:A9)",
    "+cmd|' /C calc'!A0",
    "-cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", FORMULAS)
def test_people_cells_that_a_spreadsheet_would_run_get_a_leading_quote(value):
    assert neutralise_for_people(value) == "'" + value


@pytest.mark.parametrize("value", ["Dupont", "12 rue de la Paix", "", "'déjà cité", "a=b", "jean@example.fr", "'"])
def test_people_cells_that_are_plain_text_stay_as_they_are(value):
    assert neutralise_for_people(value) == value


def test_people_files_neutralise_even_phones_and_negative_numbers_written_as_text():
    # A person's spreadsheet cannot tell "+33…" typed by a source from a formula.
    assert neutralise_for_people("+33612345678") == "'+33612345678"
    assert neutralise_for_people("-5") == "'-5"


@pytest.mark.parametrize("value", FORMULAS)
def test_machine_cells_that_a_spreadsheet_would_run_get_a_leading_quote(value):
    assert neutralise_for_machines(value) == "'" + value


@pytest.mark.parametrize("value", ["+33612345678", "-12.5", "+1", "Dupont", ""])
def test_machine_cells_keep_phones_and_signed_numbers_intact(value):
    assert neutralise_for_machines(value) == value


@pytest.mark.parametrize("value", ["+", "-", "+ 33", "--1", "-x"])
def test_machine_cells_with_a_sign_not_followed_by_a_digit_are_neutralised(value):
    assert neutralise_for_machines(value) == "'" + value


@pytest.mark.parametrize("value", [*FORMULAS, "+33612345678", "Dupont", "'tis", "'=1", "''+2", "'-"])
def test_unneutralise_gives_back_the_original_cell(value):
    assert unneutralise(neutralise_for_people(value)) == value
    assert unneutralise(neutralise_for_machines(value)) == value


def test_people_file_is_utf8_with_bom_semicolons_and_neutralised_cells():
    out = io.StringIO(newline="")
    writer = people_csv_writer(out)
    writer.writerow(["nom", "prénom", "formule", "nombre"])
    writer.writerow(["Lefèvre", "Hélène", "=1+1", 42])
    text = out.getvalue()
    assert text.startswith(PEOPLE_CSV_BOM)
    rows = list(csv.reader(io.StringIO(text.removeprefix(PEOPLE_CSV_BOM)), delimiter=";"))
    assert rows == [["nom", "prénom", "formule", "nombre"], ["Lefèvre", "Hélène", "'=1+1", "42"]]
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_people_writer_without_bom_for_streaming_responses():
    out = io.StringIO(newline="")
    people_csv_writer(out, bom=False).writerow(["a", "b"])
    assert out.getvalue() == "a;b\r\n"


def test_only_text_cells_are_neutralised():
    out = io.StringIO(newline="")
    people_csv_writer(out, bom=False).writerow([-5, None, "-5"])
    assert out.getvalue() == "-5;;'-5\r\n"


def test_machine_file_is_rfc4180_comma_csv():
    out = io.StringIO(newline="")
    writer = machine_csv_writer(out)
    writer.writerow(["id", "phone", "note"])
    writer.writerow(["1", "+33612345678", 'a "quoted", text'])
    writer.writerow(["2", "@SUM(A1)", "=2"])
    assert out.getvalue() == (
        "id,phone,note\r\n"
        '1,+33612345678,"a ""quoted"", text"\r\n'
        "2,'@SUM(A1),'=2\r\n"
    )


def test_writerow_returns_the_line_for_echo_buffers():
    class Echo:
        def write(self, value):
            return value

    assert machine_csv_writer(Echo()).writerow(["=1", "x"]) == "'=1,x\r\n"
