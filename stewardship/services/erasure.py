"""What stewardship holds of an erased person (`rcu.hooks.person_erasing`).

Merge candidates of the erased records go, with their history. The ledger keeps its
structure (kinds, dates, who, ids: other customers' decisions still read and undo
from it) but loses the person's values: golden values in its snapshots whose
provenance points at an erased record, pins of erased records, the erased records'
payload fingerprints, and the person's values quoted in a steward's reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.db.models import Q

from rcu.hooks import ErasureCount
from rcu.models import SourceRecord
from rcu.services import erasure_history
from rcu.services.erasure import ERASED_TEXT, golden_scrub
from rcu.services.locks import candidates_lock_only
from stewardship.models import Decision, MergeCandidate

COVERAGE = {
    "stewardship.MergeCandidate": "candidates of erased records deleted",
    "stewardship.HistoricalMergeCandidate": "their history rows deleted",
    "stewardship.Decision": "snapshots scrubbed where provenance points at an erased record; "
    "pins and fingerprints of erased records, the person's values in reasons removed",
    "stewardship.HistoricalDecision": "the same in every history row",
}


def person_erasing_stewardship(
    *, customer_ids: list[int], record_ids: list[int], public_ids: list[str],
    values: frozenset[str], acting_user: Any, preview: bool = False,
) -> list[ErasureCount]:
    counts: list[ErasureCount] = []
    candidates = list(
        MergeCandidate.objects.filter(Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids))
        .values_list("pk", flat=True)
    )
    if candidates:
        candidates_lock_only(candidates)
        deleted = MergeCandidate.objects.filter(pk__in=candidates).delete()[1].get(
            "stewardship.MergeCandidate", 0
        )
        counts.append(ErasureCount("stewardship.MergeCandidate", "deleted", deleted))
    history = erasure_history.history_rows_delete(MergeCandidate, field="record_a_id", ids=record_ids)
    history += erasure_history.history_rows_delete(MergeCandidate, field="record_b_id", ids=record_ids)
    if history:
        counts.append(ErasureCount("stewardship.HistoricalMergeCandidate", "deleted", history))

    refs = frozenset(SourceRecord.objects.filter(pk__in=record_ids).values_list("source__code", "external_id"))
    decision_ids = set(Decision.objects.filter(customers__in=customer_ids).values_list("pk", flat=True))
    decision_ids |= set(Decision.objects.filter(survivor_id__in=customer_ids).values_list("pk", flat=True))
    # A decision about other customers that once held an erased record.
    others = {
        row["customer"] for row in erasure_history.history_rows_read(
            SourceRecord, field="id", ids=record_ids, fields=("customer",)
        ) if row["customer"] is not None
    }
    decision_ids |= set(Decision.objects.filter(customers__in=others).values_list("pk", flat=True))
    erased_records = {str(r) for r in record_ids}
    scrubbed = 0
    for decision in Decision.objects.filter(pk__in=decision_ids).only("pk", "before", "after", "choices", "reason"):
        fields = decision_scrub(
            {"before": decision.before, "reason": decision.reason}, refs=refs,
            erased_records=erased_records, values=values,
        )
        if fields:
            Decision.objects.filter(pk=decision.pk).update(**fields)
            scrubbed += 1
    if scrubbed:
        counts.append(ErasureCount("stewardship.Decision", "scrubbed", scrubbed))
    rewrites = {}
    for row in erasure_history.history_rows_read(Decision, field="id", ids=decision_ids,
                                                 fields=("before", "reason")):
        fields = decision_scrub(row, refs=refs, erased_records=erased_records, values=values)
        if fields:
            rewrites[row["history_id"]] = fields
    rewritten = erasure_history.history_rows_rewrite(Decision, values=rewrites)
    rewritten += erasure_history.history_reasons_scrub(
        Decision, field="id", ids=decision_ids, values=values, replacement=ERASED_TEXT
    )
    if rewritten:
        counts.append(ErasureCount("stewardship.HistoricalDecision", "scrubbed", rewritten))
    return counts


def decision_scrub(
    row: dict[str, Any], *, refs: frozenset[tuple[str, str]], erased_records: set[str],
    values: Iterable[str],
) -> dict[str, Any]:
    """The ledger columns to rewrite (empty: nothing of the person in them)."""
    fields: dict[str, Any] = {}
    before = row.get("before") or {}
    new_before = dict(before)
    golden = {}
    for pk, state in (before.get("golden") or {}).items():
        changes = golden_scrub(state, refs) if isinstance(state, dict) else {}
        golden[pk] = {**state, **changes} if changes else state
    if golden != (before.get("golden") or {}):
        new_before["golden"] = golden
    customers = {}
    for pk, state in (before.get("customers") or {}).items():
        changes = golden_scrub({"pinned": (state or {}).get("pinned") or {}}, refs)
        customers[pk] = {**state, "pinned": changes["pinned"]} if "pinned" in changes else state
    if customers != (before.get("customers") or {}):
        new_before["customers"] = customers
    fingerprints = {k: v for k, v in (before.get("fingerprints") or {}).items() if k not in erased_records}
    if fingerprints != (before.get("fingerprints") or {}):
        new_before["fingerprints"] = fingerprints
    if new_before != before:
        fields["before"] = new_before
    reason = row.get("reason") or ""
    cleaned = reason
    for value in sorted(values, key=len, reverse=True):
        cleaned = re.sub(re.escape(value), ERASED_TEXT, cleaned, flags=re.IGNORECASE)
    if cleaned != reason:
        fields["reason"] = cleaned
    return fields
