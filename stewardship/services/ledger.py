"""Shared steps of steward decisions: locking, moving records, adjusting counts.

Locks are taken through `rcu.services.locks`, in the order every writer follows:
customers in id order, then their records in id order, then candidates. A decision
on a candidate reads it first without a lock, locks its customers and their records,
then locks and checks the candidate. An undo locks its ledger row before anything
else. Two writers on the same rows therefore wait for each other instead of
deadlocking.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rcu.models import Customer, PairDecision, SourceRecord
from rcu.services import locks
from rcu.services.changes import Actor, actor_user, change_save, rows_update
from rcu.services.customers import GOLDEN_FIELDS, customers_recompute
from rcu.services.matching.batch import records_rematch
from stewardship.decision_states import StateAfter, StateBefore
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict, already_decided, held_by_another
from stewardship.services.sync import candidate_departments_refresh


def customers_lock(ids: Iterable[int]) -> dict[int, locks.LockedCustomer]:
    """Lock these customers (id order), all of them still there."""
    ids = sorted(set(ids))
    found = locks.customers_lock_for_decision(ids)
    if len(found) != len(ids):
        raise DecisionConflict(_("One of these customers no longer exists."))
    return found


def customers_require_active(customers: Mapping[int, locks.LockedCustomer]) -> None:
    for row in customers.values():
        if row.merged_into_id is not None:
            raise DecisionConflict(
                _("Customer %(id)s was merged into another customer meanwhile; reload the page.")
                % {"id": row.public_id}
            )


def records_lock(*, customer_ids: Iterable[int]) -> list[locks.LockedRecord]:
    """Lock every record of these customers, which the caller locked (id order)."""
    return locks.records_of_customers_lock(customer_ids)


def customers_of_records(record_ids: Iterable[int]) -> dict[int, int]:
    """Record id → its customer id, read without locking."""
    return dict(
        SourceRecord.objects.filter(pk__in=sorted(set(record_ids))).values_list("pk", "customer_id")
    )


def golden_snapshot(customer_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Each customer's golden columns as stored now (JSON-ready), for an exact undo."""
    snapshot = {}
    for row in Customer.objects.filter(pk__in=sorted(set(customer_ids))).values("pk", *GOLDEN_FIELDS):
        pk = row.pop("pk")
        if row["birth_date"] is not None:
            row["birth_date"] = row["birth_date"].isoformat()
        snapshot[pk] = row
    return snapshot


def golden_restore(
    *, customer_ids: Iterable[int], snapshot: Mapping[int, Mapping[str, Any]],
    fingerprints: Mapping[int, str], acting_user: Actor, reason: str,
) -> None:
    """Undoing a decision: each customer gets back the golden values it had before it,
    exactly, when none of its records changed since (same payload), or when it holds none
    (retired again); the others are recomputed from their records (the source said
    something new meanwhile)."""
    ids = sorted(set(customer_ids))
    records: dict[int, list[tuple[int, str]]] = {pk: [] for pk in ids}
    for pk, customer_id, payload_hash in SourceRecord.objects.filter(
        customer_id__in=ids
    ).values_list("pk", "customer_id", "payload_hash"):
        records[customer_id].append((pk, payload_hash))
    # A customer retired again holds no record: its snapshot is all there is.
    exact = {
        pk for pk in ids
        if pk in snapshot and all(fingerprints.get(r) == h for r, h in records[pk])
    }
    customers_recompute(customer_ids=[pk for pk in ids if pk not in exact],
                        acting_user=acting_user, reason=reason)
    current = golden_snapshot(exact)
    values = {}
    for pk in exact:
        if current[pk] != snapshot[pk]:
            row = dict(snapshot[pk])
            row.setdefault("custom_attributes", {})  # a snapshot taken before they existed
            if row["birth_date"]:
                row["birth_date"] = date.fromisoformat(row["birth_date"])
            values[pk] = row
    rows_update(model=Customer, values=values, fields=GOLDEN_FIELDS, acting_user=acting_user,
                reason=reason)


def records_move(*, moves: Mapping[int, int], acting_user: Actor, reason: str) -> None:
    rows_update(
        model=SourceRecord, fields=["customer_id"],
        values={record: {"customer_id": customer} for record, customer in moves.items()},
        acting_user=acting_user, reason=reason,
    )


def customers_set(*, values: Mapping[int, Mapping], acting_user: Actor, reason: str) -> None:
    """Set `merged_into_id` and/or `pinned` of customers, with history."""
    by_fields: dict[tuple[str, ...], dict[int, Mapping]] = {}
    for pk, row in values.items():
        by_fields.setdefault(tuple(sorted(row)), {})[pk] = row
    for fields, rows in by_fields.items():
        rows_update(model=Customer, fields=fields, values=rows, acting_user=acting_user,
                    reason=reason)


def candidates_among(record_ids: Iterable[int]) -> list[MergeCandidate]:
    """Candidates with at least one side among these records."""
    ids = sorted(set(record_ids))
    if not ids:
        return []
    return list(MergeCandidate.objects.filter(Q(record_a_id__in=ids) | Q(record_b_id__in=ids)))


def candidates_after_move(
    *, record_ids: Iterable[int], customer_of: Mapping[int, int], acting_user: Actor, reason: str,
) -> tuple[dict[int, str], dict[int, str]]:
    """Close the open candidates whose records now share a customer; refresh the
    departments of those still open. Returns (statuses before, statuses after)."""
    before: dict[int, str] = {}
    after: dict[int, str] = {}
    still_open = []
    now = timezone.now()
    candidates = [
        c for c in candidates_among(record_ids) if c.status == MergeCandidate.Status.OPEN
    ]
    # The other side of a candidate may lie outside the moved records: one query for all.
    outside = {r for c in candidates for r in (c.record_a_id, c.record_b_id)} - set(customer_of)
    customer_of = {**customers_of_records(outside), **customer_of}
    closing = [c for c in candidates
               if customer_of.get(c.record_a_id) == customer_of.get(c.record_b_id)]
    # Customers brought together may now share several open candidates with a third:
    # one stays, the most probable (the one matching proposes), the others are
    # superseded.
    closing_ids = {c.pk for c in closing}
    best_between: dict[frozenset, MergeCandidate] = {}
    for candidate in sorted(
        (c for c in candidates if c.pk not in closing_ids),
        key=lambda c: (-c.probability, c.record_a_id, c.record_b_id),
    ):
        pair = frozenset((customer_of.get(candidate.record_a_id), customer_of.get(candidate.record_b_id)))
        best_between.setdefault(pair, candidate)
    kept = {c.pk for c in best_between.values()}
    superseded = [c for c in candidates if c.pk not in closing_ids | kept]
    locks.candidates_lock_only(c.pk for c in closing + superseded)
    for candidate in superseded:
        before[candidate.pk] = candidate.status
        candidate.status = MergeCandidate.Status.SUPERSEDED
        candidate.leased_by, candidate.leased_until = None, None
        change_save(candidate, acting_user=acting_user, reason=reason)
        after[candidate.pk] = candidate.status
    superseded_ids = {c.pk for c in superseded}
    for candidate in candidates:
        if candidate.pk in superseded_ids:
            continue
        a, b = customer_of.get(candidate.record_a_id), customer_of.get(candidate.record_b_id)
        if a != b:
            still_open.append(candidate)
            continue
        before[candidate.pk] = candidate.status
        candidate.status = MergeCandidate.Status.MERGED
        candidate.decided_by = actor_user(acting_user)
        candidate.decided_at = now
        candidate.leased_by, candidate.leased_until = None, None
        change_save(candidate, acting_user=acting_user, reason=reason)
        after[candidate.pk] = candidate.status
    candidate_departments_refresh(candidates=still_open)
    return before, after


def candidate_statuses_restore(*, before: Mapping[int, str], after: Mapping[int, str],
                               acting_user: Actor, reason: str) -> None:
    """Candidates a decision closed go back to what they were, unless changed since."""
    ids = sorted(before)
    locks.candidates_lock_only(ids)
    candidates = [c for c in MergeCandidate.objects.filter(pk__in=ids)
                  if c.status == after.get(c.pk)]
    # A pair a steward rejected since is not proposed again, whatever it was before.
    rejected = set(PairDecision.objects.filter(
        kind=PairDecision.Kind.CANNOT_LINK,
        record_a_id__in=[c.record_a_id for c in candidates],
        record_b_id__in=[c.record_b_id for c in candidates],
    ).values_list("record_a_id", "record_b_id"))
    for candidate in candidates:
        if before[candidate.pk] == MergeCandidate.Status.OPEN and (
            (candidate.record_a_id, candidate.record_b_id) in rejected
        ):
            continue
        candidate.status = before[candidate.pk]
        if candidate.status == MergeCandidate.Status.OPEN:
            candidate.decided_by, candidate.decided_at = None, None
        change_save(candidate, acting_user=acting_user, reason=reason)


def candidate_customers(candidate_id: int) -> set[int]:
    """The customers of a candidate's two records, read without a lock (the first step
    of a decision on it: those customers are locked before the candidate)."""
    candidate = MergeCandidate.objects.filter(pk=candidate_id).values(
        "record_a_id", "record_b_id"
    ).first()
    if candidate is None:
        raise DecisionConflict(_("This candidate no longer exists."))
    return set(customers_of_records((candidate["record_a_id"], candidate["record_b_id"])).values())


def candidate_lock_for_decision(
    *, candidate_id: int, acting_user: Actor, expected_updated_at=None,
    locked_customers: Iterable[int] | None = None,
) -> MergeCandidate:
    """Lock the candidate and check that this steward may decide it now.

    Conflicts: decided already, leased to someone else, or changed since the steward
    loaded it (`expected_updated_at`, the `updated_at` they saw). With
    `locked_customers` (the customers the caller locked first), also when its records
    left those customers before the locks were taken."""
    candidate = next(iter(locks.candidates_lock([candidate_id])), None)
    if candidate is None:
        raise DecisionConflict(_("This candidate no longer exists."))
    if candidate.status != MergeCandidate.Status.OPEN:
        raise already_decided(candidate)
    if candidate.is_held_by_other(acting_user, now=timezone.now()):
        raise held_by_another(candidate)
    if expected_updated_at is not None and candidate.updated_at != expected_updated_at:
        raise DecisionConflict(
            _("This candidate changed since you opened it (new score or records); review it again.")
        )
    if locked_customers is not None:
        now_in = set(customers_of_records((candidate.record_a_id, candidate.record_b_id)).values())
        if not now_in <= set(locked_customers):
            raise DecisionConflict(
                _("The records of this candidate moved meanwhile; review it again.")
            )
    return candidate


def decision_record(
    *, acting_user: Actor, customers: Iterable[int], record_ids: Iterable[int] = (),
    departments: Iterable[int] = (), before: StateBefore | None = None,
    after: StateAfter | None = None, **fields,
) -> Decision:
    """Write a decision to the ledger, its history row naming the steward.

    Its departments (who may see it) are those owning the sources of the records it
    touched, plus any given (an undo is seen by whoever saw what it undoes)."""
    decision = Decision(
        decided_by=actor_user(acting_user),
        before=before.to_json() if before is not None else {},
        after=after.to_json() if after is not None else {},
        **fields,
    )
    change_save(decision, acting_user=acting_user, reason=fields.get("reason") or fields["kind"])
    decision.customers.set(sorted(set(customers)))
    owning = set(
        SourceRecord.objects.filter(pk__in=sorted(set(record_ids)))
        .values_list("source__department_id", flat=True).distinct()
    )
    decision.departments.set(sorted((owning | set(departments)) - {None}))
    # Matching re-clusters what the decision touched, under its new must- and
    # cannot-links: what a full run would do with them.
    records_rematch(customer_ids=decision.customers.values_list("pk", flat=True),
                    acting_user=acting_user)
    return decision


def undo_record(*, decision: Decision, acting_user: Actor, reason: str, customers: list[int],
                 kind: str = Decision.Kind.UNDO) -> Decision:
    """Record the undo of a decision and mark that decision undone."""
    now = timezone.now()
    undo = decision_record(
        acting_user=acting_user, customers=customers, kind=kind,
        record_ids=list(decision.state_before().records),
        departments=decision.departments.values_list("pk", flat=True),
        candidate_id=decision.candidate_id, survivor_id=decision.survivor_id,
        undoes=decision, reason=reason,
    )
    decision.undone_at = now
    change_save(decision, acting_user=acting_user, reason=reason, update_fields=["undone_at"])
    return undo


def customers_require_unrestricted(ids: Iterable[int]) -> None:
    """A restricted customer (GDPR art. 18) takes part in no merge until the DPO lifts the
    restriction: the refusal names it (read under the customers' locks)."""
    restricted = Customer.objects.filter(pk__in=list(ids), restricted_at__isnull=False).order_by("pk")
    first = restricted.values_list("public_id", flat=True).first()
    if first is not None:
        raise DecisionConflict(
            _("Customer %(id)s is restricted (GDPR art. 18): it cannot be merged until the DPO "
              "lifts the restriction.") % {"id": first}
        )
