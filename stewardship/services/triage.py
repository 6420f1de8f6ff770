"""Keeping each open candidate's triage band (stewardship.triage) up to date."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rcu.services.locks import candidates_lock_only
from stewardship.triage import DISTINGUISHING, triage_band

CHUNK = 5000


def triage_refresh_rows(*, candidate_model, record_model, customer_model,
                        candidate_ids: Iterable[int],
                        explanations: Mapping[int, Mapping[str, Any]] | None = None,
                        lock: Callable[[list[int]], None] | None = None) -> int:
    """Recompute the band of these candidates; write only those that changed.

    Callers hold the customers concerned (candidates_sync, after a merge) or run alone
    (the migration): the band is a sort key derived from rows they already lock.
    Models are passed in so that the migration uses its historical models.
    `explanations`: those of candidates the caller has just written, not read again
    (a batch run writes tens of thousands). `lock`: takes the row locks of the
    candidates about to change, in id order, before the UPDATE (whose own row locks
    follow the table's order, not the documented one: a merge waiting on one of them
    while holding another deadlocked with a batch run).
    """
    ids = sorted(set(candidate_ids))
    known = explanations or {}
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = list(candidate_model.objects.filter(pk__in=chunk).values_list(
            "pk", "record_a_id", "record_b_id", "triage"))
        explanation_of = {pk: known[pk] for pk, *_ in rows if pk in known}
        unknown = [pk for pk, *_ in rows if pk not in known]
        if unknown:
            explanation_of.update(
                candidate_model.objects.filter(pk__in=unknown).values_list("pk", "explanation")
            )
        record_ids = {r for row in rows for r in (row[1], row[2])}
        customer_of = dict(record_model.objects.filter(pk__in=record_ids).values_list("pk", "customer_id"))
        values = {
            c["pk"]: c for c in customer_model.objects.filter(pk__in=set(customer_of.values()))
            .values("pk", *DISTINGUISHING)
        }
        by_band: dict[int, list[int]] = {}
        for pk, a, b, current in rows:
            band = int(triage_band(explanation_of.get(pk) or {}, values.get(customer_of.get(a), {}),
                                   values.get(customer_of.get(b), {})))
            if band != current:
                by_band.setdefault(band, []).append(pk)
        if lock is not None and by_band:
            lock(sorted(pk for pks in by_band.values() for pk in pks))
        for band, pks in by_band.items():
            changed += candidate_model.objects.filter(pk__in=pks).update(triage=band)
    return changed


def candidates_triage_refresh(
    *, candidate_ids: Iterable[int], explanations: Mapping[int, Mapping[str, Any]] | None = None
) -> int:
    from rcu.models import Customer, SourceRecord
    from stewardship.models import MergeCandidate

    return triage_refresh_rows(
        candidate_model=MergeCandidate, record_model=SourceRecord, customer_model=Customer,
        candidate_ids=candidate_ids, explanations=explanations, lock=candidates_lock_only,
    )
