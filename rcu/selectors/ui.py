"""Reads the server-rendered pages need beyond the domain selectors.

Each function builds on the domain selectors (which own the visibility rules) and
only adds what a page displays: counts, prefetches, latest rows.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from rcu.ingestion.mapping import RowMapper, RowRejection
from rcu.ingestion.readers import (
    FileFacts,
    FileRefused,
    ReadError,
    csv_header,
    inspect_file,
    iter_rows,
    jsonl_keys,
)
from rcu.models import Customer, ExtraIdentifier, ImportJob, SourceStats, SourceSystem
from rcu.selectors.attributes import custom_attribute_labels
from rcu.selectors.customers import VIEW_ALL as VIEW_ALL_CUSTOMERS
from rcu.selectors.customers import customers_visible_to
from rcu.selectors.imports import import_jobs_visible_to
from rcu.selectors.records import records_visible_to
from rcu.selectors.sources import source_row_mapper, sources_for_user


def sources_with_counts(user) -> QuerySet[SourceSystem]:
    """Visible sources with their record count, linked customer count and last import.

    Counts come from `SourceStats`, kept by the writes: no counting on page views.
    """
    last_job = ImportJob.objects.filter(source=OuterRef("pk")).order_by("-created_at", "-id")
    return sources_for_user(user).annotate(
        record_count=Coalesce(F("stats__record_count"), Value(0)),
        customer_count=Coalesce(F("stats__customer_count"), Value(0)),
        last_import_at=Subquery(last_job.values("created_at")[:1]),
        last_import_status=Subquery(last_job.values("status")[:1]),
    )


def dashboard_counts(user, sources) -> dict[str, int | None]:
    """The totals the home page shows, within what the person may see.

    Records add up over the visible sources. Customers are counted only for people
    who see them all (an index-only count); for a department, a customer known to
    two of its sources would count twice, so the page shows per-source counts.
    """
    customers = customers_visible_to(user).count() if user.has_perm(VIEW_ALL_CUSTOMERS) else None
    return {"customers": customers, "records": sum(s.record_count for s in sources)}


def latest_import_jobs(user, *, limit: int = 5, source: SourceSystem | None = None) -> list[ImportJob]:
    jobs = import_jobs_visible_to(user)
    if source is not None:
        jobs = jobs.filter(source=source)
    return list(jobs.order_by("-created_at", "-id")[:limit])


def customers_with_visible_records(
    customers: QuerySet[Customer], *, user
) -> QuerySet[Customer]:
    """Attach `visible_records` (the person's visible records of each customer).

    One extra query for a whole page of customers, whatever its size.
    """
    records = records_visible_to(user).only(
        "id", "customer_id", "external_id", "source__code", "source__name",
        "source__trust_rank", "source__department__name",
    ).order_by("source__trust_rank", "source__code", "external_id")
    return customers.prefetch_related(
        Prefetch("records", queryset=records, to_attr="visible_records")
    )


def extra_identifier_labels() -> dict[str, str]:
    """Labels of the attributes beyond the canonical ones: extra identifiers and custom
    attributes, by code or name."""
    labels = dict(ExtraIdentifier.objects.values_list("code", "label"))
    labels.update(custom_attribute_labels())
    return labels


def source_names_by_code() -> dict[str, str]:
    """Source names for provenance, which names sources by code (a small table)."""
    return dict(SourceSystem.objects.values_list("code", "name"))


def customer_public_ids(pks) -> dict[int, uuid.UUID]:
    """Public ids of customers named by primary key (history shows links by pk)."""
    pks = [pk for pk in pks if pk is not None]
    if not pks:
        return {}
    return dict(Customer.objects.filter(pk__in=pks).values_list("pk", "public_id"))


def source_record_counts(source: SourceSystem) -> dict[str, int]:
    stats = SourceStats.objects.filter(source=source).first()
    if stats is None:
        return {"records": 0, "customers": 0}
    return {"records": stats.record_count, "customers": stats.customer_count}


@dataclass(frozen=True)
class PreviewRow:
    """One sample row as the source's mappings see it."""

    line: int
    raw: dict[str, Any] | None
    raw_text: str = ""
    external_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    business_ts: datetime | None = None
    problem_field: str = ""
    problem: str = ""

    @property
    def refused(self) -> bool:
        return bool(self.problem)


@dataclass(frozen=True)
class MappingPreview:
    facts: FileFacts | None
    rows: list[PreviewRow]
    missing_fields: list[str]
    error: str = ""
    truncated: bool = False
    columns: list[str] = field(default_factory=list)  # the sample's, in file order


def source_mapping_preview(
    source: SourceSystem | None, *, content: bytes, name: str, limit: int = 20,
    mapper: RowMapper | None = None,
) -> MappingPreview:
    """Run sample rows through the source's mappings (or `mapper`, a mapping being
    edited) and the normalisation; store nothing."""
    if mapper is None:
        assert source is not None
        mapper = source_row_mapper(source)
    stream = io.BytesIO(content)
    try:
        facts = inspect_file(stream, name)
    except FileRefused as exc:
        return MappingPreview(facts=None, rows=[], missing_fields=[], error=str(exc))
    columns = list(csv_header(stream, facts)) if facts.file_format == "csv" else sorted(jsonl_keys(stream, facts))
    present = set(columns)
    missing = sorted(mapper.required_fields - present)
    rows: list[PreviewRow] = []
    truncated = False
    for item in iter_rows(stream, facts):
        if len(rows) >= limit:
            truncated = True
            break
        if isinstance(item, ReadError):
            rows.append(PreviewRow(line=item.line, raw=None, raw_text=item.text, problem=item.reason))
            continue
        outcome = mapper.map(item.line, item.data)
        if isinstance(outcome, RowRejection):
            rows.append(
                PreviewRow(
                    line=item.line, raw=item.data, external_id=outcome.external_id,
                    problem_field=outcome.field, problem=outcome.reason,
                )
            )
            continue
        rows.append(
            PreviewRow(
                line=item.line, raw=item.data, external_id=outcome.external_id,
                attributes=outcome.attributes, keys=outcome.keys, flags=outcome.flags,
                business_ts=outcome.business_ts,
            )
        )
    return MappingPreview(
        facts=facts, rows=rows, missing_fields=missing, truncated=truncated, columns=columns
    )
