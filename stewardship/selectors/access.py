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

from rcu.models import Department
from rcu.roles import DEPARTMENT_QUEUE_PERMISSION
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
    """A steward of one of the departments the decision touched."""
    if not user.is_authenticated or not user.has_perm(DECIDE):
        return False
    return decision.departments.filter(pk__in=queue_departments_for(user).values("pk")).exists()
