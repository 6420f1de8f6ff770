"""Unmerging: detach records into their own customer, or undo a decision from the ledger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from rcu.attributes import ADDRESS_GROUP
from rcu.models import Customer, PairDecision, SourceRecord
from rcu.services.changes import Actor, change_save
from rcu.services.customers import customers_recompute
from rcu.services.locks import LockedCustomer, candidates_lock, decision_lock, retrying
from rcu.services.stats import source_stats_follow_moves
from rcu.survivorship import is_typed_pin
from stewardship.decision_states import CustomerBefore, StateAfter, StateBefore
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.access import rejection_in_effect, user_can_undo
from stewardship.services.corrections import correction_undo
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.ledger import (
    candidate_statuses_restore,
    candidates_after_move,
    customers_lock,
    customers_require_active,
    customers_require_unrestricted,
    customers_set,
    decision_record,
    golden_restore,
    golden_snapshot,
    records_lock,
    records_move,
    undo_record,
)
from stewardship.services.pair_decisions import (
    pair_changes_restore,
    pair_decisions_between,
    pair_decisions_remove,
    pair_decisions_set,
)


def undo_forbidden() -> DecisionForbidden:
    return DecisionForbidden(_(
        "You may not undo this decision: only a steward of one of its departments who may "
        "also decide for every customer it touched can."
    ))


@retrying
@transaction.atomic
def records_detach(
    *, customer_id: int, record_ids: Iterable[int], acting_user: Actor, reason: str = ""
) -> Decision:
    """Detach source records from a customer into a new customer of their own.

    The steward says they are not that person: must-links joining them to the rest
    are withdrawn and cannot-links written, so matching never puts them back. The
    must-links withdrawn may have been all that held either side together (the anchor
    of an earlier merge detached): the records they tied are must-linked again within
    their own side, so that neither side falls apart at the next matching run.

    Ids stay stable: records that came from a customer retired into this one (an
    automatic link by matching, or a merge) go back to that customer id, revived, when
    every record it brought leaves with them; no new id is created then. Any other
    customer retired into this one whose records all leave now redirects to where they
    go: a retired id never points at a different person.
    """
    wanted = sorted({int(r) for r in record_ids})
    if not wanted:
        raise DecisionInvalid(_("Name at least one source record to detach."), field="records")
    # Customers retired into this one that its records came from: locked with it.
    retired_ids = _retired_homes(customer_id)
    customers = customers_lock([customer_id, *retired_ids])
    customers_require_active({customer_id: customers[customer_id]})
    retired_ids = [pk for pk in retired_ids if customers[pk].merged_into_id == customer_id]
    records = records_lock(customer_ids=[customer_id])
    own = {r.pk for r in records}
    strangers = [r for r in wanted if r not in own]
    if strangers:
        raise DecisionInvalid(
            _("Record %(id)s does not belong to this customer.") % {"id": strangers[0]},
            field="records",
        )
    staying = sorted(own - set(wanted))
    if not staying:
        raise DecisionInvalid(
            _("A customer keeps at least one record: detach fewer records."), field="records"
        )
    why = reason or "detach"
    brought = _records_brought(record_ids=own, retired_ids=retired_ids)
    leaving = {pk: recs for pk, recs in brought.items() if recs <= set(wanted)}
    golden_before = golden_snapshot([customer_id, *leaving])
    # The old id that brought the most of them, revived; else a new customer.
    revived = min(leaving, key=lambda pk: (-len(leaving[pk]), pk)) if leaving else None
    created: list[int] = []
    if revived is not None:
        target = revived
    else:
        new_customer = Customer(merged_into=None)
        change_save(new_customer, acting_user=acting_user, reason=why)
        target = new_customer.pk
        created = [target]
    redirected = {pk: target for pk in leaving if pk != revived}
    retired_before = {
        pk: CustomerBefore(merged_into=customer_id, pinned=customers[pk].pinned)
        for pk in leaving
    }
    if leaving:
        customers_set(
            values={pk: {"merged_into_id": None if pk == revived else target} for pk in leaving},
            acting_user=acting_user, reason=why,
        )

    records_move(moves=dict.fromkeys(wanted, target), acting_user=acting_user, reason=why)
    detached_refs = {
        (r.source_code, r.external_id) for r in records if r.pk in wanted
    }
    pinned = customers[customer_id].pinned
    kept_pins = {
        name: ref for name, ref in pinned.items()
        if (ref.get("source"), ref.get("external_id")) not in detached_refs
    }
    if kept_pins != pinned:
        customers_set(values={customer_id: {"pinned": kept_pins}}, acting_user=acting_user,
                      reason=why)
    cut = pair_decisions_between(side_a=wanted, side_b=staying, kind=PairDecision.Kind.MUST_LINK)
    removed = pair_decisions_remove(decisions=cut, acting_user=acting_user, reason=why)
    relinked: list[tuple[int, int]] = []
    for side in (set(wanted), set(staying)):
        tied = sorted({r for d in cut for r in (d.record_a_id, d.record_b_id) if r in side})
        relinked.extend((tied[0], r) for r in tied[1:])
    changes = removed + pair_decisions_set(
        pairs=[(a, b) for a in wanted for b in staying],
        kind=PairDecision.Kind.CANNOT_LINK, acting_user=acting_user, reason=why,
    ) + pair_decisions_set(pairs=relinked, kind=PairDecision.Kind.MUST_LINK,
                           acting_user=acting_user, reason=why)
    before_records = {r.pk: customer_id for r in records}
    after_records = {**before_records, **dict.fromkeys(wanted, target)}
    customers_recompute(customer_ids=[customer_id, target], acting_user=acting_user,
                        reason=why)
    source_stats_follow_moves(before=before_records, after=after_records,
                         source_of={r.pk: r.source_id for r in records})
    # Open candidates of either side now concern other departments' records.
    candidates_after_move(record_ids=own, customer_of=after_records, acting_user=acting_user,
                          reason=why)
    return decision_record(
        acting_user=acting_user, customers=[customer_id, target, *redirected], record_ids=own,
        kind=Decision.Kind.DETACH, survivor_id=target, reason=reason,
        before=StateBefore(
            records=before_records,
            customers={customer_id: CustomerBefore(merged_into=None, pinned=pinned),
                       **retired_before},
            golden=golden_before,
            fingerprints={r.pk: r.payload_hash for r in records},
        ),
        after=StateAfter(
            records=after_records,
            merged_into={customer_id: None, target: None, **redirected},
            created=created,
            pair_decisions=changes,
        ),
    )


def _typed_pins_since(*, before: StateBefore, current: Mapping[int, LockedCustomer],
                      restore: Mapping[int, Mapping[str, Any]]) -> dict[int, dict[str, dict]]:
    """Per customer the undo keeps active: values typed by hand it holds now that none of
    the decision's customers held before it (a correction made since)."""
    found: dict[int, dict[str, dict]] = {}
    for pk, state in restore.items():
        if state["merged_into_id"] is not None or pk not in current:
            continue
        pins = {
            name: pin for name, pin in current[pk].pinned.items()
            if is_typed_pin(pin)
            and all(old.pinned.get(name) != pin for old in before.customers.values())
        }
        if pins:
            found[pk] = pins
    return found


def _retired_homes(customer_id: int) -> list[int]:
    """Customers retired into this one (read without a lock): where its records may
    have come from."""
    return sorted(Customer.objects.filter(merged_into_id=customer_id).values_list("pk", flat=True))


def _records_brought(*, record_ids: Iterable[int], retired_ids: Iterable[int]) -> dict[int, set[int]]:
    """For each retired customer, the records (among these) that were once its own: the
    records' history (read by record id, as it is indexed) says which customers held them."""
    retired = set(retired_ids)
    if not retired:
        return {}
    brought: dict[int, set[int]] = {}
    for record_id, held_by in SourceRecord.history.filter(
        id__in=sorted(set(record_ids))
    ).values_list("id", "customer_id").distinct():
        if held_by in retired:
            brought.setdefault(held_by, set()).add(record_id)
    return brought


@retrying
@transaction.atomic
def decision_undo(*, decision_id: int, acting_user: Actor, reason: str = "") -> Decision:
    """Undo a merge, a detachment or a rejection, exactly, from the ledger.

    A merge undone brings the previous customers back with their ids, records, pinned
    choices and golden values; a detachment undone puts the records back and retires
    the customer it created into the original. Refused when what the decision did has
    changed since: its customers moved, merged away, or hold other records now (undo
    the later decision first).
    """
    decision = decision_lock(decision_id)
    if decision is None:
        raise DecisionConflict(_("This decision no longer exists."))
    if decision.undone_at is not None:
        raise DecisionConflict(_("This decision was already undone."))
    if decision.kind not in (Decision.Kind.MERGE, Decision.Kind.DETACH, Decision.Kind.REJECT,
                             Decision.Kind.CORRECT):
        raise DecisionInvalid(_("This kind of decision cannot be undone."), field="decision")
    if decision.kind == Decision.Kind.CORRECT:  # its own rule: a rectification is the DPO's
        return correction_undo(decision=decision, acting_user=acting_user, reason=reason)
    if not user_can_undo(user=acting_user, decision=decision):
        raise undo_forbidden()
    if decision.kind == Decision.Kind.REJECT:
        return _reject_undo(decision=decision, acting_user=acting_user, reason=reason)
    reason = reason or f"undo {decision.kind} #{decision.pk}"
    before, after = decision.state_before(), decision.state_after()
    before_records, after_records = before.records, after.records
    created = after.created
    involved = set(before.customers) | set(created)
    customers = customers_lock(involved)
    if decision.kind == Decision.Kind.DETACH:  # undoing a split merges them again
        customers_require_unrestricted(involved)
    for pk, merged_into in after.merged_into.items():
        if customers[pk].merged_into_id != merged_into:
            raise DecisionConflict(_(
                "A later decision changed these customers; undo it first."
            ))
    records = records_lock(customer_ids=involved)
    current = {r.pk: r.customer_id for r in records}
    moved = [r for r, c in after_records.items() if current.get(r) != c]
    if moved:
        raise DecisionConflict(_(
            "Source records of this decision have moved since (record %(id)s); undo the later "
            "decision first."
        ) % {"id": moved[0]})
    # Records that joined these customers since would be left with must-links and pins
    # of a state that no longer exists.
    joined = sorted(set(current) - set(after_records))
    if joined:
        raise DecisionConflict(_(
            "Record %(id)s joined these customers since this decision; detach it or undo the "
            "later decision first."
        ) % {"id": joined[0]})

    records_move(
        moves={r: c for r, c in before_records.items() if after_records.get(r) != c},
        acting_user=acting_user, reason=reason,
    )
    restore = {
        pk: {"merged_into_id": state.merged_into, "pinned": state.pinned}
        for pk, state in before.customers.items()
    }
    home = next(iter(restore)) if created else None
    for pk in created:
        restore[pk] = {"merged_into_id": home, "pinned": {}}
    # Values corrected by hand since the decision stay with the customer that keeps its
    # id: undoing a merge does not silently undo a later correction (that has its own
    # decision, undone on its own).
    corrected_since = _typed_pins_since(before=before, current=customers, restore=restore)
    for pk, pins in corrected_since.items():
        kept = restore[pk]["pinned"]
        if any(n in pins for n in ADDRESS_GROUP):
            kept = {n: p for n, p in kept.items() if n not in ADDRESS_GROUP}
        restore[pk]["pinned"] = {**kept, **pins}
    customers_set(values=restore, acting_user=acting_user, reason=reason)
    pair_changes_restore(changes=after.pair_decisions, acting_user=acting_user, reason=reason)
    candidate_statuses_restore(before=before.candidates, after=after.candidates,
                               acting_user=acting_user, reason=reason)
    golden_restore(
        # Retired ones too when the decision had revived them: their values as they were.
        customer_ids=[pk for pk, state in restore.items()
                      if state["merged_into_id"] is None or pk in before.golden],
        snapshot=before.golden, fingerprints=before.fingerprints,
        acting_user=acting_user, reason=reason,
    )
    if corrected_since:  # their golden values are no longer the snapshot's
        customers_recompute(customer_ids=corrected_since, acting_user=acting_user, reason=reason)
    source_stats_follow_moves(before=after_records, after=before_records,
                         source_of={r.pk: r.source_id for r in records})
    # The records are apart again: open candidates among them are worth a look.
    candidates_after_move(record_ids=list(before_records), customer_of=before_records,
                          acting_user=acting_user, reason=reason)
    return undo_record(decision=decision, acting_user=acting_user, reason=reason,
                        customers=sorted(involved))


def _reject_undo(*, decision: Decision, acting_user: Actor, reason: str) -> Decision:
    """Reopen a rejection: its cannot-links are withdrawn and the candidate is open again."""
    reason = reason or f"reopen #{decision.pk}"
    # Its customers first, as every writer does: a merge or rejection of them waits.
    customers_lock(decision.customers.values_list("pk", flat=True))
    if decision.candidate_id is not None:
        (candidate,) = candidates_lock([decision.candidate_id])
        if candidate.status != MergeCandidate.Status.REJECTED:
            raise DecisionConflict(_("This candidate is no longer rejected."))
    before, after = decision.state_before(), decision.state_after()
    pair_changes_restore(changes=after.pair_decisions, acting_user=acting_user, reason=reason)
    candidate_statuses_restore(before=before.candidates, after=after.candidates,
                               acting_user=acting_user, reason=reason)
    undo = undo_record(decision=decision, acting_user=acting_user, reason=reason,
                        customers=list(decision.customers.values_list("pk", flat=True)),
                        kind=Decision.Kind.REOPEN)
    return undo


@retrying
@transaction.atomic
def candidate_reopen(*, candidate_id: int, acting_user: Actor, reason: str = "") -> Decision:
    """A steward changes their mind about a rejection."""
    decision = rejection_in_effect(candidate_id=candidate_id)
    if decision is None:
        raise DecisionConflict(_("No rejection of this candidate is in effect."))
    return decision_undo(decision_id=decision.pk, acting_user=acting_user, reason=reason)
