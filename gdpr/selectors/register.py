"""Reads of the register of processing activities, with their one access rule: the DPO
and admins view and edit it; nobody else sees it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext

from gdpr.models import ProcessingActivity
from rcu.models import SourceSystem

VIEW_REGISTER = "gdpr.view_processingactivity"
ADD_REGISTER = "gdpr.add_processingactivity"
CHANGE_REGISTER = "gdpr.change_processingactivity"


def user_views_register(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(VIEW_REGISTER))


def user_edits_register(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_perm(ADD_REGISTER) and user.has_perm(CHANGE_REGISTER)
    )


def processing_activities_for_user(*, user: Any) -> QuerySet[ProcessingActivity]:
    """The register (active activities first) if `user` may see it: 403 for anyone else."""
    if not user_views_register(user):
        raise PermissionDenied
    return ProcessingActivity.objects.prefetch_related("sources")


def processing_activity_get_for_user(*, user: Any, pk: int) -> ProcessingActivity:
    try:
        return processing_activities_for_user(user=user).get(pk=pk)
    except ProcessingActivity.DoesNotExist:
        raise Http404 from None


def require_register_editor(user: Any) -> None:
    if not user_edits_register(user):
        raise PermissionDenied


@dataclass(frozen=True)
class ActivityVersion:
    """One version of an activity: who, when, what changed (field label, before, after)."""

    number: int
    at: datetime
    who: str
    action: str  # created | changed
    reason: str
    changes: list[tuple[str, str, str]]


_TRACKED = [
    f for f in ProcessingActivity._meta.concrete_fields if f.name not in {"id", "created_at", "updated_at"}
]


def _shown(field, value: Any) -> str:
    if value is None:
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    return str(value)


def processing_activity_versions(*, activity: ProcessingActivity) -> list[ActivityVersion]:
    """Every version of the activity with the sources it concerned, newest first (three queries)."""
    rows = list(
        ProcessingActivity.history.filter(id=activity.pk)
        .select_related("history_user").order_by("history_date", "history_id")
    )
    # The sources each version concerned: simple-history's table of the m2m per version.
    version_sources = apps.get_model("gdpr", "HistoricalProcessingActivity_sources")
    sources_of: dict[int, list[int]] = defaultdict(list)
    for history_id, source_id in version_sources.objects.filter(
        history_id__in=[r.history_id for r in rows]
    ).values_list("history_id", "sourcesystem_id"):
        sources_of[history_id].append(source_id)
    source_names = dict(SourceSystem.objects.values_list("pk", "name"))
    versions: list[ActivityVersion] = []
    previous = None
    previous_sources: list[str] = []
    for number, row in enumerate(rows, start=1):
        sources = sorted(source_names.get(pk, "?") for pk in sources_of[row.history_id])
        changes = []
        for field in _TRACKED:
            before = getattr(previous, field.attname) if previous is not None else None
            after = getattr(row, field.attname)
            if previous is None and after in ("", None):
                continue
            if before != after:
                changes.append((str(field.verbose_name), _shown(field, before), _shown(field, after)))
        if sources != previous_sources:
            changes.append((
                gettext("sources concerned"),
                ", ".join(previous_sources) if previous is not None else "",
                ", ".join(sources) or gettext("every source"),
            ))
        versions.append(ActivityVersion(
            number=number, at=row.history_date,
            who=row.history_user.get_username() if row.history_user else gettext("RCU"),
            action="created" if row.history_type == "+" else "changed",
            reason=row.history_change_reason or "", changes=changes,
        ))
        previous, previous_sources = row, sources
    versions.reverse()
    return versions
