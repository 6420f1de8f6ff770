"""A customer's history: its golden values and its visible records, newest first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.translation import gettext

from rcu.models import Customer, SourceRecord

# The why of a restriction (art. 18) is the DPO's, shown on the customer page to them alone.
_SKIPPED = {"updated_at", "created_at", "payload_hash", "first_name_key", "last_name_key", "provenance",
            "restriction_reason"}
_LABELS = {"+": "created", "~": "changed", "-": "deleted"}


@dataclass
class TimelineEntry:
    at: datetime
    who: str
    subject: str  # "customer" or "crm:C123"
    action: str  # created | changed | deleted
    reason: str
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


def _changes(older, newer, fields: Sequence[str]) -> list[tuple[str, Any, Any]]:
    out = []
    for name in fields:
        before = getattr(older, name, None) if older is not None else None
        after = getattr(newer, name, None)
        if before != after and name not in _SKIPPED:
            out.append((name, before, after))
    return out


def _entries(history_rows, subject_for, fields: Sequence[str]) -> list[TimelineEntry]:
    by_object: dict[int, list] = defaultdict(list)
    for row in history_rows:
        by_object[row.id].append(row)
    entries = []
    for rows in by_object.values():
        rows.sort(key=lambda r: (r.history_date, r.history_id))
        previous = None
        for row in rows:
            entries.append(
                TimelineEntry(
                    at=row.history_date,
                    # No user: RCU itself (an import, matching); the reason names the job.
                    who=row.history_user.get_username() if row.history_user else gettext("RCU"),
                    subject=subject_for(row),
                    action=_LABELS.get(row.history_type, row.history_type),
                    reason=row.history_change_reason or "",
                    changes=_changes(previous, row, fields) if previous is not None or row.history_type == "~" else [],
                )
            )
            previous = row
    return entries


def customer_timeline(
    *, customer: Customer, records: Sequence[SourceRecord], limit: int = 200
) -> list[TimelineEntry]:
    """History of the customer and of the given records, in two queries."""
    # attnames: a foreign key is compared by id, never loaded row by row.
    customer_fields = [f.attname for f in Customer._meta.concrete_fields if f.name != "id"]
    record_fields = ["raw", "attributes", "quality_flags", "business_ts", "customer_id"]
    customer_rows = Customer.history.filter(id=customer.pk).select_related("history_user")
    record_rows = SourceRecord.history.filter(id__in=[r.pk for r in records]).select_related(
        "history_user", "source"
    )
    entries = _entries(customer_rows, lambda _: "customer", customer_fields)
    entries += _entries(record_rows, lambda r: f"{r.source.code}:{r.external_id}", record_fields)
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
