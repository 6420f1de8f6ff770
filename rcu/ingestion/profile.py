"""The profile of a file, row by row, as the audit of a file reports it (pure, no ORM).

Every rate is a fraction 0..1 given with its numerator and denominator. Columns are the
file's own (CSV header, JSON members, the dotted names of mapped nested members): how
often they are filled, how many distinct values, the most frequent ones. Attributes are
the canonical ones the source maps: how often their values are valid, and each quality
flag's share. Duplicates inside the file: external ids sent more than once (the import
keeps the last) and rows of different ids with the same values.

Memory stays bounded on big files: a column counts at most `DISTINCT_TRACKED` distinct
values (beyond, `distinct` is a lower bound and says so), examples are capped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rcu.ingestion import jsontext
from rcu.ingestion.batches import Rejected
from rcu.ingestion.mapping import MappedRow, RowMapper, field_text
from rcu.ingestion.readers import ReadError, Row

TOP_VALUES = 5
DISTINCT_TRACKED = 100_000
EXAMPLES = 100
VALUE_SHOWN_LENGTH = 100
# Comparison keys counted to tell how often a generic value occurs in the file.
GENERIC_KEY_ATTRIBUTES = ("email", "phone", "mobile", "first_name", "last_name")


def fraction(numerator: int, denominator: int) -> float:
    return round(numerator / denominator, 4) if denominator else 0.0


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return jsontext.dumps(value, sort_keys=True).decode()


def _digest(value: Any) -> bytes:
    return hashlib.blake2b(jsontext.dumps(value, sort_keys=True), digest_size=8).digest()


@dataclass
class _Values:
    """Distinct values of one column or key, counted up to `DISTINCT_TRACKED`."""

    counts: Counter[str] = field(default_factory=Counter)
    complete: bool = True

    def add(self, value: str) -> None:
        if value in self.counts or len(self.counts) < DISTINCT_TRACKED:
            self.counts[value] += 1
        else:
            self.complete = False


@dataclass
class _Column:
    name: str
    filled: int = 0
    values: _Values = field(default_factory=_Values)


@dataclass
class _Attribute:
    filled: int = 0
    valid: int = 0
    flags: Counter[str] = field(default_factory=Counter)


@dataclass
class FileProfile:
    """What one pass over the file found. `to_json` is the report's storage form."""

    rows: int  # data rows read, readable or not
    readable: int  # rows whose columns could be read
    accepted: int  # rows the mapping accepts
    columns: list[dict]
    attributes: list[dict]
    duplicates: dict
    key_counts: dict[str, Counter[str]]  # attribute → comparison key → rows

    def to_json(self) -> dict:
        return {
            "rows": self.rows,
            "readable": self.readable,
            "accepted": self.accepted,
            "columns": self.columns,
            "attributes": self.attributes,
            "duplicates": self.duplicates,
        }


class FileProfiler:
    """Fed each row with the import's verdict on it (`row_check`), then `result()`."""

    def __init__(self, mapper: RowMapper) -> None:
        self._mapper = mapper
        self._columns: dict[str, _Column] = {}
        self._nested = sorted(n for n in mapper.required_fields if "." in n)
        self._attribute_columns: dict[str, list[str]] = {}
        for spec in mapper.fields:
            self._attribute_columns.setdefault(spec.attribute, []).extend(spec.source_fields)
        self._attributes: dict[str, _Attribute] = {a: _Attribute() for a in self._attribute_columns}
        self._keys: dict[str, _Values] = {a: _Values() for a in GENERIC_KEY_ATTRIBUTES}
        self._rows = self._readable = self._accepted = 0
        # external id → (first line, payload hash); then the ids seen again, with lines.
        self._ids: dict[str, tuple[int, str]] = {}
        self._repeated: dict[str, list[int]] = {}
        self._repeated_identical: dict[str, bool] = {}
        # digest of the normalised values → (external id, line) of its first row.
        self._contents: dict[bytes, tuple[str, int]] = {}
        self._same_content: dict[bytes, list[tuple[str, int]]] = {}

    def add(self, item: Row | ReadError, outcome: MappedRow | Rejected) -> None:
        self._rows += 1
        if isinstance(item, Row):
            self._readable += 1
            self._add_columns(item.data)
        if isinstance(outcome, MappedRow):
            self._accepted += 1
            self._add_attributes(item.data if isinstance(item, Row) else {}, outcome)
            self._add_identity(outcome)

    def _add_columns(self, data: dict[str, Any]) -> None:
        for name, value in data.items():
            self._add_cell(name, _cell(value))
        for name in self._nested:
            if name not in data:
                self._add_cell(name, field_text(data, name))

    def _add_cell(self, name: str, text: str) -> None:
        column = self._columns.get(name)
        if column is None:
            column = self._columns[name] = _Column(name)
        if text:
            column.filled += 1
            column.values.add(text)

    def _add_attributes(self, data: dict[str, Any], row: MappedRow) -> None:
        for attribute, names in self._attribute_columns.items():
            if any(field_text(data, name) for name in names):
                tally = self._attributes[attribute]
                tally.filled += 1
                if attribute in row.attributes:
                    tally.valid += 1
        for flag in row.flags:
            attribute = flag.partition(".")[0]
            self._attributes.setdefault(attribute, _Attribute()).flags[flag] += 1
        for attribute, values in self._keys.items():
            key = row.keys.get(attribute)
            if key:
                values.add(key)

    def _add_identity(self, row: MappedRow) -> None:
        first = self._ids.get(row.external_id)
        if first is None:
            self._ids[row.external_id] = (row.line, row.payload_hash)
        else:
            lines = self._repeated.setdefault(row.external_id, [first[0]])
            lines.append(row.line)
            identical = self._repeated_identical.get(row.external_id, True)
            self._repeated_identical[row.external_id] = identical and first[1] == row.payload_hash
            return  # the same record again: not another person with the same values
        if not row.attributes:
            return
        digest = _digest(row.attributes)
        seen = self._contents.get(digest)
        if seen is None:
            self._contents[digest] = (row.external_id, row.line)
        else:
            self._same_content.setdefault(digest, [seen]).append((row.external_id, row.line))

    def result(self) -> FileProfile:
        return FileProfile(
            rows=self._rows,
            readable=self._readable,
            accepted=self._accepted,
            columns=[self._column_json(c) for c in self._columns.values()],
            attributes=[self._attribute_json(a) for a in self._attribute_order()],
            duplicates=self._duplicates_json(),
            key_counts={a: v.counts for a, v in self._keys.items()},
        )

    def _column_json(self, column: _Column) -> dict:
        attributes = [a for a, names in self._attribute_columns.items() if column.name in names]
        return {
            "column": column.name,
            "attributes": attributes,
            "fill_rate": fraction(column.filled, self._readable),
            "filled": column.filled,
            "total": self._readable,
            "distinct": len(column.values.counts),
            "distinct_complete": column.values.complete,
            "top_values": [
                {"value": value[:VALUE_SHOWN_LENGTH], "count": count}
                for value, count in column.values.counts.most_common(TOP_VALUES)
            ],
        }

    def _attribute_order(self) -> Iterable[str]:
        mapped = list(self._attribute_columns)
        return mapped + sorted(a for a in self._attributes if a not in self._attribute_columns)

    def _attribute_json(self, attribute: str) -> dict:
        tally = self._attributes[attribute]
        # A flag on an attribute the source does not map (derived, like civility from a
        # first name) is a share of the accepted rows.
        base = tally.filled if attribute in self._attribute_columns else self._accepted
        return {
            "attribute": attribute,
            "columns": self._attribute_columns.get(attribute, []),
            "filled": tally.filled,
            "valid": tally.valid,
            "validity_rate": fraction(tally.valid, tally.filled),
            "flags": [
                {"flag": flag, "count": count, "total": base, "rate": fraction(count, base)}
                for flag, count in sorted(tally.flags.items(), key=lambda fc: (-fc[1], fc[0]))
            ],
            "generic_values": [],
        }

    def _duplicates_json(self) -> dict:
        same_content = sorted(self._same_content.values(), key=lambda rows: rows[0][1])
        return {
            "external_ids": len(self._repeated),
            "extra_rows": sum(len(lines) - 1 for lines in self._repeated.values()),
            "examples": [
                {"external_id": ext, "lines": lines, "identical": self._repeated_identical[ext]}
                for ext, lines in sorted(self._repeated.items(), key=lambda e: e[1][0])[:EXAMPLES]
            ],
            "same_content": len(same_content),
            "same_content_rows": sum(len(rows) for rows in same_content),
            "same_content_examples": [
                {"external_ids": [ext for ext, _ in rows], "lines": [line for _, line in rows]}
                for rows in same_content[:EXAMPLES]
            ],
        }


@dataclass(frozen=True)
class Delta:
    """One figure of two reports side by side; `change` is later minus earlier."""

    label: str
    earlier: float | int | None
    later: float | int | None

    @property
    def change(self) -> float | int | None:
        if self.earlier is None or self.later is None:
            return None
        change = self.later - self.earlier
        return round(change, 4) if isinstance(change, float) else change


@dataclass(frozen=True)
class ReportComparison:
    summary: list[Delta]
    fill_rates: list[Delta]  # by column
    validity_rates: list[Delta]  # by attribute


SUMMARY_FIGURES = (
    ("rows", ("rows",)),
    ("accepted", ("accepted",)),
    ("rejected", ("rejected",)),
    ("duplicate_external_ids", ("duplicates", "external_ids")),
    ("same_content", ("duplicates", "same_content")),
    ("created", ("prediction", "created")),
    ("updated", ("prediction", "updated")),
    ("records_linked", ("prediction", "records_linked")),
    ("records_to_review", ("prediction", "records_to_review")),
    ("records_new_customer", ("prediction", "records_new_customer")),
    ("new_customers", ("prediction", "new_customers")),
)


def _figure(report: dict, path: tuple[str, ...]) -> Any:
    value: Any = report
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def reports_compare(earlier: dict, later: dict) -> ReportComparison:
    """Two audit reports of one source side by side (a sample, then the next one)."""

    def by(key: str, entries: str, figure: str, report: dict) -> dict[str, Any]:
        return {e[key]: e.get(figure) for e in report.get(entries, [])}

    def deltas(key: str, entries: str, figure: str) -> list[Delta]:
        a, b = by(key, entries, figure, earlier), by(key, entries, figure, later)
        names = list(a) + [n for n in b if n not in a]
        return [Delta(n, a.get(n), b.get(n)) for n in names]

    return ReportComparison(
        summary=[Delta(label, _figure(earlier, path), _figure(later, path))
                 for label, path in SUMMARY_FIGURES],
        fill_rates=deltas("column", "columns", "fill_rate"),
        validity_rates=deltas("attribute", "attributes", "validity_rate"),
    )
