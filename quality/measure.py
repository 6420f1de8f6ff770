"""Measuring the base: a handful of grouped aggregate queries, whatever its size.

Each function returns `Figure`s (a count out of a count). Every figure over records is
one pass grouped by source (or department); nothing is read row by row in Python, so
the daily snapshot of a million records costs a few sequential scans on PostgreSQL.
Records deleted at their source are outside every figure: they no longer describe
anyone the source knows.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, TextField
from django.db.models.fields.json import KT, KeyTextTransform
from django.db.models.functions import Cast
from django.db.models.lookups import Contains

from quality.flags import CONSISTENCY_CHECKS, flag_attribute, is_dropped, is_invalid
from quality.models import BASE, GOLDEN, Metric, department_scope, source_scope
from rcu.attributes import ATTRIBUTES_BY_NAME, CANONICAL_NAMES
from rcu.db import is_postgresql
from rcu.models import Customer, Department, PairDecision, SourceRecord, SourceSystem
from stewardship.models import MergeCandidate

# A record (or its business timestamp) older than this is not fresh.
FRESH_DAYS = 365
LIVE = Q(deleted_at_source__isnull=True)


@dataclass(frozen=True, slots=True)
class Figure:
    scope: str
    attribute: str
    metric: str
    numerator: int
    denominator: int
    detail: str = ""

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


def has_flag(flag: str):
    """Records carrying `flag` (a boolean expression for filters and aggregates)."""
    if connection.features.supports_json_field_contains:
        return Q(quality_flags__contains=[flag])
    # SQLite keeps the list as JSON text: match the quoted element, so that "email"
    # does not also match "email.invalid".
    return Contains(Cast("quality_flags", TextField()), json.dumps(flag))


def source_attributes(source: SourceSystem) -> list[str]:
    """The attributes a source maps, in the registry's order, then extra identifiers."""
    mapped = set(source.mappings.values_list("attribute", flat=True))
    canonical = [name for name in CANONICAL_NAMES if name in mapped]
    return canonical + sorted(mapped - set(canonical))


def _golden_value(attribute: str):
    """The golden customer's value of `attribute`, as text like the record's."""
    if attribute == "birth_date":
        return Cast("customer__birth_date", CharField())
    if attribute in ATTRIBUTES_BY_NAME:
        return F(f"customer__{attribute}")
    # KT() would read "customer" as the JSON column: name the key on the related field.
    return KeyTextTransform(attribute, "customer__extra_identifiers")


def _flag_counts() -> dict[int, dict[str, int]]:
    """Records per source and flag (a record holds each of its flags once)."""
    table = SourceRecord._meta.db_table
    if is_postgresql():
        sql = (
            f"SELECT r.source_id, f.flag, COUNT(*) FROM {table} r "
            "CROSS JOIN LATERAL jsonb_array_elements_text(r.quality_flags) AS f(flag) "
            "WHERE r.deleted_at_source IS NULL AND r.quality_flags <> '[]'::jsonb "
            "GROUP BY r.source_id, f.flag"
        )
    else:
        sql = (
            f"SELECT r.source_id, j.value, COUNT(*) FROM {table} r, json_each(r.quality_flags) j "
            "WHERE r.deleted_at_source IS NULL GROUP BY r.source_id, j.value"
        )
    found: dict[int, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        for source_id, flag, count in cursor.fetchall():
            found[source_id][flag] = count
    return found


def _by(rows, key: str) -> dict[Any, dict[str, Any]]:
    """Grouped rows by their `key` column, each as a plain dict of its other columns."""
    found: dict[Any, dict[str, Any]] = {}
    for row in rows:
        row = dict(row)
        found[row.pop(key)] = row
    return found


def _multi_record_customers():
    """Customers holding more than one live record (a subquery)."""
    return (
        SourceRecord.objects.filter(LIVE, customer_id__isnull=False)
        .values("customer_id").annotate(n=Count("pk")).filter(n__gt=1).values("customer_id")
    )


def _open_candidates_by_source() -> dict[int, int]:
    """Open candidates touching each source's records (a pair inside one source once)."""
    found: dict[int, int] = defaultdict(int)
    rows = (
        MergeCandidate.objects.filter(status=MergeCandidate.Status.OPEN)
        .values_list("record_a__source_id", "record_b__source_id")
        .annotate(n=Count("pk")).order_by()
    )
    for source_a, source_b, count in rows:
        for source_id in {source_a, source_b}:
            found[source_id] += count
    return found


def measure_sources(sources: Iterable[SourceSystem], *, now: datetime) -> list[Figure]:
    """Per source: records, and per mapped attribute completeness, validity, consistency,
    agreement with the golden value and each flag; then uniqueness, open candidates and
    freshness."""
    sources = list(sources)
    attributes_of = {source.pk: source_attributes(source) for source in sources}
    every = sorted({a for attributes in attributes_of.values() for a in attributes})
    fresh_since = now - timedelta(days=FRESH_DAYS)

    counts = {
        "total": Count("pk"),
        "dated": Count("pk", filter=Q(business_ts__isnull=False)),
        "fresh": Count("pk", filter=Q(business_ts__gte=fresh_since)),
    }
    for i, attribute in enumerate(every):
        counts[f"filled_{i}"] = Count("pk", filter=Q(attributes__has_key=attribute))
    for j, check in enumerate(CONSISTENCY_CHECKS):
        needs = Q(attributes__has_keys=list(check.needs))
        counts[f"checked_{j}"] = Count("pk", filter=needs)
        counts[f"inconsistent_{j}"] = Count("pk", filter=needs & Q(has_flag(check.flag)))
    totals = _by(SourceRecord.objects.filter(LIVE).values("source_id").annotate(**counts).order_by(),
                 "source_id")

    # Agreement: records whose value is the golden customer's (text against text).
    values = {f"v_{i}": KT(f"attributes__{a}") for i, a in enumerate(every)}
    agreement_counts = {}
    for i, attribute in enumerate(every):
        has_value = Q(attributes__has_key=attribute)
        agreement_counts[f"compared_{i}"] = Count("pk", filter=has_value)
        agreement_counts[f"agree_{i}"] = Count(
            "pk", filter=has_value & Q(**{f"v_{i}": _golden_value(attribute)})
        )
    agreement = _by(
        SourceRecord.objects.filter(LIVE, customer__isnull=False)
        .annotate(**values).values("source_id").annotate(**agreement_counts).order_by(),
        "source_id",
    )

    flags = _flag_counts()
    linked = dict(
        SourceRecord.objects.filter(LIVE, customer_id__in=_multi_record_customers())
        .values_list("source_id").annotate(n=Count("pk")).order_by()
    )
    candidates = _open_candidates_by_source()

    figures: list[Figure] = []
    for source in sources:
        scope = source_scope(source.code)
        row = totals.get(source.pk) or dict.fromkeys(counts, 0)
        agree_row = agreement.get(source.pk) or dict.fromkeys(agreement_counts, 0)
        source_flags = flags.get(source.pk, {})
        total = row["total"]
        figures.append(Figure(scope, "", Metric.RECORDS, total, total))
        attributes = attributes_of[source.pk]
        for i, attribute in enumerate(every):
            if attribute not in attributes:
                continue
            filled = row[f"filled_{i}"]
            own = {flag: n for flag, n in source_flags.items() if flag_attribute(flag) == attribute}
            dropped = sum(n for flag, n in own.items() if is_dropped(flag))
            invalid = sum(n for flag, n in own.items() if is_invalid(flag))
            received = filled + dropped
            figures += [
                Figure(scope, attribute, Metric.COMPLETENESS, filled, total),
                Figure(scope, attribute, Metric.VALIDITY, received - invalid, received),
                Figure(scope, attribute, Metric.AGREEMENT, agree_row[f"agree_{i}"],
                       agree_row[f"compared_{i}"]),
            ]
            figures += [
                Figure(scope, attribute, Metric.FLAG, n, total, detail=flag)
                for flag, n in sorted(own.items())
            ]
        for j, check in enumerate(CONSISTENCY_CHECKS):
            if all(need in attributes for need in check.needs):
                checked = row[f"checked_{j}"]
                figures.append(Figure(scope, check.attribute, Metric.CONSISTENCY,
                                      checked - row[f"inconsistent_{j}"], checked))
        figures += [
            Figure(scope, "", Metric.UNIQUENESS, linked.get(source.pk, 0), total),
            Figure(scope, "", Metric.CANDIDATES, candidates.get(source.pk, 0), total),
            Figure(scope, "", Metric.FRESHNESS, row["fresh"], row["dated"]),
        ]
    return figures


def measure_golden(*, extra_identifiers: Iterable[str] = ()) -> list[Figure]:
    """Golden customers (active ones): completeness per attribute and how many gather
    more than one record."""
    counts = {"total": Count("pk")}
    for attribute in CANONICAL_NAMES:
        empty = Q(birth_date__isnull=True) if attribute == "birth_date" else Q(**{attribute: ""})
        counts[f"filled_{attribute}"] = Count("pk", filter=~empty)
    extras = sorted(extra_identifiers)
    for i, code in enumerate(extras):
        counts[f"extra_{i}"] = Count("pk", filter=Q(extra_identifiers__has_key=code))
    row = Customer.objects.active().aggregate(**counts)
    total = row["total"]
    figures = [Figure(GOLDEN, "", Metric.RECORDS, total, total)]
    figures += [
        Figure(GOLDEN, attribute, Metric.COMPLETENESS, row[f"filled_{attribute}"], total)
        for attribute in CANONICAL_NAMES
    ]
    figures += [
        Figure(GOLDEN, code, Metric.COMPLETENESS, row[f"extra_{i}"], total)
        for i, code in enumerate(extras)
    ]
    consolidated = Customer.objects.active().filter(pk__in=_multi_record_customers()).count()
    figures.append(Figure(GOLDEN, "", Metric.UNIQUENESS, consolidated, total))
    return figures


def _must_linked() -> Q:
    """The record is in a steward's "same person" decision."""
    must = PairDecision.objects.filter(kind=PairDecision.Kind.MUST_LINK)
    return Exists(must.filter(record_a=OuterRef("pk"))) | Exists(must.filter(record_b=OuterRef("pk")))


def measure_base(departments: Iterable[Department]) -> list[Figure]:
    """The business figures of the whole base and of each department's records.

    - duplicate rate: records that another record of the same customer makes redundant,
      (records - customers holding them) / records;
    - automatic link rate: of the records sharing their customer with another, those
      the engine linked (no steward "same person" decision on them);
    - open candidates, per record (the pages show them per 1,000 records).
    """
    departments = list(departments)
    live = SourceRecord.objects.filter(LIVE, customer_id__isnull=False)
    multi = _multi_record_customers()
    aggregate = {
        "records": Count("pk"),
        "customers": Count("customer_id", distinct=True),
    }
    linked_counts = {"linked": Count("pk"), "by_steward": Count("pk", filter=Q(_must_linked()))}
    linked = live.filter(customer_id__in=multi)

    rows: dict[str, dict[str, Any]] = {
        BASE: {**live.aggregate(**aggregate), **linked.aggregate(**linked_counts)}
    }
    by_department = _by(live.values("source__department_id").annotate(**aggregate).order_by(),
                        "source__department_id")
    linked_by_department = _by(
        linked.values("source__department_id").annotate(**linked_counts).order_by(),
        "source__department_id",
    )
    through = MergeCandidate.departments.through
    backlog = dict(
        through.objects.filter(mergecandidate__status=MergeCandidate.Status.OPEN)
        .values_list("department_id").annotate(n=Count("pk")).order_by()
    )
    rows[BASE]["open"] = MergeCandidate.objects.filter(status=MergeCandidate.Status.OPEN).count()
    for department in departments:
        scope = department_scope(department.code)
        rows[scope] = {
            "records": 0, "customers": 0, "linked": 0, "by_steward": 0,
            **by_department.get(department.pk, {}),
            **linked_by_department.get(department.pk, {}),
            "open": backlog.get(department.pk, 0),
        }
    figures: list[Figure] = []
    for scope, row in rows.items():
        records = row["records"] or 0
        figures += [
            Figure(scope, "", Metric.RECORDS, records, records),
            Figure(scope, "", Metric.DUPLICATE_RATE, records - (row["customers"] or 0), records),
            Figure(scope, "", Metric.AUTO_LINK_RATE, row["linked"] - row["by_steward"], row["linked"]),
            Figure(scope, "", Metric.CANDIDATES, row["open"], records),
        ]
    return figures
