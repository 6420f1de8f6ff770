"""Shared steps of steward decisions: locking, moving records, adjusting counts.

Lock order is always the same: the candidate row first (if any), then customers in
id order, then their records in id order. Two decisions on the same rows therefore
wait for each other instead of deadlocking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from rcu.models import Customer, SourceRecord
from rcu.services.history_sql import rows_update_with_history
from rcu.services.stats import source_stats_adjust_customers
from stewardship.models import MergeCandidate
from stewardship.services.errors import DecisionConflict
from stewardship.services.sync import candidate_departments_refresh


def user_id_of(acting_user) -> int | None:
    return acting_user.pk if getattr(acting_user, "is_authenticated", False) else None


def customers_lock(ids: Iterable[int]) -> dict[int, dict]:
    """Lock these customers (id order); each as {pk, public_id, merged_into_id, pinned}."""
    ids = sorted(set(ids))
    rows = (
        Customer.objects.select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
        .values("pk", "public_id", "merged_into_id", "pinned")
    )
    found = {row["pk"]: row for row in rows}
    if len(found) != len(ids):
        raise DecisionConflict(_("One of these customers no longer exists."))
    return found


def customers_require_active(customers: Mapping[int, dict]) -> None:
    for row in customers.values():
        if row["merged_into_id"] is not None:
            raise DecisionConflict(
                _("Customer %(id)s was merged into another customer meanwhile; reload the page.")
                % {"id": row["public_id"]}
            )


def records_lock(*, customer_ids: Iterable[int]) -> list[dict]:
    """Lock every record of these customers (id order): pk, customer, source."""
    return list(
        SourceRecord.objects.select_for_update(of=("self",))
        .filter(customer_id__in=sorted(set(customer_ids)))
        .order_by("pk")
        .values("pk", "customer_id", "source_id", "source__code", "external_id", "attributes")
    )


def records_move(*, moves: Mapping[int, int], acting_user, reason: str) -> None:
    rows_update_with_history(
        model=SourceRecord, fields=["customer_id"],
        values={record: {"customer_id": customer} for record, customer in moves.items()},
        now=timezone.now(), acting_user_id=user_id_of(acting_user), reason=reason,
    )


def customers_set(*, values: Mapping[int, Mapping], acting_user, reason: str) -> None:
    """Set `merged_into_id` and/or `pinned` of customers, with history."""
    by_fields: dict[tuple[str, ...], dict[int, Mapping]] = {}
    for pk, row in values.items():
        by_fields.setdefault(tuple(sorted(row)), {})[pk] = row
    for fields, rows in by_fields.items():
        rows_update_with_history(
            model=Customer, fields=list(fields), values=rows, now=timezone.now(),
            acting_user_id=user_id_of(acting_user), reason=reason,
        )


def source_counts_adjust(*, before: Mapping[int, int], after: Mapping[int, int],
                         source_of: Mapping[int, int]) -> None:
    """Per-source customer counts follow records moving (record → customer maps)."""
    pairs_before = {(before[r], source_of[r]) for r in before}
    pairs_after = {(after[r], source_of[r]) for r in after}
    count_before = Counter(s for _, s in pairs_before)
    count_after = Counter(s for _, s in pairs_after)
    source_stats_adjust_customers(
        deltas={s: count_after[s] - count_before[s] for s in set(count_before) | set(count_after)}
    )


def candidates_among(record_ids: Iterable[int]) -> list[MergeCandidate]:
    """Candidates with at least one side among these records."""
    ids = sorted(set(record_ids))
    if not ids:
        return []
    return list(MergeCandidate.objects.filter(Q(record_a_id__in=ids) | Q(record_b_id__in=ids)))


def candidates_after_move(
    *, record_ids: Iterable[int], customer_of: Mapping[int, int], acting_user, reason: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Close the open candidates whose records now share a customer; refresh the
    departments of those still open. Returns (statuses before, statuses after)."""
    before, after = {}, {}
    still_open = []
    now = timezone.now()
    for candidate in candidates_among(record_ids):
        if candidate.status != MergeCandidate.Status.OPEN:
            continue
        a = customer_of.get(candidate.record_a_id) or _customer_of(candidate.record_a_id)
        b = customer_of.get(candidate.record_b_id) or _customer_of(candidate.record_b_id)
        if a != b:
            still_open.append(candidate)
            continue
        before[str(candidate.pk)] = candidate.status
        candidate.status = MergeCandidate.Status.MERGED
        candidate.decided_by = acting_user if user_id_of(acting_user) else None
        candidate.decided_at = now
        candidate.leased_by, candidate.leased_until = None, None
        candidate._history_user = candidate.decided_by
        candidate._change_reason = reason[:100]
        candidate.save()
        after[str(candidate.pk)] = candidate.status
    candidate_departments_refresh(candidates=still_open)
    return before, after


def _customer_of(record_id: int) -> int | None:
    return SourceRecord.objects.filter(pk=record_id).values_list("customer_id", flat=True).first()


def candidate_statuses_restore(*, before: Mapping[str, str], after: Mapping[str, str],
                               acting_user, reason: str) -> None:
    """Candidates a decision closed go back to what they were, unless changed since."""
    for candidate in MergeCandidate.objects.filter(pk__in=[int(k) for k in before]):
        if candidate.status != after.get(str(candidate.pk)):
            continue
        candidate.status = before[str(candidate.pk)]
        if candidate.status == MergeCandidate.Status.OPEN:
            candidate.decided_by, candidate.decided_at = None, None
        candidate._history_user = acting_user if user_id_of(acting_user) else None
        candidate._change_reason = reason[:100]
        candidate.save()


def candidate_lock_for_decision(
    *, candidate_id: int, acting_user, expected_updated_at=None
) -> MergeCandidate:
    """Lock the candidate and check that this steward may decide it now.

    Conflicts: decided already, leased to someone else, or changed since the steward
    loaded it (`expected_updated_at`, the `updated_at` they saw)."""
    candidate = (
        MergeCandidate.objects.select_for_update(of=("self",))
        .select_related("decided_by", "leased_by")
        .filter(pk=candidate_id)
        .first()
    )
    if candidate is None:
        raise DecisionConflict(_("This candidate no longer exists."))
    if candidate.status != MergeCandidate.Status.OPEN:
        who = candidate.decided_by.get_username() if candidate.decided_by else _("matching")
        raise DecisionConflict(
            _("Already decided: %(status)s by %(who)s.")
            % {"status": candidate.get_status_display(), "who": who}
        )
    now = timezone.now()
    if candidate.is_held_by_other(acting_user, now=now):
        raise DecisionConflict(
            _("%(who)s is reviewing this candidate until %(until)s.")
            % {"who": candidate.leased_by.get_username(),
               "until": timezone.localtime(candidate.leased_until).strftime("%H:%M")}
        )
    if expected_updated_at is not None and candidate.updated_at != expected_updated_at:
        raise DecisionConflict(
            _("This candidate changed since you opened it (new score or records); review it again.")
        )
    return candidate
