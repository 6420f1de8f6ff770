"""Departments and their members, managed by the admin role (history in `AdminEvent`)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db import transaction

from rcu.models import AdminEvent, Department
from rcu.services.administration import AdminChange, admin_event_record
from rcu.services.changes import change_save
from rcu.services.sources import department_get_or_create

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class DepartmentRefused(ValueError):
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = str(reason)


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DepartmentRefused("name", "required, at most 200 characters")
    return name


def _check_target(days: int | None) -> None:
    if days is not None and not 1 <= days <= 365:
        raise DepartmentRefused("review_target_days", "between 1 and 365 days")


@transaction.atomic
def department_create(
    *, code: str, name: str, review_target_days: int | None = None, acting_user
) -> Department:
    """A department and its group (which holds the right to work its queue)."""
    code = (code or "").strip()
    if not _CODE.match(code) or len(code) > 50:
        raise DepartmentRefused("code", "lower-case letters, digits and -, at most 50")
    if Department.objects.filter(code=code).exists():
        raise DepartmentRefused("code", "this code is taken")
    name = _check_name(name)
    _check_target(review_target_days)
    department = department_get_or_create(code=code, name=name, acting_user=acting_user)
    if review_target_days is not None:
        department.review_target_days = review_target_days
        change_save(department, acting_user=acting_user, reason="target age",
                    update_fields=["review_target_days"])
    admin_event_record(
        action=AdminEvent.Action.DEPARTMENT_CREATED, acting_user=acting_user,
        department=department, change=AdminChange(note=name),
    )
    return department


@transaction.atomic
def department_update(
    *, department: Department, name: str | None = None, review_target_days: int | None = None,
    acting_user,
) -> Department:
    department = Department.objects.get(pk=department.pk)
    changed = []
    if name is not None and _check_name(name) != department.name:
        department.name = _check_name(name)
        changed.append("name")
    _check_target(review_target_days)
    if review_target_days is not None and review_target_days != department.review_target_days:
        department.review_target_days = review_target_days
        changed.append("review_target_days")
    if changed:
        change_save(department, acting_user=acting_user, reason="changed by an administrator",
                    update_fields=changed)
        admin_event_record(
            action=AdminEvent.Action.DEPARTMENT_CHANGED, acting_user=acting_user,
            department=department, change=AdminChange(fields=tuple(changed)),
        )
    return department


@transaction.atomic
def department_members_set(*, department: Department, users: Iterable, acting_user) -> None:
    """Exactly these people work the department; one event per person who joins or leaves."""
    User = get_user_model()
    wanted = {u.pk for u in users}
    current = set(department.group.user_set.values_list("pk", flat=True))
    for user in User.objects.filter(pk__in=wanted - current):
        user.groups.add(department.group)
        admin_event_record(
            action=AdminEvent.Action.MEMBERSHIP_CHANGED, acting_user=acting_user,
            target_user=user, department=department, change=AdminChange(added=(department.group.name,)),
        )
    for user in User.objects.filter(pk__in=current - wanted):
        user.groups.remove(department.group)
        admin_event_record(
            action=AdminEvent.Action.MEMBERSHIP_CHANGED, acting_user=acting_user,
            target_user=user, department=department, change=AdminChange(removed=(department.group.name,)),
        )
