"""Keeping merge candidates in step with matching."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from rcu.copy_rows import copy_insert
from rcu.db import chunks, copy_worthwhile, is_postgresql
from rcu.hooks import ReviewPair
from rcu.models import SourceRecord, SourceSystem
from rcu.services.changes import Actor, changes_create, rows_insert_new, rows_update
from rcu.services.locks import candidates_lock_only
from stewardship.models import MergeCandidate
from stewardship.services.triage import candidates_triage_refresh

# Past this many records, reading every open candidate beats asking by record.
WHOLE_QUEUE_FROM = 50_000
# Up to this many records or proposed pairs, one query finds every candidate concerned.
SMALL_SYNC = 100


def _open_candidates_touching(record_ids: list[int]) -> dict[tuple[int, int], MergeCandidate]:
    found: dict[tuple[int, int], MergeCandidate] = {}
    if len(record_ids) >= WHOLE_QUEUE_FROM:
        wanted = set(record_ids)
        for candidate in MergeCandidate.objects.open():
            if candidate.record_a_id in wanted or candidate.record_b_id in wanted:
                found[(candidate.record_a_id, candidate.record_b_id)] = candidate
        return found
    for chunk in chunks(sorted(record_ids)):
        for side in ("record_a_id__in", "record_b_id__in"):
            for candidate in MergeCandidate.objects.open().filter(**{side: chunk}):
                found[(candidate.record_a_id, candidate.record_b_id)] = candidate
    return found


def _existing(pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], MergeCandidate]:
    by_a: dict[int, set[int]] = {}
    for a, b in pairs:
        by_a.setdefault(a, set()).add(b)
    found: dict[tuple[int, int], MergeCandidate] = {}
    for chunk in chunks(sorted(by_a)):
        for candidate in MergeCandidate.objects.filter(record_a_id__in=chunk):
            if candidate.record_b_id in by_a[candidate.record_a_id]:
                found[(candidate.record_a_id, candidate.record_b_id)] = candidate
    return found


def _candidates_of(
    record_ids: list[int], proposed: Iterable[tuple[int, int]]
) -> tuple[dict[tuple[int, int], MergeCandidate], dict[tuple[int, int], MergeCandidate]]:
    """The candidates of the proposed pairs (any status), and the open candidates
    touching these records. A few records (real-time matching) are read in one query."""
    proposed = set(proposed)
    firsts = sorted({a for a, _ in proposed})
    if len(record_ids) > SMALL_SYNC or len(firsts) > SMALL_SYNC:
        return _existing(proposed), _open_candidates_touching(record_ids)
    touching = Q(record_a_id__in=record_ids) | Q(record_b_id__in=record_ids)
    query = Q(status=MergeCandidate.Status.OPEN) & touching
    if firsts:
        query |= Q(record_a_id__in=firsts)
    existing, open_touching = {}, {}
    wanted = set(record_ids)
    for candidate in MergeCandidate.objects.filter(query):
        key = (candidate.record_a_id, candidate.record_b_id)
        if key in proposed:
            existing[key] = candidate
        if candidate.status == MergeCandidate.Status.OPEN and (
            candidate.record_a_id in wanted or candidate.record_b_id in wanted
        ):
            open_touching[key] = candidate
    return existing, open_touching


# Runs in the caller's transaction without a savepoint: no caller goes on after its errors.
@transaction.atomic(savepoint=False)
def candidates_sync(
    *, record_ids: Iterable[int], review_pairs: list[ReviewPair], acting_user: Actor
) -> None:
    """Open or refresh a candidate per review pair; close the open candidates among
    these records that matching no longer proposes (linked, or no longer close).

    A rejected or merged candidate is never reopened here: the engine does not propose
    a rejected pair again, and a merged one is in one customer.
    """
    record_ids = list(record_ids)
    now = timezone.now()
    proposed = {(p.record_a, p.record_b): p for p in review_pairs}
    department_of = (
        dict(SourceSystem.objects.values_list("pk", "department_id")) if proposed else {}
    )
    existing, open_touching = _candidates_of(record_ids, proposed)

    to_create: list[MergeCandidate] = []
    to_update: list[MergeCandidate] = []
    departments: dict[tuple[int, int], set[int]] = {}
    for key, pair in proposed.items():
        departments[key] = {department_of[s] for s in pair.source_ids if s in department_of}
        candidate = existing.get(key)
        if candidate is None:
            to_create.append(
                MergeCandidate(
                    record_a_id=pair.record_a, record_b_id=pair.record_b,
                    probability=pair.probability, weight=pair.weight, levels=pair.levels,
                    explanation=pair.explanation,
                )
            )
        elif _refreshed(candidate, pair, now=now):
            to_update.append(candidate)

    closing = [
        c for key, c in open_touching.items() if key not in proposed
    ]
    if closing:
        customer_of: dict[int, int | None] = {}
        ids = sorted({r for c in closing for r in (c.record_a_id, c.record_b_id)})
        for chunk in chunks(ids):
            customer_of.update(
                SourceRecord.objects.filter(pk__in=chunk).values_list("pk", "customer_id")
            )
        for candidate in closing:
            same = customer_of.get(candidate.record_a_id) == customer_of.get(candidate.record_b_id)
            candidate.status = (
                MergeCandidate.Status.LINKED if same else MergeCandidate.Status.SUPERSEDED
            )
            candidate.updated_at = now
            to_update.append(candidate)

    created, taken = _candidates_create(to_create, now=now, acting_user=acting_user)
    # Another writer created these meanwhile: refresh them like the ones found at first.
    to_update.extend(c for c in taken if _refreshed(c, proposed[(c.record_a_id, c.record_b_id)], now=now))
    if to_update:
        candidates_lock_only(c.pk for c in to_update)
        fields = ["status", "probability", "weight", "levels", "explanation", "updated_at"]
        rows_update(
            model=MergeCandidate, fields=fields,
            values={c.pk: {f: getattr(c, f) for f in fields} for c in to_update},
            now=now, acting_user=acting_user, reason="matching",
        )
    opened = [*created, *(c for c in to_update if c.status == MergeCandidate.Status.OPEN)]
    _departments_set(candidates=opened, departments=departments,
                     created=frozenset(c.pk for c in created))
    # The triage band reads the customers, which this run may have changed: every open
    # candidate touching these records is sorted again.
    candidates_triage_refresh(
        candidate_ids=[
            *(c.pk for c in opened),
            *(c.pk for key, c in open_touching.items() if key in proposed),
        ],
        explanations={c.pk: c.explanation for c in opened},
    )


def _refreshed(candidate: MergeCandidate, pair: ReviewPair, *, now) -> bool:
    """Reopen or rescore a candidate matching proposes again; False when nothing changes
    or a steward decided it (a rejected pair is not proposed again, a merged one is linked)."""
    if candidate.status not in (MergeCandidate.Status.OPEN, MergeCandidate.Status.LINKED,
                                MergeCandidate.Status.SUPERSEDED):
        return False
    if candidate.status == MergeCandidate.Status.OPEN and (
        candidate.probability == pair.probability and candidate.levels == pair.levels
    ):
        return False
    candidate.status = MergeCandidate.Status.OPEN
    candidate.probability = pair.probability
    candidate.weight = pair.weight
    candidate.levels = pair.levels
    candidate.explanation = pair.explanation
    candidate.updated_at = now
    return True


def _candidates_create(
    candidates: list[MergeCandidate], *, now, acting_user: Actor
) -> tuple[list[MergeCandidate], list[MergeCandidate]]:
    """Insert new candidates with their history; return them, and the candidates another
    writer inserted for the same pairs since we looked (PostgreSQL: ON CONFLICT)."""
    if not candidates:
        return [], []
    if is_postgresql():
        inserted = rows_insert_new(
            model=MergeCandidate, unique_on=("record_a_id", "record_b_id"),
            rows=[
                {
                    "record_a_id": c.record_a_id, "record_b_id": c.record_b_id,
                    "probability": c.probability, "weight": c.weight, "levels": c.levels,
                    "explanation": c.explanation, "status": c.status,
                }
                for c in candidates
            ],
            now=now, acting_user=acting_user, reason="matching",
        )
        created: list[MergeCandidate] = []
        taken_keys: list[tuple[int, int]] = []
        for candidate in candidates:
            key = (candidate.record_a_id, candidate.record_b_id)
            candidate.pk = inserted.get(key)
            if candidate.pk is None:
                taken_keys.append(key)
            else:
                created.append(candidate)
        return created, _candidates_by_pair(taken_keys)
    # SQLite: one writer at a time, nobody inserts behind our back.
    return changes_create(MergeCandidate, candidates, acting_user=acting_user, reason="matching"), []


def _candidates_by_pair(pairs: list[tuple[int, int]]) -> list[MergeCandidate]:
    if not pairs:
        return []
    return list(_existing(pairs).values())


def _departments_set(
    *, candidates: list[MergeCandidate], departments, created: frozenset[int] = frozenset()
) -> None:
    """Each candidate's departments become exactly those of its records' sources.
    Candidates just `created` have none yet: nothing is read for them."""
    if not candidates:
        return
    through = MergeCandidate.departments.through
    current: dict[int, set[int]] = {}
    ids = [c.pk for c in candidates if c.pk not in created]
    for chunk in chunks(ids):
        for candidate_id, department_id in through.objects.filter(
            mergecandidate_id__in=chunk
        ).values_list("mergecandidate_id", "department_id"):
            current.setdefault(candidate_id, set()).add(department_id)
    stale: list[tuple[int, int]] = []
    missing: list[tuple[int, int]] = []
    for c in candidates:
        wanted = departments.get((c.record_a_id, c.record_b_id), set())
        have = current.get(c.pk, set())
        stale.extend((c.pk, d) for d in have - wanted)
        missing.extend((c.pk, d) for d in sorted(wanted - have))
    for candidate_id, department_id in stale:
        through.objects.filter(mergecandidate_id=candidate_id, department_id=department_id).delete()
    if copy_worthwhile(len(missing)):  # a batch run's tens of thousands of new candidates
        copy_insert(model=through, now=timezone.now(), rows=[
            {"mergecandidate_id": candidate_id, "department_id": department_id}
            for candidate_id, department_id in missing
        ])
        return
    through.objects.bulk_create(
        [through(mergecandidate_id=candidate_id, department_id=department_id)
         for candidate_id, department_id in missing],
        batch_size=5000,
    )


@transaction.atomic(savepoint=False)
def candidate_departments_refresh(*, candidates: list[MergeCandidate]) -> None:
    """After records moved, each open candidate belongs to the departments of the
    sources of every record of its two customers."""
    if not candidates:
        return
    # Two merges may refresh one candidate at once: the second waits for the first.
    candidates_lock_only(c.pk for c in candidates)
    record_ids = {r for c in candidates for r in (c.record_a_id, c.record_b_id)}
    customer_of = dict(SourceRecord.objects.filter(pk__in=record_ids).values_list("pk", "customer_id"))
    sources_of: dict[int, set[int]] = {}
    for customer_id, source_id in (
        SourceRecord.objects.filter(customer_id__in=set(customer_of.values()))
        .values_list("customer_id", "source_id").distinct()
    ):
        sources_of.setdefault(customer_id, set()).add(source_id)
    department_of = dict(SourceSystem.objects.values_list("pk", "department_id"))
    departments = {}
    for c in candidates:
        sources: set[int] = set()
        for record_id in (c.record_a_id, c.record_b_id):
            holder = customer_of.get(record_id)
            if holder is not None:
                sources |= sources_of.get(holder, set())
        departments[(c.record_a_id, c.record_b_id)] = {department_of[s] for s in sources}
    _departments_set(candidates=candidates, departments=departments)
    # Records moved: the customers on each side changed, and so may the triage band.
    candidates_triage_refresh(candidate_ids=[c.pk for c in candidates])
