"""Writes a data set to disk: one file per source in its own format, plus the ground truth.

Files are written as the records stream by, so memory does not depend on the size.
`truth.csv` (UTF-8, comma) has one line per record: two records are the same real person
iff they share `person_id`. Deliberately malformed lines (`bad_rows`) are left out of the
truth: they are there to be rejected.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from rcu.demo.sources import SOURCE_FORMATS, TRUTH_COLUMNS, TRUTH_FILE_NAME, SourceFormat
from rcu.demo.spec import DatasetSpec
from rcu.demo.stream import DatasetStream

_JSON = json.JSONEncoder(ensure_ascii=False)

# The k-th malformed line of a source follows its good line number FIRST + k * EVERY
# (or comes at the end of a short file).
BAD_ROW_FIRST = 10
BAD_ROW_EVERY = 50
MISSING_ID = "missing_id"
TRUNCATED = "truncated"


@dataclass(frozen=True)
class DatasetSummary:
    out_dir: Path
    persons: int
    persons_represented: int
    records_by_source: dict[str, int]
    bad_rows_by_source: dict[str, int]
    paths: dict[str, Path]
    truth_path: Path
    seconds: float

    @property
    def total_records(self) -> int:
        return sum(self.records_by_source.values())

    @property
    def records_per_person(self) -> float:
        return self.total_records / self.persons_represented if self.persons_represented else 0.0

    def describe(self) -> str:
        lines = [
            f"{self.total_records} records for {self.persons_represented} persons "
            f"({self.records_per_person:.2f} per person) in {self.seconds:.1f} s "
            f"({self.total_records / max(self.seconds, 1e-9):,.0f} records/s)",
        ]
        for code, count in self.records_by_source.items():
            bad = self.bad_rows_by_source.get(code, 0)
            extra = f" + {bad} malformed" if bad else ""
            lines.append(f"  {code:<15} {count:>9}{extra}  {self.paths[code]}")
        lines.append(f"  {'truth':<15} {self.total_records:>9}  {self.truth_path}")
        return "\n".join(lines)


class _SourceFile:
    """One source's output file, with its encoding, delimiter and malformed lines."""

    def __init__(self, source: SourceFormat, path: Path, bad_rows: list[str]) -> None:
        self.source = source
        self.path = path
        self.good = 0
        self.bad = 0
        self._bad_planned = bad_rows
        self._last_row: dict[str, str] | None = None
        self._file: IO[str] = path.open("w", encoding=source.encoding, newline="")
        if source.kind == "csv":
            self._csv = csv.writer(
                self._file, delimiter=source.delimiter, lineterminator=source.line_terminator
            )
            self._csv.writerow(source.columns)

    def write(self, row: dict[str, str]) -> None:
        if self.source.kind == "csv":
            self._csv.writerow(row.values())
        else:
            self._file.write(self._json_line(row))
        self.good += 1
        self._last_row = row
        if (
            self.bad < len(self._bad_planned)
            and self.good == BAD_ROW_FIRST + self.bad * BAD_ROW_EVERY
        ):
            self._write_bad()

    def close(self) -> None:
        while self.bad < len(self._bad_planned) and self._last_row is not None:
            self._write_bad()
        self._file.close()

    def _json_line(self, row: dict[str, Any]) -> str:
        integers = self.source.integer_columns
        record = {
            key: (None if value == "" else int(value) if key in integers else value)
            for key, value in row.items()
        }
        return _JSON.encode(record) + "\n"

    def _write_bad(self) -> None:
        """A copy of the last row without its external id, or that row cut in the middle."""
        assert self._last_row is not None
        row = dict(self._last_row)
        source = self.source
        if self._bad_planned[self.bad] == MISSING_ID:
            if source.kind == "csv":
                row[source.external_id] = ""
                self._csv.writerow(row.values())
            else:
                del row[source.external_id]
                self._file.write(self._json_line(row))
        elif source.kind == "csv":
            cells = [v.replace(source.delimiter, " ").replace('"', "") for v in row.values()]
            self._file.write(
                source.delimiter.join(cells[: len(cells) // 2]) + source.line_terminator
            )
        else:
            line = self._json_line(row)
            self._file.write(line[: len(line) // 2] + "\n")
        self.bad += 1


def _bad_rows_plan(spec: DatasetSpec) -> dict[str, list[str]]:
    """Which malformed lines each source gets: dealt in turn, both kinds everywhere."""
    codes = spec.ordered_sources
    plan: dict[str, list[str]] = {code: [] for code in codes}
    for j in range(spec.bad_rows):
        kind = (MISSING_ID, TRUNCATED)[(j % len(codes) + j // len(codes)) % 2]
        plan[codes[j % len(codes)]].append(kind)
    return plan


def generate_dataset(spec: DatasetSpec, out_dir: Path) -> DatasetSummary:
    """Write every chosen source's file and truth.csv into `out_dir`; same spec, same bytes."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bad_rows = _bad_rows_plan(spec)
    files = {
        code: _SourceFile(
            SOURCE_FORMATS[code], out_dir / SOURCE_FORMATS[code].file_name, bad_rows[code]
        )
        for code in spec.ordered_sources
    }
    truth_path = out_dir / TRUTH_FILE_NAME
    stream = DatasetStream(spec)
    try:
        with truth_path.open("w", encoding="utf-8", newline="") as truth_file:
            truth_file.write(",".join(TRUTH_COLUMNS) + "\n")
            id_columns = {code: SOURCE_FORMATS[code].external_id for code in files}
            for code, row, person_id in stream:
                files[code].write(row)
                # Codes and ids are plain digits and letters: nothing to quote.
                truth_file.write(f"{code},{row[id_columns[code]]},{person_id}\n")
    finally:
        for source_file in files.values():
            source_file.close()
    return DatasetSummary(
        out_dir=out_dir,
        persons=spec.persons,
        persons_represented=stream.persons_represented,
        records_by_source={code: f.good for code, f in files.items()},
        bad_rows_by_source={code: f.bad for code, f in files.items()},
        paths={code: f.path for code, f in files.items()},
        truth_path=truth_path,
        seconds=time.perf_counter() - started,
    )
