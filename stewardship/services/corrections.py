"""Correcting golden values by hand: a typed value pinned, with who and why.

A steward's correction and a DPO's rectification (a data subject's request) are the
same act: the value is normalised and checked as at ingestion, pinned on the customer
(`rcu.survivorship` returns it whatever the records say, until someone changes or
unpins it), the golden values recomputed, and a decision written to the ledger, which
undo reads back. A value pinned by a rectification is the DPO's: only the DPO may
change or unpin it. The address is one block: correcting any of its fields pins all
five (those not given keep their current golden value); unpinning any unpins all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rcu.attributes import ADDRESS_GROUP, ATTRIBUTES_BY_NAME, IDENTIFIER_MAX_LENGTH
from rcu.models import ChangeEvent, Customer, ExtraIdentifier
from rcu.normalisation.custom import normalise_custom, rejection_reason
from rcu.normalisation.record import normalise_record
from rcu.selectors.attributes import (
    custom_attributes_active,
    custom_attributes_current,
    custom_key_name,
)
from rcu.services.changes import Actor, actor_user_id
from rcu.services.customers import customers_recompute
from rcu.services.locks import retrying
from rcu.survivorship import is_typed_pin
from rcu.templatetags.rcu_ui import FLAG_LABELS, PROBLEM_LABELS  # problems, as pages name them
from stewardship.decision_states import CustomerBefore, Pins, StateAfter, StateBefore
from stewardship.models import Decision
from stewardship.selectors.access import (
    correction_is_rectification,
    user_can_decide_for_customer,
    user_can_undo,
    user_is_dpo,
)
from stewardship.services.errors import DecisionConflict, DecisionForbidden, DecisionInvalid
from stewardship.services.ledger import (
    customers_lock,
    customers_require_active,
    customers_set,
    decision_record,
    golden_snapshot,
    records_lock,
    undo_record,
)

ADDRESS = "address"
REASON_MAX_LENGTH = 500


class CorrectionOrigin(models.TextChoices):
    CORRECTION = "correction", gettext_lazy("Steward's correction")
    RECTIFICATION = "rectification", gettext_lazy("Rectification (data subject's request)")


def rectified_forbidden() -> DecisionForbidden:
    return DecisionForbidden(_(
        "This value was rectified at the data subject's request: only the DPO may change "
        "or unpin it."
    ))


def is_rectified(pin: Mapping[str, Any] | None) -> bool:
    """A value the DPO rectified: only the DPO may change or unpin it."""
    return pin is not None and pin.get("origin") == CorrectionOrigin.RECTIFICATION


def _unit_of(name: str) -> tuple[str, ...]:
    return ADDRESS_GROUP if name in ADDRESS_GROUP else (name,)


def _checked_names(values: Mapping[str, str | None]) -> None:
    extra = set(ExtraIdentifier.objects.values_list("code", flat=True))
    extra |= {a.name for a in custom_attributes_active()}
    for name, value in values.items():
        if name not in ATTRIBUTES_BY_NAME and name not in extra:
            raise DecisionInvalid(_("Unknown attribute %(name)s.") % {"name": name}, field=name)
        if value is not None and not isinstance(value, str):
            raise DecisionInvalid(_("A value is text, or null to unpin."), field=name)
    for unit in {_unit_of(n) for n in values if n in ADDRESS_GROUP}:
        given = [values[n] is None for n in unit if n in values]
        if any(given) and not all(given):
            raise DecisionInvalid(
                _("The address is one block: unpin it whole (every given field null) or "
                  "correct it."), field=next(n for n in unit if n in values),
            )


def _normalised(values: Mapping[str, str | None], current: Mapping[str, Any]) -> dict[str, dict]:
    """Each attribute to pin → its typed pin body ({"value", "keys"}), checked as at
    ingestion: a value that normalisation rejects or that is too long is refused."""
    wanted: dict[str, str] = {}
    for name, value in values.items():
        if value is None:
            continue
        for member in _unit_of(name):
            if member in values:
                wanted[member] = (values[member] or "").strip()
            else:  # the rest of the address block keeps its golden value
                wanted.setdefault(member, str(current.get(member) or ""))
    for name, value in wanted.items():
        attribute = ATTRIBUTES_BY_NAME.get(name)
        limit = attribute.max_length if attribute is not None else IDENTIFIER_MAX_LENGTH
        if len(value) > limit:
            raise DecisionInvalid(
                _("At most %(limit)d characters.") % {"limit": limit}, field=name
            )
    custom = {a.name: a for a in custom_attributes_current()}
    pins: dict[str, dict] = {}
    for name in [n for n in wanted if n in custom]:  # normalised by type, as at ingestion
        value = wanted.pop(name)
        result = normalise_custom(value, custom[name].type)
        if value and result.value is None:
            raise DecisionInvalid(
                _("%(value)s: %(reason)s.") % {"value": value,
                                               "reason": rejection_reason(result, custom[name].type)},
                field=name,
            )
        keys = {custom_key_name(custom[name]): result.key} if value and result.key else {}
        pins[name] = {"value": result.value or "", "keys": keys}
    normalised = normalise_record({n: v for n, v in wanted.items() if v})
    for name, value in wanted.items():
        if value and name not in normalised.attributes:
            problems = [f for f in normalised.flags if f.startswith(f"{name}.")]
            problem = problems[0].partition(".")[2] if problems else "invalid"
            reason = str(FLAG_LABELS.get(problems[0]) if problems and problems[0] in FLAG_LABELS
                         else PROBLEM_LABELS.get(problem, problem.replace("_", " ")))
            raise DecisionInvalid(
                _("%(value)s: %(reason)s.") % {"value": value, "reason": reason}, field=name
            )
        keys = {name: normalised.keys[name]} if value and name in normalised.keys else {}
        if name == "address_line1" and "address" in normalised.keys:
            keys["address"] = normalised.keys["address"]
        pins[name] = {"value": normalised.attributes.get(name, ""), "keys": keys}
    return pins


def _may_correct(*, acting_user: Actor, customer: Customer, origin: str,
                 touched: Pins) -> None:
    dpo = user_is_dpo(acting_user)
    if origin == CorrectionOrigin.RECTIFICATION:
        if not dpo:
            raise DecisionForbidden(_("Only the DPO may rectify a customer's values."))
        return
    if not user_can_decide_for_customer(user=acting_user, customer=customer):
        raise DecisionForbidden(_(
            "You may not correct this customer: only a steward of a department owning one "
            "of its sources can."
        ))
    if any(pin.get("origin") == CorrectionOrigin.RECTIFICATION for pin in touched.values()):
        raise rectified_forbidden()


@retrying
@transaction.atomic
def customer_values_correct(
    *, customer_id: int, values: Mapping[str, str | None], reason: str,
    origin: CorrectionOrigin = CorrectionOrigin.CORRECTION, request_id: int | None = None,
    acting_user: Actor,
) -> Decision:
    """Pin values typed by hand on a golden customer (null unpins an attribute).

    `values` maps attributes (canonical, or extra identifier codes) to the value to keep
    whatever the sources say, or None to let survivorship decide again; an address field
    corrects (or unpins) the whole address block. The values are normalised as at
    ingestion (a bad e-mail or phone is a `DecisionInvalid` naming the field). `origin`
    says whose act it is: a steward's correction (a steward of one of the customer's
    departments) or the DPO's rectification (`request_id`: the subject request), which
    writes `customer.rectified` events instead of `customer.updated`, and whose values
    only the DPO may change or unpin afterwards (`DecisionForbidden` otherwise). One
    decision in the ledger, undoable.
    """
    origin = CorrectionOrigin(origin)
    reason = (reason or "").strip()
    if not reason:
        raise DecisionInvalid(_("Say why the value is corrected."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise DecisionInvalid(_("At most %(limit)d characters.") % {"limit": REASON_MAX_LENGTH},
                              field="reason")
    if not values:
        raise DecisionInvalid(_("Name at least one value to correct or unpin."), field="values")
    _checked_names(values)
    customers = customers_lock([customer_id])
    customers_require_active(customers)
    customer = Customer.objects.get(pk=customer_id)
    pinned_before: Pins = dict(customers[customer_id].pinned)
    touched_names = {member for name in values for member in _unit_of(name)}
    touched = {n: pin for n, pin in pinned_before.items()
               if n in touched_names and is_typed_pin(pin)}
    _may_correct(acting_user=acting_user, customer=customer, origin=origin, touched=touched)

    current = golden_snapshot([customer_id])[customer_id]
    current.update(current.pop("extra_identifiers") or {})
    current.update(current.pop("custom_attributes") or {})
    typed = _normalised(values, current)
    stamp = {
        "origin": str(origin), "by": actor_user_id(acting_user), "reason": reason,
        "request": request_id, "at": timezone.now().isoformat(),
    }
    pinned_after: Pins = {n: p for n, p in pinned_before.items() if n not in touched_names}
    for name, body in typed.items():
        pinned_after[name] = {**body, **stamp}
    if _same_pins(pinned_after, pinned_before):
        raise DecisionInvalid(_("These values are already pinned as given."), field="values")

    records = records_lock(customer_ids=[customer_id])
    why = f"{origin}: {reason}"
    golden_before = golden_snapshot([customer_id])
    customers_set(values={customer_id: {"pinned": pinned_after}}, acting_user=acting_user,
                  reason=why)
    customers_recompute(
        customer_ids=[customer_id], acting_user=acting_user, reason=why,
        update_event=ChangeEvent.Type.RECTIFIED if origin == CorrectionOrigin.RECTIFICATION
        else None,
    )
    on_records = {r.pk: customer_id for r in records}
    return decision_record(
        acting_user=acting_user, customers=[customer_id], record_ids=on_records,
        kind=Decision.Kind.CORRECT, survivor_id=customer_id, reason=reason,
        before=StateBefore(
            records=on_records,
            customers={customer_id: CustomerBefore(merged_into=None, pinned=pinned_before)},
            golden=golden_before,
            fingerprints={r.pk: r.payload_hash for r in records},
        ),
        after=StateAfter(records=on_records, merged_into={customer_id: None},
                         pinned={customer_id: pinned_after}),
    )


def _same_pins(a: Pins, b: Pins) -> bool:
    """Equal but for when and why they were written."""
    def bare(pins: Pins) -> dict:
        return {n: {k: v for k, v in p.items() if k not in ("at", "reason", "by")}
                for n, p in pins.items()}
    return bare(a) == bare(b)


def correction_undo(*, decision: Decision, acting_user: Actor, reason: str) -> Decision:
    """Undo a correction (called by `decision_undo`, in its transaction, the decision
    locked): the pins it changed go back to what they were, the golden values are
    recomputed. Refused when the customer was merged away since, or when those
    attributes were corrected again since (undo that correction first)."""
    before, after = decision.state_before(), decision.state_after()
    ((customer_id, pinned_after),) = after.pinned.items()
    pinned_before = before.customers[customer_id].pinned
    customers = customers_lock([customer_id])
    if customers[customer_id].merged_into_id is not None:
        raise DecisionConflict(_("A later decision changed these customers; undo it first."))
    changed = {n for n in {*pinned_before, *pinned_after}
               if pinned_before.get(n) != pinned_after.get(n)}
    rectified = correction_is_rectification(decision)
    if not user_can_undo(user=acting_user, decision=decision):
        raise rectified_forbidden() if rectified else DecisionForbidden(_(
            "You may not undo this decision: only a steward of one of its departments who may "
            "also decide for every customer it touched can."
        ))
    current: Pins = dict(customers[customer_id].pinned)
    if any(current.get(n) != pinned_after.get(n) for n in changed):
        raise DecisionConflict(_(
            "These values were corrected again since; undo the later correction first."
        ))
    restored = {n: p for n, p in current.items() if n not in changed}
    restored.update({n: pinned_before[n] for n in changed if n in pinned_before})
    reason = reason or f"undo {decision.kind} #{decision.pk}"
    customers_set(values={customer_id: {"pinned": restored}}, acting_user=acting_user,
                  reason=reason)
    customers_recompute(
        customer_ids=[customer_id], acting_user=acting_user, reason=reason,
        update_event=ChangeEvent.Type.RECTIFIED if rectified else None,
    )
    return undo_record(decision=decision, acting_user=acting_user, reason=reason,
                       customers=[customer_id])


def customer_rectify_for_request(
    *, customer_id: int, values: Mapping[str, str | None], reason: str, request_id: int,
    acting_user: Actor,
) -> int:
    """The receiver of `rcu.hooks.customer_rectify`: the DPO's rectification of a subject
    request, as a correction of origin "rectification"; refusals in the hook's words."""
    from rcu.hooks import ValuesRefused

    try:
        decision = customer_values_correct(
            customer_id=customer_id, values=values, reason=reason,
            origin=CorrectionOrigin.RECTIFICATION, request_id=request_id, acting_user=acting_user,
        )
    except DecisionInvalid as exc:
        raise ValuesRefused(exc.field, str(exc)) from exc
    except (DecisionForbidden, DecisionConflict) as exc:
        raise ValuesRefused("", str(exc)) from exc
    return decision.pk
