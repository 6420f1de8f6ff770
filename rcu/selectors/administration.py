"""Reads for the administration pages: accounts, departments, their history."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet

from rcu.models import AdminEvent, Department, FieldMapping, MatchRun, SourceSystem

# The admin role's permissions that open each administration page.
MANAGE_USERS = "auth.change_user"
ADD_USERS = "auth.add_user"
VIEW_USERS = "auth.view_user"
MANAGE_DEPARTMENTS = "rcu.change_department"
ADD_DEPARTMENTS = "rcu.add_department"
MANAGE_MAPPINGS = "rcu.change_fieldmapping"
MANAGE_MATCHING = "rcu.change_matchsettings"
START_RUNS = "rcu.add_matchrun"
VIEW_ADMIN_HISTORY = "rcu.view_adminevent"


def users_for_admin(user, *, q: str = "", department: str = "", role: str = "",
                    active: str = "") -> QuerySet:
    """Every account for those who manage accounts, none for anybody else."""
    User = get_user_model()
    if not user.is_authenticated or not user.has_perm(VIEW_USERS):
        return User.objects.none()
    users = User.objects.prefetch_related("groups").order_by("username")
    if q:
        from django.db.models import Q

        users = users.filter(
            Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if department:
        users = users.filter(groups__name=Department.group_name_for(department))
    if role:
        users = users.filter(groups__name=f"role:{role}")
    if active in ("yes", "no"):
        users = users.filter(is_active=active == "yes")
    return users.distinct()


def departments_for_admin(user) -> QuerySet[Department]:
    if not user.is_authenticated or not user.has_perm(MANAGE_DEPARTMENTS):
        return Department.objects.none()
    return Department.objects.select_related("group").prefetch_related(
        Prefetch("sources", queryset=SourceSystem.objects.order_by("trust_rank", "code")),
        "group__user_set",
    ).order_by("name")


def department_names() -> dict[str, str]:
    """Department code → display name, for pages that only hold codes."""
    return dict(Department.objects.values_list("code", "name"))


def admin_events_for(user, *, target_user=None, department=None, limit: int = 200) -> list[AdminEvent]:
    if not user.is_authenticated or not user.has_perm(VIEW_ADMIN_HISTORY):
        return []
    events = AdminEvent.objects.select_related("actor", "target_user", "department", "source", "token")
    if target_user is not None:
        events = events.filter(target_user=target_user)
    if department is not None:
        events = events.filter(department=department)
    return list(events[:limit])


def source_config_document(source: SourceSystem) -> dict[str, Any]:
    """The source as a configuration document (the shape `configure_source` reads), so
    that the mapping editor and the command are checked by the same parser."""
    document: dict[str, Any] = {
        "code": source.code,
        "name": source.name,
        "department": source.department.code,
        "department_name": source.department.name,
        "trust_rank": source.trust_rank,
        "default_country": source.default_country,
        "external_id": source.external_id_field,
        "description": source.description,
        "active": source.active,
        "fields": [mapping_as_field(m) for m in source.mappings.order_by("position", "id")],
    }
    if source.business_timestamp_field:
        document["business_timestamp"] = {
            "source": source.business_timestamp_field, "format": source.business_timestamp_format,
        }
    return document


def mapping_as_field(mapping: FieldMapping) -> dict[str, Any]:
    field: dict[str, Any] = {"source": list(mapping.source_fields), "attribute": mapping.attribute}
    if mapping.date_format:
        field["format"] = mapping.date_format
    if mapping.case != FieldMapping.Case.KEEP:
        field["case"] = mapping.case
    if not mapping.trim:
        field["trim"] = False
    if mapping.join_with != " ":
        field["join_with"] = mapping.join_with
    if mapping.phone_region:
        field["phone_region"] = mapping.phone_region
    if mapping.date_field:
        field["date"] = mapping.date_field
    return field


def match_runs_recent(user, *, limit: int = 10) -> list[MatchRun]:
    if not user.is_authenticated or not user.has_perm("rcu.view_matchrun"):
        return []
    return list(MatchRun.objects.select_related("created_by")[:limit])
