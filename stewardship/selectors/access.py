"""Who may see and decide which merge candidates.

A steward works the queues of their departments: the department's group holds
`rcu.work_queue_department` on the department (django-guardian), and the steward role
the global `stewardship.decide_mergecandidate`. A candidate belongs to the departments
owning the sources of its records. Roles that read everything (DPO, auditor, admin)
see every candidate and decide none, unless they are also stewards of a department.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from rcu.models import Customer, Department, SourceRecord
from rcu.roles import DEPARTMENT_QUEUE_PERMISSION, Role
from rcu.selectors.customers import customer_resolve
from stewardship.models import Decision, MergeCandidate

VIEW_ALL = "stewardship.view_mergecandidate"
DECIDE = "stewardship.decide_mergecandidate"


def queue_departments_for(user) -> QuerySet[Department]:
    """Departments whose queue the person works (through their groups)."""
    if not user.is_authenticated:
        return Department.objects.none()
    return get_objects_for_user(
        user, DEPARTMENT_QUEUE_PERMISSION, klass=Department, accept_global_perms=False
    )


def viewable_departments_for(user) -> QuerySet[Department]:
    """Departments whose queue the person may look at: all for a reading role."""
    if not user.is_authenticated:
        return Department.objects.none()
    if user.has_perm(VIEW_ALL):
        return Department.objects.all()
    return queue_departments_for(user)


def _in_departments(departments) -> Exists:
    through = MergeCandidate.departments.through
    return Exists(
        through.objects.filter(mergecandidate_id=OuterRef("pk"), department__in=departments)
    )


def candidates_visible_to(user) -> QuerySet[MergeCandidate]:
    if not user.is_authenticated:
        return MergeCandidate.objects.none()
    if user.has_perm(VIEW_ALL):
        return MergeCandidate.objects.all()
    return MergeCandidate.objects.filter(_in_departments(queue_departments_for(user)))


def candidates_decidable_by(user) -> QuerySet[MergeCandidate]:
    if not user.is_authenticated or not user.has_perm(DECIDE):
        return MergeCandidate.objects.none()
    return MergeCandidate.objects.filter(_in_departments(queue_departments_for(user)))


def candidate_get_for_user(*, user, pk: int) -> MergeCandidate:
    """The candidate if the person may see it; Http404 otherwise (never says it exists)."""
    candidate = (
        candidates_visible_to(user)
        .select_related("record_a__source", "record_b__source", "leased_by", "decided_by")
        .filter(pk=pk)
        .first()
    )
    if candidate is None:
        raise Http404("No such candidate")
    return candidate


def user_can_decide(*, user, candidate: MergeCandidate) -> bool:
    return candidates_decidable_by(user).filter(pk=candidate.pk).exists()


def user_can_decide_for_customer(*, user, customer) -> bool:
    """Unmerge and undo on a customer page: a steward of a department owning one of
    the customer's sources."""
    if not user.is_authenticated or not user.has_perm(DECIDE):
        return False
    return customer.records.filter(
        source__department__in=queue_departments_for(user)
    ).exists()


def user_is_dpo(user) -> bool:
    """The DPO: the only one who rectifies, and who may change a rectified value."""
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.groups.filter(name=Role.DPO).exists())


def decisions_visible_to(user) -> QuerySet[Decision]:
    if not user.is_authenticated:
        return Decision.objects.none()
    if user.has_perm("stewardship.view_decision") or user.has_perm(VIEW_ALL):
        return Decision.objects.all()
    through = Decision.departments.through
    return Decision.objects.filter(
        Exists(through.objects.filter(
            decision_id=OuterRef("pk"), department__in=queue_departments_for(user)
        ))
    )


def user_can_undo(*, user, decision: Decision) -> bool:
    """Who may undo a decision (or reopen a rejection), in the UI, the API and the service.

    A steward of at least one of the decision's departments who may also decide for
    every customer it touched: an undo changes all of them, so a steward of one
    department cannot reopen, through a customer they share, a rejection that keeps
    apart another department's customer. A customer counts as theirs when it holds a
    record of one of their departments now (a customer merged away: the one it was
    merged into), or held one before or after the decision (its ledger; a customer
    the decision merged away: the one it went into), so that a steward can undo the
    merges and detachments they could make. A correction that touched a value the DPO
    rectified is undone by the DPO only.
    """
    if decision.kind == Decision.Kind.CORRECT and correction_is_rectification(decision):
        return user_is_dpo(user)  # a rectification is the DPO's, and so is its undo
    if user is None or not user.is_authenticated or not user.has_perm(DECIDE):
        return False
    departments = queue_departments_for(user)
    if not decision.departments.filter(pk__in=departments.values("pk")).exists():
        return False
    current = {
        customer.pk: _current_customer_id(customer)
        for customer in decision.customers.only("pk", "public_id", "merged_into_id")
    }
    if not current:
        return False
    decidable_now = set(
        SourceRecord.objects.filter(
            customer_id__in=set(current.values()), source__department__in=departments
        ).values_list("customer_id", flat=True).distinct()
    )
    before, after = decision.state_before(), decision.state_after()
    held = [*before.records.items(), *after.records.items()]
    theirs = set(
        SourceRecord.objects.filter(
            pk__in={record for record, _ in held}, source__department__in=departments
        ).values_list("pk", flat=True)
    ) if held else set()
    decidable_in_ledger = {customer for record, customer in held if record in theirs}
    # A customer the decision merged away counts as the one it was merged into then.
    merged_into = after.merged_into
    return all(
        survivor in decidable_now
        or touched in decidable_in_ledger
        or merged_into.get(touched) in decidable_in_ledger
        for touched, survivor in current.items()
    )


def correction_is_rectification(decision: Decision) -> bool:
    """A correction that set or replaced a value the DPO rectified."""
    before, after = decision.state_before(), decision.state_after()
    for customer_id, pins_after in after.pinned.items():
        state = before.customers.get(customer_id)
        pins_before = state.pinned if state is not None else {}
        for name in {*pins_before, *pins_after}:
            if pins_before.get(name) == pins_after.get(name):
                continue
            if any(pin is not None and pin.get("origin") == "rectification"
                   for pin in (pins_before.get(name), pins_after.get(name))):
                return True
    return False


def _current_customer_id(customer: Customer) -> int:
    if customer.merged_into_id is None:
        return customer.pk
    survivor = customer_resolve(customer.public_id)
    return survivor.pk if survivor is not None else customer.pk


def rejection_in_effect(*, candidate_id: int) -> Decision | None:
    """The latest rejection of the candidate not undone: what reopening it undoes."""
    return (
        Decision.objects.in_effect()
        .filter(candidate_id=candidate_id, kind=Decision.Kind.REJECT)
        .order_by("-decided_at", "-pk")
        .first()
    )


def user_can_reopen(*, user, candidate: MergeCandidate) -> bool:
    rejection = rejection_in_effect(candidate_id=candidate.pk)
    return rejection is not None and user_can_undo(user=user, decision=rejection)
