"""Writing the register of processing activities: every version kept in history."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction

from gdpr.models import ProcessingActivity
from rcu.models import SourceSystem
from rcu.services.changes import Actor, change_save_with_m2m

# The fields a person edits (the form and the API write these, nothing else).
ACTIVITY_FIELDS = (
    "name", "purpose", "legal_basis", "legal_basis_detail", "data_categories",
    "people_categories", "recipients", "transfers_outside_eu", "transfer_safeguards",
    "retention", "security_measures", "controller", "joint_controller",
)


def _apply(activity: ProcessingActivity, values: Mapping[str, Any]) -> None:
    unknown = set(values) - set(ACTIVITY_FIELDS) - {"sources", "active"}
    if unknown:
        raise ValueError(f"not a field of the register: {sorted(unknown)}")
    for name in ACTIVITY_FIELDS:
        if name in values:
            setattr(activity, name, values[name])
    if "active" in values:
        activity.active = bool(values["active"])


def _source_ids(sources: Iterable[SourceSystem | int]) -> list[int]:
    return sorted({s.pk if isinstance(s, SourceSystem) else int(s) for s in sources})


@transaction.atomic
def processing_activity_create(
    *, values: Mapping[str, Any], sources: Iterable[SourceSystem | int] = (), acting_user: Actor
) -> ProcessingActivity:
    activity = ProcessingActivity()
    _apply(activity, values)
    activity.full_clean(exclude=["sources"])
    change_save_with_m2m(
        activity, m2m={"sources": _source_ids(sources)}, acting_user=acting_user,
        reason="register: activity recorded",
    )
    return activity


@transaction.atomic
def processing_activity_update(
    *, activity: ProcessingActivity, values: Mapping[str, Any],
    sources: Iterable[SourceSystem | int] | None = None, acting_user: Actor,
) -> ProcessingActivity:
    """Change the given fields (and the sources concerned when given): one new version."""
    _apply(activity, values)
    activity.full_clean(exclude=["sources"])
    m2m = {} if sources is None else {"sources": _source_ids(sources)}
    change_save_with_m2m(activity, m2m=m2m, acting_user=acting_user, reason="register: activity changed")
    return activity


@transaction.atomic
def processing_activity_archive(
    *, activity: ProcessingActivity, acting_user: Actor, active: bool = False
) -> ProcessingActivity:
    """No longer carried out (or carried out again): kept in the register, marked inactive.
    An activity is never deleted: its versions are the register's own history."""
    activity.active = active
    change_save_with_m2m(
        activity, m2m={}, acting_user=acting_user,
        reason="register: activity archived" if not active else "register: activity restored",
    )
    return activity
