"""Accounts, their roles and their departments, managed by the admin role.

Roles and departments are Django groups (rcu/roles.py): a role's group holds global
permissions, a department's group its object permissions. Every change is recorded
in the administration history (`AdminEvent`) in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from rcu.models import AdminEvent, Department
from rcu.roles import Role
from rcu.services.administration import AdminChange, added_removed, admin_event_record

ROLE_CODES: dict[str, Role] = {role.value.split(":", 1)[1]: role for role in Role}
_ROLE_PREFIX = "role:"
_DEPARTMENT_PREFIX = "department:"
_USERNAME_MAX = 150


class UserRefused(ValueError):
    """A change refused as asked: which field, and why (in the user's language)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = str(reason)


def user_role_codes(user) -> list[str]:
    return sorted(
        g.name.removeprefix(_ROLE_PREFIX) for g in user.groups.all() if g.name.startswith(_ROLE_PREFIX)
    )


def user_department_codes(user) -> list[str]:
    return sorted(
        g.name.removeprefix(_DEPARTMENT_PREFIX)
        for g in user.groups.all() if g.name.startswith(_DEPARTMENT_PREFIX)
    )


def _role_groups(codes: Iterable[str]) -> list[Group]:
    groups = []
    for code in codes:
        role = ROLE_CODES.get(code)
        if role is None:
            raise UserRefused("roles", f"unknown role {code!r} (known: {', '.join(ROLE_CODES)})")
        groups.append(Group.objects.get_or_create(name=role.value)[0])
    return groups


def _department_groups(codes: Iterable[str]) -> list[Group]:
    codes = list(codes)
    departments = {d.code: d for d in Department.objects.filter(code__in=codes).select_related("group")}
    unknown = [c for c in codes if c not in departments]
    if unknown:
        raise UserRefused("departments", f"unknown department {', '.join(map(repr, unknown))}")
    return [departments[c].group for c in codes]


def _check_password(password: str, user) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise UserRefused("password", " ".join(exc.messages)) from exc


@transaction.atomic
def user_create(
    *, username: str, email: str = "", first_name: str = "", last_name: str = "",
    password: str | None = None, roles: Iterable[str] = (), departments: Iterable[str] = (),
    acting_user,
):
    """A new account; without a password it cannot sign in until one is reset."""
    User = get_user_model()
    username = (username or "").strip()
    if not username or len(username) > _USERNAME_MAX:
        raise UserRefused("username", "required, at most 150 characters")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise UserRefused("username", " ".join(exc.messages)) from exc
    if User.objects.filter(username__iexact=username).exists():
        raise UserRefused("username", "this username is taken")
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise UserRefused("email", " ".join(exc.messages)) from exc
    roles, departments = sorted(set(roles)), sorted(set(departments))
    groups = _role_groups(roles) + _department_groups(departments)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name)
    if password:
        _check_password(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    user.groups.set(groups)
    admin_event_record(
        action=AdminEvent.Action.USER_CREATED, acting_user=acting_user, target_user=user,
        change=AdminChange(
            added=tuple([f"role:{r}" for r in roles] + [f"department:{d}" for d in departments])
        ),
    )
    return user


@transaction.atomic
def user_update(
    *, user, email: str | None = None, first_name: str | None = None,
    last_name: str | None = None, is_active: bool | None = None,
    roles: Iterable[str] | None = None, departments: Iterable[str] | None = None, acting_user,
):
    """Change what is given (None leaves a field as it is); each kind of change is one event.

    An administrator cannot deactivate their own account nor take their own admin role
    away: the last admin would otherwise lock everybody out of administration.
    """
    User = get_user_model()
    user = User.objects.get(pk=user.pk)
    is_self = acting_user is not None and acting_user.pk == user.pk

    details = {"email": email, "first_name": first_name, "last_name": last_name}
    changed_fields = [name for name, value in details.items()
                      if value is not None and getattr(user, name) != value]
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise UserRefused("email", " ".join(exc.messages)) from exc
    for name in changed_fields:
        setattr(user, name, details[name])
    if changed_fields:
        user.save(update_fields=changed_fields)
        admin_event_record(
            action=AdminEvent.Action.USER_CHANGED, acting_user=acting_user, target_user=user,
            change=AdminChange(fields=tuple(changed_fields)),
        )

    if is_active is not None and is_active != user.is_active:
        if is_self and not is_active:
            raise UserRefused("is_active", "you cannot deactivate your own account")
        user.is_active = is_active
        user.save(update_fields=["is_active"])
        admin_event_record(
            action=(AdminEvent.Action.USER_REACTIVATED if is_active
                    else AdminEvent.Action.USER_DEACTIVATED),
            acting_user=acting_user, target_user=user,
        )

    if roles is not None:
        before, after = user_role_codes(user), sorted(set(roles))
        if is_self and "admin" in before and "admin" not in after:
            raise UserRefused("roles", "you cannot take your own admin role away")
        change = added_removed(before, after, prefix=_ROLE_PREFIX)
        if change:
            keep = [g for g in user.groups.all() if not g.name.startswith(_ROLE_PREFIX)]
            user.groups.set(keep + _role_groups(after))
            admin_event_record(
                action=AdminEvent.Action.ROLES_CHANGED, acting_user=acting_user,
                target_user=user, change=change,
            )

    if departments is not None:
        before, after = user_department_codes(user), sorted(set(departments))
        change = added_removed(before, after, prefix=_DEPARTMENT_PREFIX)
        if change:
            keep = [g for g in user.groups.all() if not g.name.startswith(_DEPARTMENT_PREFIX)]
            user.groups.set(keep + _department_groups(after))
            admin_event_record(
                action=AdminEvent.Action.MEMBERSHIP_CHANGED, acting_user=acting_user,
                target_user=user, change=change,
            )
    return user


@transaction.atomic
def user_password_reset(*, user, password: str, acting_user):
    """An administrator sets a new password (to hand over); the old one stops working."""
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    admin_event_record(
        action=AdminEvent.Action.PASSWORD_RESET, acting_user=acting_user, target_user=user,
    )
    return user
