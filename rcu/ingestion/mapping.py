"""Turning one source row into canonical, normalised attributes (pure, no ORM)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cached_property
from typing import Any

from rcu.attributes import CUSTOM_MAX_LENGTH
from rcu.engine.blocking import blocking_keys
from rcu.engine.types import MatchRecord
from rcu.ingestion import jsontext
from rcu.ingestion.config import FieldSpec
from rcu.ingestion.formats import parse_timestamp
from rcu.ingestion.limits import (
    EXTERNAL_ID_MAX_LENGTH,
    attribute_max_length,
    length_problem,
    payload_problem,
    printable,
)
from rcu.ingestion.statements import Statement, parse_yes_no
from rcu.normalisation.custom import normalise_custom, rejection_reason
from rcu.normalisation.record import normalise_record

MAX_EXTERNAL_ID_LENGTH = EXTERNAL_ID_MAX_LENGTH
# Attributes whose comparison key is a customer column too (`first_name_key`, ...).
_KEYS_STORED_AS_COLUMNS = ("first_name", "last_name")


@dataclass(frozen=True, slots=True)
class MappedRow:
    line: int
    external_id: str
    raw: dict[str, Any]
    attributes: dict[str, str]
    keys: dict[str, str]
    flags: list[str]
    business_ts: datetime | None
    payload_hash: str
    # Computed here, in the mapper (a helper process for big files), not by the writer.
    blocking_keys: tuple[str, ...] = ()
    # Yes/no statements of the row (consents), blank cells left out.
    statements: tuple[Statement, ...] = ()


@dataclass(frozen=True, slots=True)
class RowRejection:
    line: int
    external_id: str
    field: str
    reason: str


def _lookup(row: Mapping[str, Any], name: str) -> Any:
    if name in row:
        return row[name]
    if "." in name:  # nested JSON: "address.street"
        value: Any = row
        for part in name.split("."):
            if not isinstance(value, Mapping) or part not in value:
                return None
            value = value[part]
        return value
    return None


def _as_text(value: Any) -> str | None:
    """A scalar as text; None for missing. Nested structures are not a value."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return None


def field_text(row: Mapping[str, Any], name: str) -> str:
    """A source field's value as the mapper reads it, stripped ("" when missing or nested)."""
    return (_as_text(_lookup(row, name)) or "").strip()


def _payload_hash(content: list[Any]) -> str:
    """A fingerprint of everything stored for a record: equal means unchanged."""
    return hashlib.sha256(jsontext.dumps(content, sort_keys=True)).hexdigest()


_CASES = {"upper": str.upper, "lower": str.lower, "title": str.title}


@dataclass(frozen=True)
class RowMapper:
    """The field mappings of one source, ready to apply to many rows."""

    external_id_field: str
    fields: Sequence[FieldSpec]
    default_region: str = "FR"
    timestamp_field: str = ""
    timestamp_format: str = ""
    timezone: tzinfo | None = None
    today: date | None = None
    # The custom attributes this source maps: (name, type, comparison key name); their
    # values are normalised by type, and a value that cannot be read rejects the row.
    custom: tuple[tuple[str, str, str], ...] = ()

    def _is_future(self, moment: datetime) -> bool:
        """Later than the day after tomorrow: the grace covers the sources' time zones and
        a date written without its time; a typo of years (2042) is still caught."""
        today = self.today or datetime.now(self.timezone or UTC).date()
        return moment.date() > today + timedelta(days=2)

    @property
    def required_fields(self) -> set[str]:
        names = {self.external_id_field}
        names.update(f for spec in self.fields for f in spec.read_fields)
        if self.timestamp_field:
            names.add(self.timestamp_field)
        return names

    @cached_property
    def _source_fields_of(self) -> dict[str, str]:
        """Attribute → the source field(s) it comes from, to name them in a rejection."""
        names: dict[str, list[str]] = {}
        for spec in self.fields:
            names.setdefault(spec.attribute, []).extend(spec.source_fields)
        return {attribute: ", ".join(fields) for attribute, fields in names.items()}

    def map(self, line: int, row: Mapping[str, Any]) -> MappedRow | RowRejection:
        """The row mapped and normalised, or why it is rejected (rcu.ingestion.limits)."""
        raw_id = _as_text(_lookup(row, self.external_id_field))
        external_id = (raw_id or "").strip()
        problem = payload_problem(row)
        if problem is not None:
            return RowRejection(
                line, printable(external_id, MAX_EXTERNAL_ID_LENGTH), problem.field, problem.reason
            )
        if not external_id:
            return RowRejection(line, "", self.external_id_field, "missing external id")
        if len(external_id) > MAX_EXTERNAL_ID_LENGTH:
            return RowRejection(
                line, external_id[:50], self.external_id_field,
                f"external id longer than {MAX_EXTERNAL_ID_LENGTH} characters ({len(external_id)})",
            )

        values: dict[str, str] = {}
        date_formats: dict[str, str] = {}
        phone_regions: dict[str, str] = {}
        statements: list[Statement] = []
        for spec in self.fields:
            if spec.is_statement:
                outcome = self._statement(line, external_id, row, spec)
                if isinstance(outcome, RowRejection):
                    return outcome
                if outcome is not None:
                    statements.append(outcome)
                continue
            parts: list[str] = []
            for name in spec.source_fields:
                text = _as_text(_lookup(row, name))
                if text is None:
                    return RowRejection(line, external_id, name, "nested value where text was expected")
                if spec.trim:
                    text = text.strip()
                if text:
                    parts.append(text)
            value = spec.join_with.join(parts)
            if spec.case in _CASES:
                value = _CASES[spec.case](value)
            if value:
                values[spec.attribute] = value
            if spec.date_format:
                date_formats[spec.attribute] = spec.date_format
            if spec.phone_region:
                phone_regions[spec.attribute] = spec.phone_region

        custom_attributes: dict[str, str] = {}
        custom_keys: dict[str, str] = {}
        for name, kind, key_name in self.custom:
            text = values.pop(name, None)
            if text is None:
                continue
            result = normalise_custom(text, kind, fmt=date_formats.get(name), today=self.today)
            if result.value is None:
                if not result.problems:
                    continue
                return RowRejection(
                    line, external_id, self._source_fields_of.get(name, name),
                    f"{name}: {rejection_reason(result, kind)}",
                )
            reason = length_problem(result.value, CUSTOM_MAX_LENGTH)
            if reason is not None:
                return RowRejection(line, external_id, self._source_fields_of.get(name, name),
                                    f"{name}: {reason}")
            custom_attributes[name] = result.value
            if result.key:
                custom_keys[key_name] = result.key

        normalised = normalise_record(
            values,
            default_region=self.default_region,
            date_formats=date_formats,
            phone_regions=phone_regions,
            today=self.today,
        )
        for name, value in normalised.attributes.items():
            reason = length_problem(value, attribute_max_length(name))
            if reason is None and name in _KEYS_STORED_AS_COLUMNS:
                key_reason = length_problem(normalised.keys.get(name, ""), attribute_max_length(name))
                reason = key_reason and f"comparison form {key_reason}"
            if reason is not None:
                return RowRejection(
                    line, external_id, self._source_fields_of.get(name, name), reason
                )
        if custom_attributes:
            normalised.attributes.update(custom_attributes)
            normalised.keys.update(custom_keys)
        flags = list(normalised.flags)
        business_ts = None
        if self.timestamp_field:
            ts_text = (_as_text(_lookup(row, self.timestamp_field)) or "").strip()
            if ts_text:
                try:
                    business_ts = parse_timestamp(ts_text, self.timestamp_format or None)
                except ValueError:
                    flags.append("business_timestamp.unparseable")
                    flags.sort()
                else:
                    if business_ts.tzinfo is None and self.timezone is not None:
                        business_ts = business_ts.replace(tzinfo=self.timezone)
                    if self._is_future(business_ts):
                        # A typo like 2042 would make this record the most recent for
                        # ever: kept out, flagged.
                        business_ts = None
                        flags.append("business_timestamp.future")
                        flags.sort()

        raw = dict(row)
        hashed: list[Any] = [raw, normalised.attributes, normalised.keys, flags,
                             business_ts.isoformat() if business_ts else None]
        if statements:  # only then: the hashes of rows without statements stay as they were
            hashed.append([s.to_json() for s in statements])
        payload_hash = _payload_hash(hashed)
        return MappedRow(
            line=line,
            external_id=external_id,
            raw=raw,
            attributes=normalised.attributes,
            keys=normalised.keys,
            flags=flags,
            business_ts=business_ts,
            payload_hash=payload_hash,
            blocking_keys=tuple(
                sorted(blocking_keys(MatchRecord(0, "", normalised.attributes, normalised.keys)))
            ),
            statements=tuple(statements),
        )

    def _statement(
        self, line: int, external_id: str, row: Mapping[str, Any], spec: FieldSpec
    ) -> Statement | RowRejection | None:
        """One yes/no column read (None: blank, no statement), with its date if mapped."""
        name = spec.source_fields[0]
        text = _as_text(_lookup(row, name))
        if text is None:
            return RowRejection(line, external_id, name, "nested value where yes or no was expected")
        try:
            granted = parse_yes_no(text)
        except ValueError as error:
            return RowRejection(line, external_id, name, str(error))
        if granted is None:
            return None
        stated_at = None
        if spec.date_field:
            date_text = (_as_text(_lookup(row, spec.date_field)) or "").strip()
            if date_text:
                try:
                    stated_at = parse_timestamp(date_text, spec.date_format or None)
                except ValueError:
                    return RowRejection(
                        line, external_id, spec.date_field,
                        f"{date_text[:40]!r} is not a date"
                        + (f" in the format {spec.date_format}" if spec.date_format else " (ISO 8601)"),
                    )
                if stated_at.tzinfo is None and self.timezone is not None:
                    stated_at = stated_at.replace(tzinfo=self.timezone)
                if self._is_future(stated_at):
                    # The latest statement is in force: a "yes" dated 2042 would outlive
                    # every withdrawal.
                    return RowRejection(
                        line, external_id, spec.date_field,
                        f"{date_text[:40]!r} is in the future: a consent is dated when given",
                    )
        return Statement(spec.attribute, granted, stated_at)
