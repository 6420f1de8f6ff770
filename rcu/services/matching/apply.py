"""Writing an assignment plan: new customers, records moved, customers retired,
golden values recomputed, per-source counts refreshed. Every change has history."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime

from simple_history.utils import bulk_create_with_history

from rcu.engine.assignment import AssignmentPlan, NewCustomer
from rcu.models import Customer, SourceRecord
from rcu.services.customers import customers_recompute
from rcu.services.history_sql import rows_update_with_history
from rcu.services.locks import LockOrderRetry, customers_held, customers_lock
from rcu.services.stats import source_stats_adjust_customers

RECOMPUTE_CHUNK = 2000


def _user_id(acting_user) -> int | None:
    return acting_user.pk if getattr(acting_user, "is_authenticated", False) else None


def _deleted_records_follow(
    *, retired: Mapping[int, int], moved: Iterable[int], now: datetime,
    acting_user_id: int | None, reason: str,
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
    rows_update_with_history(
        model=SourceRecord, fields=["customer_id"], values=follow,
        now=now, acting_user_id=acting_user_id, reason=reason,
    )


def _customers_lock(plan: AssignmentPlan, records: Mapping[int, tuple[int | None, int]]) -> None:
    """Lock every customer the plan changes (real-time matching holds them already; a
    batch run does not) and check that their records are still those the plan saw."""
    touched = {records[r][0] for r in plan.moves} | set(plan.recompute) | {
        c for pair in plan.retired.items() for c in pair if not isinstance(c, NewCustomer)
    } | {t for t in plan.moves.values() if not isinstance(t, NewCustomer)}
    touched.discard(None)
    fresh = sorted(set(touched) - customers_held())  # type: ignore[arg-type]
    if not fresh:
        return
    customers_lock(fresh, fields=())
    seen = {r: c for r, (c, _) in records.items() if c in set(fresh)}
    current = {}
    for start in range(0, len(fresh), RECOMPUTE_CHUNK):
        # Records deleted at source are outside every scope (they follow their customer).
        current.update(SourceRecord.objects.filter(
            customer_id__in=fresh[start : start + RECOMPUTE_CHUNK], deleted_at_source__isnull=True
        ).values_list("pk", "customer_id"))
    if current != seen:
        raise LockOrderRetry("records of these customers moved since they were read")


def assignment_apply(
    *,
    plan: AssignmentPlan,
    records: Mapping[int, tuple[int | None, int]],
    acting_user=None,
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
    user_id = _user_id(acting_user)
    created: dict[NewCustomer, int] = {}
    if plan.new_customers:
        customers = bulk_create_with_history(
            [Customer() for _ in plan.new_customers], Customer,
            default_user=acting_user, default_change_reason=reason,
        )
        created = {new: c.pk for new, c in zip(plan.new_customers, customers, strict=True)}

    def resolve(target) -> int:
        return created[target] if isinstance(target, NewCustomer) else target

    rows_update_with_history(
        model=SourceRecord, fields=["customer_id"],
        values={record: {"customer_id": resolve(target)} for record, target in plan.moves.items()},
        now=now, acting_user_id=user_id, reason=reason,
    )
    rows_update_with_history(
        model=Customer, fields=["merged_into_id"],
        values={c: {"merged_into_id": resolve(target)} for c, target in plan.retired.items()},
        now=now, acting_user_id=user_id, reason=reason,
    )
    _deleted_records_follow(
        retired={c: resolve(target) for c, target in plan.retired.items()},
        moved=plan.moves.keys(), now=now, acting_user_id=user_id, reason=reason,
    )
    recompute = sorted(plan.recompute | set(created.values()))
    for start in range(0, len(recompute), RECOMPUTE_CHUNK):
        customers_recompute(
            customer_ids=recompute[start : start + RECOMPUTE_CHUNK],
            acting_user=acting_user, reason=reason,
        )
    after_pairs = set()
    for record, (customer, source) in records.items():
        target = plan.moves.get(record)
        after_pairs.add((customer if target is None else resolve(target), source))
    after = Counter(source for _, source in after_pairs)
    before = Counter(source for _, source in {(c, s) for c, s in records.values() if c is not None})
    source_stats_adjust_customers(
        deltas={s: after[s] - before[s] for s in set(before) | set(after)}
    )
    return created
