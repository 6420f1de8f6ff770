"""Writing an assignment plan: new customers, records moved, customers retired,
golden values recomputed, per-source counts refreshed. Every change has history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from rcu.engine.assignment import AssignmentPlan, NewCustomer
from rcu.models import Customer, SourceRecord
from rcu.selectors.records import records_in_scope_of
from rcu.services.changes import Actor, changes_create, rows_update
from rcu.services.customers import customers_recompute
from rcu.services.locks import LockOrderRetry, customers_held, customers_lock
from rcu.services.stats import source_stats_follow_moves

RECOMPUTE_CHUNK = 2000


def _deleted_records_follow(
    *, retired: Mapping[int, int], moved: Iterable[int], now: datetime,
    acting_user: Actor, reason: str,
) -> None:
    """Records deleted at their source are outside every scope: the ones left on a
    customer being retired go where the customer goes, so that no record ever points at
    a retired customer. One cheap query when the base has none (a partial index)."""
    if not retired or not SourceRecord.objects.filter(deleted_at_source__isnull=False).exists():
        return
    moved = set(moved)
    follow: dict[int, dict[str, int]] = {}
    customers = sorted(retired)
    for start in range(0, len(customers), RECOMPUTE_CHUNK):
        for record, customer in SourceRecord.objects.filter(
            customer_id__in=customers[start : start + RECOMPUTE_CHUNK],
            deleted_at_source__isnull=False,
        ).values_list("pk", "customer_id"):
            if record not in moved:
                follow[record] = {"customer_id": retired[customer]}
    rows_update(model=SourceRecord, fields=["customer_id"], values=follow, now=now,
                acting_user=acting_user, reason=reason)


def _customers_lock(plan: AssignmentPlan, records: Mapping[int, tuple[int | None, int]]) -> None:
    """Lock every customer the plan changes (real-time matching holds them already; a
    batch run does not) and check that their records are still those the plan saw."""
    touched = {records[r][0] for r in plan.moves} | set(plan.recompute) | {
        c for pair in plan.retired.items() for c in pair if not isinstance(c, NewCustomer)
    } | {t for t in plan.moves.values() if not isinstance(t, NewCustomer)}
    fresh = sorted({c for c in touched if c is not None} - customers_held())
    if not fresh:
        return
    customers_lock(fresh, fields=())
    fresh_set = set(fresh)
    seen = {r: c for r, (c, _) in records.items() if c in fresh_set}
    # Records deleted at source are outside every scope (they follow their customer).
    if records_in_scope_of(fresh) != seen:
        raise LockOrderRetry("records of these customers moved since they were read")


def assignment_apply(
    *,
    plan: AssignmentPlan,
    records: Mapping[int, tuple[int | None, int]],
    acting_user: Actor,
    reason: str,
    now: datetime,
) -> dict[NewCustomer, int]:
    """Apply the plan in the caller's transaction; returns the ids of new customers.

    `records` maps every record of the customers involved to (customer before, source):
    the per-source customer counts are adjusted from it, without a recount.
    """
    if plan.is_empty:
        return {}
    _customers_lock(plan, records)
    created: dict[NewCustomer, int] = {}
    if plan.new_customers:
        customers = changes_create(Customer, [Customer() for _ in plan.new_customers],
                                   acting_user=acting_user, reason=reason)
        created = {new: c.pk for new, c in zip(plan.new_customers, customers, strict=True)}

    def resolve(target) -> int:
        return created[target] if isinstance(target, NewCustomer) else target

    rows_update(
        model=SourceRecord, fields=["customer_id"],
        values={record: {"customer_id": resolve(target)} for record, target in plan.moves.items()},
        now=now, acting_user=acting_user, reason=reason,
    )
    rows_update(
        model=Customer, fields=["merged_into_id"],
        values={c: {"merged_into_id": resolve(target)} for c, target in plan.retired.items()},
        now=now, acting_user=acting_user, reason=reason,
    )
    _deleted_records_follow(
        retired={c: resolve(target) for c, target in plan.retired.items()},
        moved=plan.moves.keys(), now=now, acting_user=acting_user, reason=reason,
    )
    recompute = sorted(plan.recompute | set(created.values()))
    for start in range(0, len(recompute), RECOMPUTE_CHUNK):
        customers_recompute(
            customer_ids=recompute[start : start + RECOMPUTE_CHUNK],
            acting_user=acting_user, reason=reason,
        )
    source_stats_follow_moves(
        before={record: customer for record, (customer, _) in records.items()},
        after={
            record: customer if record not in plan.moves else resolve(plan.moves[record])
            for record, (customer, _) in records.items()
        },
        source_of={record: source for record, (_, source) in records.items()},
    )
    return created
