"""Declaring departments, source systems and their field mappings."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from guardian.shortcuts import assign_perm, remove_perm

from rcu import hooks
from rcu.ingestion.config import SourceConfig, SourceConfigError, parse_source_config
from rcu.models import Department, ExtraIdentifier, FieldMapping, SourceSystem
from rcu.roles import DEPARTMENT_QUEUE_PERMISSION, DEPARTMENT_SOURCE_PERMISSIONS
from rcu.selectors.attributes import custom_attribute_names, custom_attributes_active
from rcu.services.changes import Actor, change_delete, change_save
from rcu.services.locks import source_lock_for_change


@transaction.atomic
def department_get_or_create(*, code: str, acting_user: Actor, name: str = "") -> Department:
    department = Department.objects.filter(code=code).first()
    if department is not None:
        # A department first met by its code (a demo user, a test) takes the display
        # name a source configuration declares; a name an admin chose is kept.
        if name and name != code and department.name == department.code:
            department.name = name
            change_save(department, acting_user=acting_user, reason="named by its source",
                        update_fields=["name"])
        return department
    group, _ = Group.objects.get_or_create(name=Department.group_name_for(code))
    department = Department(code=code, name=name or code, group=group)
    change_save(department, acting_user=acting_user, reason="created")
    assign_perm(DEPARTMENT_QUEUE_PERMISSION, group, department)
    return department


def department_permissions_sync() -> None:
    """Each department's group holds the right to work its own queue (idempotent)."""
    for department in Department.objects.select_related("group"):
        assign_perm(DEPARTMENT_QUEUE_PERMISSION, department.group, department)


def source_permissions_sync(*, source: SourceSystem) -> None:
    """The owning department's group holds the source's object permissions, no other."""
    owner_group = source.department.group
    for department in Department.objects.exclude(pk=source.department_id).select_related("group"):
        for perm in DEPARTMENT_SOURCE_PERMISSIONS:
            remove_perm(perm, department.group, source)
    for perm in DEPARTMENT_SOURCE_PERMISSIONS:
        assign_perm(perm, owner_group, source)


def source_config_parse(data: object) -> SourceConfig:
    known = frozenset(ExtraIdentifier.objects.values_list("code", flat=True))
    custom = {a.name: a.type.value for a in custom_attributes_active()}
    return parse_source_config(data, known_extra_identifiers=known, known_custom=custom,
                               custom_names=custom_attribute_names(),
                               known_statement_targets=frozenset(hooks.statement_targets()))


@transaction.atomic
def source_configure(*, data: object, acting_user: Actor) -> tuple[SourceSystem, bool]:
    """Create or update a source and its whole mapping from a configuration document.

    Everything is checked first (SourceConfigError lists every problem); then the
    source, its department, its extra identifiers and its mappings are written in
    one transaction. Mappings the document no longer names are removed.
    """
    config = source_config_parse(data)
    department = department_get_or_create(
        code=config.department, name=config.department_name, acting_user=acting_user
    )
    for code, label in config.extra_identifiers:
        identifier = ExtraIdentifier.objects.filter(code=code).first() or ExtraIdentifier(code=code)
        if identifier.pk is None or identifier.label != label:
            identifier.label = label
            change_save(identifier, acting_user=acting_user, reason="configured from file")

    source = source_lock_for_change(config.code)
    created = source is None
    values = {
        "name": config.name,
        "department": department,
        "trust_rank": config.trust_rank,
        "default_country": config.default_country,
        "external_id_field": config.external_id_field,
        "business_timestamp_field": config.business_timestamp_field,
        "business_timestamp_format": config.business_timestamp_format,
        "description": config.description,
        "active": config.active,
    }
    if source is None:
        source = SourceSystem(code=config.code)
    changed = created or any(getattr(source, name) != value for name, value in values.items())
    if changed:  # history gets a row only for a real change
        for name, value in values.items():
            setattr(source, name, value)
        change_save(source, acting_user=acting_user, reason="configured from file")

    existing = {m.attribute: m for m in source.mappings.all()}
    for spec in config.fields:
        values = {
            "source_fields": list(spec.source_fields),
            "position": spec.position,
            "date_format": spec.date_format,
            "case": spec.case,
            "trim": spec.trim,
            "join_with": spec.join_with,
            "phone_region": spec.phone_region,
            "date_field": spec.date_field,
        }
        mapping = existing.pop(spec.attribute, None) or FieldMapping(source=source, attribute=spec.attribute)
        if mapping.pk is None or any(getattr(mapping, k) != v for k, v in values.items()):
            for name, value in values.items():
                setattr(mapping, name, value)
            change_save(mapping, acting_user=acting_user, reason="configured from file")
    for stale in existing.values():  # mappings the document no longer names
        change_delete(stale, acting_user=acting_user, reason="configured from file")

    source_permissions_sync(source=source)
    return source, created


__all__ = ["SourceConfigError", "department_get_or_create", "source_configure", "source_permissions_sync"]


def _fields_by_attribute(document: dict) -> dict[str, dict]:
    return {str(f.get("attribute")): f for f in document.get("fields", []) if isinstance(f, dict)}


@transaction.atomic
def source_mapping_update(*, source: SourceSystem, document: dict, acting_user) -> SourceSystem:
    """Save a mapping edited in the app: the very path of `configure_source` (same parser,
    same writes), plus one administration event naming the attributes that changed."""
    from rcu.models import AdminEvent
    from rcu.selectors.administration import source_config_document
    from rcu.services.administration import AdminChange, admin_event_record

    if document.get("code") != source.code:
        raise SourceConfigError(["code: a source's code cannot change"])
    before = source_config_document(source)
    source, _created = source_configure(data=document, acting_user=acting_user)
    old, new = _fields_by_attribute(before), _fields_by_attribute(document)
    changed = sorted(a for a in set(old) & set(new) if old[a] != new[a])
    top = sorted(
        k for k in ("external_id", "business_timestamp") if before.get(k) != document.get(k)
    )
    change = AdminChange(
        added=tuple(sorted(set(new) - set(old))), removed=tuple(sorted(set(old) - set(new))),
        fields=tuple(changed + top),
    )
    if change:
        admin_event_record(
            action=AdminEvent.Action.MAPPING_CHANGED, acting_user=acting_user, source=source,
            change=change,
        )
    return source
