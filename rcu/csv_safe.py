"""CSV files that are safe to open: one writer for people, one for machines.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and
some also after a leading tab or carriage return), so a value sent by a source, such
as `=HYPERLINK("http://evil", "click")`, would run on the desk of whoever opens an
export. Such cells get a leading `'`, which spreadsheets show as text and never run.

- `people_csv_writer`: files meant for people (rejected rows, UI exports). UTF-8 with
  a byte order mark and `;` between cells, so that a French spreadsheet opens them
  with the accents and the columns right. Every text cell starting with `=`, `+`,
  `-`, `@`, tab or carriage return is neutralised.
- `machine_csv_writer`: files read by programs (`export_links`, `export_candidates`,
  change feeds). RFC 4180: comma, CRLF, no byte order mark. Cells starting with `=`,
  `@`, tab or carriage return are neutralised, and `+` or `-` only when no digit
  follows, so E.164 phones (`+33612345678`) and negative numbers stay intact.

Only text cells are neutralised: numbers, dates and None are our own values, written
as they are. The leading `'` is part of the cell: a program that reads the file back
and wants the original value strips it (`unneutralise`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

PEOPLE_CSV_BOM = "\ufeff"
PEOPLE_CSV_DELIMITER = ";"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
NEUTRALISING_PREFIX = "'"

_PEOPLE_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_MACHINE_ALWAYS = ("=", "@", "\t", "\r")
_MACHINE_SIGNS = ("+", "-")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def neutralise_for_people(value: str) -> str:
    """`value` with a leading `'` when a spreadsheet would run it as a formula."""
    if value.startswith(_PEOPLE_TRIGGERS) or _looks_neutralised(value):
        return NEUTRALISING_PREFIX + value
    return value


def neutralise_for_machines(value: str) -> str:
    """Like `neutralise_for_people`, but a sign followed by a digit stays (phones, numbers)."""
    if value.startswith(_MACHINE_ALWAYS) or _looks_neutralised(value):
        return NEUTRALISING_PREFIX + value
    if value.startswith(_MACHINE_SIGNS) and not value[1:2].isdigit():
        return NEUTRALISING_PREFIX + value
    return value


def _looks_neutralised(value: str) -> bool:
    # A value that already starts like a neutralised cell ("'=x", "''=x") gets a quote
    # too, so that `unneutralise` always gives back exactly what was written.
    bare = value.lstrip(NEUTRALISING_PREFIX)
    return len(bare) < len(value) and bare.startswith(_PEOPLE_TRIGGERS)


def unneutralise(value: str) -> str:
    """The original cell of a cell written by `people_csv_writer` (or the machine one).

    Only a `'` followed by a character we neutralise is ours: `'tis` stays as it is.
    """
    return value[1:] if _looks_neutralised(value) else value


class SafeCsvWriter:
    """A `csv.writer` whose text cells are neutralised before they are written."""

    def __init__(self, out: _Writable, *, neutralise, **csv_options: Any) -> None:
        self._writer = csv.writer(out, **csv_options)
        self._neutralise = neutralise

    def _cells(self, row: Iterable[Any]) -> list[Any]:
        return [self._neutralise(cell) if isinstance(cell, str) else cell for cell in row]

    def writerow(self, row: Iterable[Any]) -> Any:
        # Returns what the file's write returns: the line itself for the "echo"
        # pseudo-buffers of streaming responses.
        return self._writer.writerow(self._cells(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def people_csv_writer(out: _Writable, *, bom: bool = True) -> SafeCsvWriter:
    """A writer for files people open in a spreadsheet; writes the byte order mark first.

    `out` is a text stream opened with `newline=""`. A streaming response that
    writes to a pseudo-buffer yields `PEOPLE_CSV_BOM` itself and passes `bom=False`.
    """
    if bom:
        out.write(PEOPLE_CSV_BOM)
    return SafeCsvWriter(
        out, neutralise=neutralise_for_people, delimiter=PEOPLE_CSV_DELIMITER, lineterminator="\r\n"
    )


def machine_csv_writer(out: _Writable) -> SafeCsvWriter:
    """A writer for files programs read: RFC 4180 (comma, CRLF, quotes doubled)."""
    return SafeCsvWriter(out, neutralise=neutralise_for_machines, delimiter=",", lineterminator="\r\n")
