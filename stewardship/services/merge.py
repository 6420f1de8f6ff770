"""Merging golden customers: records move, losers redirect, nothing is lost."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from rcu.attributes import ADDRESS_GROUP, CANONICAL_NAMES
from rcu.models import Customer, PairDecision
from rcu.services.changes import Actor
from rcu.services.customers import customers_recompute
from rcu.services.locks import LockedRecord, retrying
from rcu.services.stats import source_stats_follow_moves
from stewardship.decision_states import CustomerBefore, StateAfter, StateBefore
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.review import cluster_customer_ids
from stewardship.services.corrections import is_rectified, rectified_forbidden
from stewardship.services.errors import DecisionConflict, DecisionInvalid
from stewardship.services.ledger import (
    candidate_customers,
    candidate_lock_for_decision,
    candidates_after_move,
    customers_lock,
    customers_require_active,
    customers_require_unrestricted,
    customers_set,
    decision_record,
    golden_snapshot,
    records_lock,
    records_move,
)
from stewardship.services.pair_decisions import pair_decisions_set

ADDRESS = "address"


def _pin_choices(*, choices: Mapping[str, int], records: list[LockedRecord]) -> dict[str, dict]:
    """Steward choices (attribute → record id) as pinned references; each checked."""
    by_id = {r.pk: r for r in records}
    pins: dict[str, dict] = {}
    for attribute, record_id in choices.items():
        names = ADDRESS_GROUP if attribute in (ADDRESS, *ADDRESS_GROUP) else (attribute,)
        if attribute != ADDRESS and attribute not in CANONICAL_NAMES and not any(
            attribute in r.attributes for r in records
        ):
            raise DecisionInvalid(
                _("Unknown attribute %(name)s.") % {"name": attribute}, field=attribute
            )
        try:
            record = by_id[int(record_id)]
        except (KeyError, TypeError, ValueError):
            raise DecisionInvalid(
                _("%(name)s: record %(record)s is not one of the records being merged.")
                % {"name": attribute, "record": record_id}, field=attribute,
            ) from None
        if not any(record.attributes.get(n) for n in names):
            raise DecisionInvalid(
                _("%(name)s: record %(record)s has no value for it.")
                % {"name": attribute, "record": record_id}, field=attribute,
            )
        ref = {"source": record.source_code, "external_id": record.external_id}
        for name in names:
            pins[name] = ref
    return pins


def _survivor(ids: list[int], records: list[LockedRecord], wanted: int | None) -> int:
    if wanted is not None:
        if wanted not in ids:
            raise DecisionInvalid(_("The surviving customer must be one of those merged."),
                                  field="survivor")
        return wanted
    sizes = {pk: 0 for pk in ids}
    for record in records:
        sizes[record.customer_id] += 1
    return min(ids, key=lambda pk: (-sizes[pk], pk))


@retrying
@transaction.atomic
def customers_merge(
    *, customer_ids: Iterable[int], acting_user: Actor, survivor_id: int | None = None,
    choices: Mapping[str, int] | None = None, reason: str = "",
    candidate: MergeCandidate | None = None,
) -> Decision:
    """Merge these golden customers into one.

    Every source record moves to the survivor; the others keep their ids and redirect
    to it (`merged_into`); the steward's value choices are pinned; must-link decisions
    join every record of the merged customer, so that the matching engine never splits
    it; candidates now inside one customer are closed. The decision stores the exact
    before-state (partition, pins, golden values), for undo.
    """
    ids = sorted(set(customer_ids))
    if len(ids) < 2:
        raise DecisionConflict(_("These records already belong to one customer."))
    customers = customers_lock(ids)
    customers_require_active(customers)
    customers_require_unrestricted(ids)
    records = records_lock(customer_ids=ids)
    survivor = _survivor(ids, records, survivor_id)
    pins = _pin_choices(choices=choices or {}, records=records)

    side = {r.pk: r.customer_id for r in records}
    refused = [
        d for d in PairDecision.objects.filter(
            kind=PairDecision.Kind.CANNOT_LINK, record_a_id__in=sorted(side),
            record_b_id__in=sorted(side),
        ).select_related("decided_by")
        if side[d.record_a_id] != side[d.record_b_id]
    ]
    if refused:
        who = refused[0].decided_by.get_username() if refused[0].decided_by else _("a steward")
        raise DecisionConflict(
            _("%(who)s marked records of these customers as different people; reopen that "
              "rejection before merging.") % {"who": who}
        )

    # History says why each row changed: the steward's words, or what was done.
    why = reason or "merge"
    golden_before = golden_snapshot(ids)
    moves = {r: survivor for r, c in side.items() if c != survivor}
    records_move(moves=moves, acting_user=acting_user, reason=why)

    merged_pins: dict[str, dict] = {}
    for pk in [*(pk for pk in ids if pk != survivor), survivor]:
        merged_pins.update(customers[pk].pinned)
    # A value the DPO rectified is not a steward's to override by a choice.
    if any(is_rectified(merged_pins.get(name)) for name in pins):
        raise rectified_forbidden()
    if any(name in pins for name in ADDRESS_GROUP):
        merged_pins = {k: v for k, v in merged_pins.items() if k not in ADDRESS_GROUP}
    merged_pins.update(pins)
    updates: dict[int, dict] = {pk: {"merged_into_id": survivor} for pk in ids if pk != survivor}
    if merged_pins != (customers[survivor].pinned):
        updates[survivor] = {"pinned": merged_pins}
    customers_set(values=updates, acting_user=acting_user, reason=why)

    # Every record to one anchor, not only the records that moved: the survivor's own
    # records may be together on scores alone, and a score against a record that moved
    # in could otherwise make a later run split them off.
    anchor = min(side)
    pair_changes = pair_decisions_set(
        pairs=[(anchor, r) for r in side if r != anchor], kind=PairDecision.Kind.MUST_LINK,
        acting_user=acting_user, reason=why,
    )
    after_records = {r: survivor for r in side}
    statuses_before, statuses_after = candidates_after_move(
        record_ids=side, customer_of=after_records, acting_user=acting_user, reason=why,
    )
    customers_recompute(customer_ids=[survivor], acting_user=acting_user, reason=why)
    source_stats_follow_moves(
        before=side, after=after_records, source_of={r.pk: r.source_id for r in records}
    )

    return decision_record(
        acting_user=acting_user, customers=ids, record_ids=side,
        kind=Decision.Kind.MERGE, candidate=candidate, survivor_id=survivor,
        choices={k: int(v) for k, v in (choices or {}).items()},
        before=StateBefore(
            records=dict(side),
            customers={pk: CustomerBefore(merged_into=None, pinned=customers[pk].pinned)
                       for pk in ids},
            candidates=statuses_before,
            golden=golden_before,
            fingerprints={r.pk: r.payload_hash for r in records},
        ),
        after=StateAfter(
            records=after_records,
            merged_into={pk: None if pk == survivor else survivor for pk in ids},
            candidates=statuses_after,
            pair_decisions=pair_changes,
        ),
        reason=reason,
    )


@retrying
@transaction.atomic
def candidate_merge(
    *, candidate_id: int, acting_user: Actor, choices: Mapping[str, int] | None = None,
    survivor_id: int | None = None, also_customer_ids: Iterable[int] = (),
    expected_updated_at=None, reason: str = "",
) -> Decision:
    """A steward merges a candidate: the customers of its two records (and any other
    customers of the cluster they chose), with their value choices.

    The customers are locked before the candidate (the order every writer follows);
    a candidate decided, leased or changed meanwhile is a conflict."""
    pair_customers = candidate_customers(candidate_id)
    extra = set(also_customer_ids) - pair_customers
    customer_ids = pair_customers | extra
    customers_lock(customer_ids)
    records_lock(customer_ids=customer_ids)
    candidate = candidate_lock_for_decision(
        candidate_id=candidate_id, acting_user=acting_user,
        expected_updated_at=expected_updated_at, locked_customers=customer_ids,
    )
    if extra:
        # Only customers the review showed, tied to this one by an open candidate.
        tied = cluster_customer_ids(candidate=candidate, pair_customers=sorted(pair_customers))
        stray = sorted(extra - set(tied))
        if stray:
            public_id = Customer.objects.filter(pk=stray[0]).values_list("public_id", flat=True).first()
            raise DecisionInvalid(
                _("Customer %(id)s is not tied to this candidate by an open candidate: it "
                  "cannot be merged along with it.") % {"id": public_id or stray[0]},
                field="also_customers",
            )
    return customers_merge(
        customer_ids=customer_ids, acting_user=acting_user, survivor_id=survivor_id,
        choices=choices, reason=reason, candidate=candidate,
    )
