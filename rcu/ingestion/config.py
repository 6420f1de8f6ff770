"""The source configuration file: parsed and checked before anything is stored.

Shape (every key is described in docs/sources-and-imports.md)::

    {"code": "crm", "name": "CRM", "department": "marketing", "trust_rank": 1,
     "default_country": "FR", "external_id": "ID_CLIENT",
     "business_timestamp": {"source": "DATE_MAJ", "format": "%d/%m/%Y %H:%M"},
     "extra_identifiers": [{"code": "loyalty_card", "label": "Carte de fidélité"}],
     "fields": [{"source": "PRENOM", "attribute": "first_name"},
                {"source": ["NUM_VOIE", "LIBELLE_VOIE"], "attribute": "address_line1"},
                {"source": "DATE_NAISS", "attribute": "birth_date", "format": "%d/%m/%Y"}]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rcu.attributes import ATTRIBUTES_BY_NAME, CANONICAL_NAMES, CustomType, Kind
from rcu.ingestion.formats import format_problem
from rcu.ingestion.statements import is_statement_target
from rcu.normalisation.record import DERIVED_KEYS

_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")
_IDENTIFIER_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CASES = {"keep", "upper", "lower", "title"}
_TOP_KEYS = {
    "code", "name", "department", "department_name", "trust_rank", "default_country",
    "external_id", "business_timestamp", "fields", "extra_identifiers", "description", "active",
}
_FIELD_KEYS = {"source", "attribute", "format", "case", "trim", "join_with", "phone_region", "date"}


class SourceConfigError(ValueError):
    """The configuration is refused; `errors` says where and why, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class FieldSpec:
    attribute: str
    source_fields: tuple[str, ...]
    position: int
    date_format: str = ""
    case: str = "keep"
    trim: bool = True
    join_with: str = " "
    phone_region: str = ""
    # A yes/no statement target only (`rcu.ingestion.statements`): the column saying
    # when the person said it (`date_format` is then that column's format).
    date_field: str = ""

    @property
    def is_statement(self) -> bool:
        return is_statement_target(self.attribute)

    @property
    def read_fields(self) -> tuple[str, ...]:
        """Every source field this mapping reads."""
        return (*self.source_fields, self.date_field) if self.date_field else self.source_fields


@dataclass(frozen=True)
class SourceConfig:
    code: str
    name: str
    department: str
    department_name: str
    trust_rank: int
    default_country: str
    external_id_field: str
    business_timestamp_field: str
    business_timestamp_format: str
    fields: tuple[FieldSpec, ...]
    extra_identifiers: tuple[tuple[str, str], ...] = ()
    description: str = ""
    active: bool = True
    mapped_source_fields: frozenset[str] = field(default=frozenset())


def parse_source_config(
    data: Any, *, known_extra_identifiers: frozenset[str] = frozenset(),
    known_custom: Mapping[str, str] | None = None, custom_names: frozenset[str] = frozenset(),
    known_statement_targets: frozenset[str] = frozenset(),
) -> SourceConfig:
    """Check a configuration document; raise SourceConfigError naming every problem.

    `known_custom`: the active custom attributes a field may map onto, name → type;
    `custom_names`: every custom attribute's name, archived ones too (no extra
    identifier may take one); `known_statement_targets`: the yes/no targets apps
    declare (`rcu.hooks.statement_targets`)."""
    known_custom = known_custom or {}
    custom_names = custom_names | frozenset(known_custom)
    errors: list[str] = []
    if not isinstance(data, dict):
        raise SourceConfigError(["the document must be a JSON object"])

    for key in sorted(set(data) - _TOP_KEYS):
        errors.append(f"{key}: unknown key (known: {', '.join(sorted(_TOP_KEYS))})")

    def text(key: str, *, required: bool = True, pattern: re.Pattern | None = None) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                errors.append(f"{key}: is required")
            return ""
        if not isinstance(value, str):
            errors.append(f"{key}: must be a string")
            return ""
        if pattern is not None and not pattern.match(value):
            errors.append(f"{key}: {value!r} is not valid (letters, digits, - and _ only)")
        return value

    code = text("code", pattern=_SLUG)
    name = text("name", required=False) or code
    department = text("department", pattern=_SLUG)
    department_name = text("department_name", required=False) or department
    external_id = text("external_id")
    description = text("description", required=False)

    trust_rank = data.get("trust_rank", 10)
    if not isinstance(trust_rank, int) or isinstance(trust_rank, bool) or trust_rank < 1:
        errors.append(f"trust_rank: {trust_rank!r} must be a whole number of at least 1")
        trust_rank = 10
    default_country = data.get("default_country", "FR")
    if not isinstance(default_country, str) or not _COUNTRY.match(default_country):
        errors.append(f"default_country: {default_country!r} must be an ISO two-letter code like FR")
        default_country = "FR"
    active = data.get("active", True)
    if not isinstance(active, bool):
        errors.append(f"active: {active!r} must be true or false")
        active = True

    ts_field, ts_format = "", ""
    ts = data.get("business_timestamp")
    if ts is not None:
        if not isinstance(ts, dict) or not isinstance(ts.get("source"), str) or not ts["source"]:
            errors.append('business_timestamp: must be {"source": FIELD, "format": STRPTIME}')
        else:
            ts_field = ts["source"]
            ts_format = ts.get("format") or ""
            if ts_format:
                problem = format_problem(ts_format)
                if problem:
                    errors.append(f"business_timestamp.format: {problem}")

    extra: list[tuple[str, str]] = []
    raw_extra = data.get("extra_identifiers", [])
    if not isinstance(raw_extra, list):
        errors.append("extra_identifiers: must be a list")
        raw_extra = []
    for i, item in enumerate(raw_extra):
        where = f"extra_identifiers[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            errors.append(f'{where}: must be {{"code": ..., "label": ...}}')
            continue
        ident_code = item["code"]
        if (
            not _IDENTIFIER_CODE.match(ident_code) or ident_code in ATTRIBUTES_BY_NAME
            or ident_code in DERIVED_KEYS or ident_code in custom_names
        ):
            errors.append(
                f"{where}.code: {ident_code!r} must be lower_snake_case and not a canonical "
                f"or custom attribute nor {' or '.join(DERIVED_KEYS)}"
            )
            continue
        extra.append((ident_code, str(item.get("label") or ident_code)))
    extra_codes = known_extra_identifiers | {c for c, _ in extra}

    specs: list[FieldSpec] = []
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        errors.append("fields: must be a non-empty list")
        raw_fields = []
    seen_attributes: set[str] = set()
    for i, item in enumerate(raw_fields):
        where = f"fields[{i}]"
        if not isinstance(item, dict):
            errors.append(f"{where}: must be an object")
            continue
        for key in sorted(set(item) - _FIELD_KEYS):
            errors.append(f"{where}.{key}: unknown key (known: {', '.join(sorted(_FIELD_KEYS))})")
        attribute = item.get("attribute")
        if not isinstance(attribute, str) or not attribute:
            errors.append(f"{where}.attribute: is required")
            continue
        where = f"{where} ({attribute})"
        statement = is_statement_target(attribute)
        if statement and attribute not in known_statement_targets:
            errors.append(
                f"{where}: unknown statement target {attribute!r}"
                + (f"; known: {', '.join(sorted(known_statement_targets))}" if known_statement_targets else "")
            )
            continue
        if (not statement and attribute not in ATTRIBUTES_BY_NAME and attribute not in extra_codes
                and attribute not in known_custom):
            errors.append(
                f"{where}: unknown attribute {attribute!r}; canonical attributes are "
                f"{', '.join(CANONICAL_NAMES)}"
                + (f", declared identifiers {', '.join(sorted(extra_codes))}" if extra_codes else "")
                + (f", custom attributes {', '.join(sorted(known_custom))}" if known_custom else "")
            )
            continue
        if attribute in seen_attributes:
            errors.append(f"{where}: attribute mapped twice (list several source fields in one entry instead)")
            continue
        seen_attributes.add(attribute)
        sources = item.get("source")
        if isinstance(sources, str):
            sources = [sources]
        if (
            not isinstance(sources, list)
            or not sources
            or not all(isinstance(s, str) and s for s in sources)
        ):
            errors.append(f"{where}.source: must be a field name or a list of field names")
            continue
        if statement and len(sources) != 1:
            errors.append(f"{where}.source: a yes/no statement reads one field")
            continue
        date_field = item.get("date") or ""
        if date_field and (not statement or not isinstance(date_field, str)):
            errors.append(f"{where}.date: only a yes/no statement takes a date field (a field name)")
            date_field = ""
        date_format = item.get("format") or ""
        is_date = statement or (
            ATTRIBUTES_BY_NAME.get(attribute) is not None and ATTRIBUTES_BY_NAME[attribute].kind == Kind.DATE
        ) or known_custom.get(attribute) == CustomType.DATE
        if date_format:
            if not is_date:
                errors.append(f"{where}.format: only date attributes take a format")
            else:
                problem = format_problem(date_format)
                if problem:
                    errors.append(f"{where}.format: {problem}")
        case = item.get("case", "keep")
        if case not in _CASES:
            errors.append(f"{where}.case: {case!r} must be one of {', '.join(sorted(_CASES))}")
        trim = item.get("trim", True)
        if not isinstance(trim, bool):
            errors.append(f"{where}.trim: must be true or false")
        join_with = item.get("join_with", " ")
        if not isinstance(join_with, str) or len(join_with) > 10:
            errors.append(f"{where}.join_with: must be a short string")
        phone_region = item.get("phone_region", "")
        if phone_region and (not isinstance(phone_region, str) or not _COUNTRY.match(phone_region)):
            errors.append(f"{where}.phone_region: {phone_region!r} must be an ISO two-letter code")
        specs.append(
            FieldSpec(
                attribute=attribute,
                source_fields=tuple(sources),
                position=i,
                date_format=date_format,
                case=case if case in _CASES else "keep",
                trim=trim if isinstance(trim, bool) else True,
                join_with=join_with if isinstance(join_with, str) else " ",
                phone_region=phone_region or "",
                date_field=date_field,
            )
        )

    if errors:
        raise SourceConfigError(errors)
    mapped = {f for spec in specs for f in spec.read_fields} | {external_id}
    if ts_field:
        mapped.add(ts_field)
    return SourceConfig(
        code=code,
        name=name,
        department=department,
        department_name=department_name,
        trust_rank=trust_rank,
        default_country=default_country,
        external_id_field=external_id,
        business_timestamp_field=ts_field,
        business_timestamp_format=ts_format,
        fields=tuple(specs),
        extra_identifiers=tuple(extra),
        description=description,
        active=active,
        mapped_source_fields=frozenset(mapped),
    )
