"""Writing an export command's rows to a CSV file, shared by the export commands.

The files are read by programs, and sometimes opened in a spreadsheet: they are
written through `machine_csv_writer` (RFC 4180, cells a spreadsheet would run as a
formula neutralised, E.164 phones and negative numbers intact).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from django.core.management.base import CommandError

from rcu.csv_safe import machine_csv_writer


def csv_write(*, out: Path, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Write a header and the rows, streamed; returns how many rows were written."""
    if out.parent and not out.parent.is_dir():
        raise CommandError(f"{out.parent}: no such directory")
    count = 0
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = machine_csv_writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count
