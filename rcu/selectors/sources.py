from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from rcu.ingestion.config import FieldSpec, SourceConfig
from rcu.ingestion.mapping import RowMapper
from rcu.models import SourceSystem
from rcu.selectors.attributes import custom_attributes_current, custom_key_name

VIEW = "rcu.view_sourcesystem"
INGEST = "rcu.ingest_sourcesystem"


def sources_for_user(user, *, perm: str = VIEW) -> QuerySet[SourceSystem]:
    """Sources the person holds `perm` on, globally (a role) or through a department."""
    if not user.is_authenticated:
        return SourceSystem.objects.none()
    return get_objects_for_user(
        user, perm, klass=SourceSystem.objects.select_related("department"), accept_global_perms=True
    )


def user_has_source_perm(user, perm: str, source: SourceSystem) -> bool:
    """Global permission (a role) or object permission (a department)."""
    return user.is_authenticated and (user.has_perm(perm) or user.has_perm(perm, source))


def source_get_for_user(*, user, code: str, perm: str = VIEW) -> SourceSystem:
    source = SourceSystem.objects.select_related("department").filter(code=code).first()
    if source is None or not user_has_source_perm(user, VIEW, source):
        raise Http404("No such source")
    if perm != VIEW and not user_has_source_perm(user, perm, source):
        raise PermissionDenied
    return source


def _custom_of(fields: list[FieldSpec]) -> tuple[list[FieldSpec], tuple[tuple[str, str, str], ...]]:
    """The fields less those mapped onto an archived custom attribute (no longer mapped),
    and the custom attributes mapped, as the mapper needs them."""
    every = {a.name: a for a in custom_attributes_current()}
    kept = [f for f in fields if f.attribute not in every or every[f.attribute].active]
    custom = tuple(
        (f.attribute, every[f.attribute].type.value, custom_key_name(every[f.attribute]))
        for f in kept if f.attribute in every
    )
    return kept, custom


def source_row_mapper(source: SourceSystem) -> RowMapper:
    """The source's mappings as plain data, ready for the ingestion hot loop."""
    fields = [
        FieldSpec(
            attribute=m.attribute,
            source_fields=tuple(m.source_fields),
            position=m.position,
            date_format=m.date_format,
            case=m.case,
            trim=m.trim,
            join_with=m.join_with,
            phone_region=m.phone_region,
            date_field=m.date_field,
        )
        for m in source.mappings.all().order_by("position", "id")
    ]
    fields, custom = _custom_of(fields)
    return RowMapper(
        external_id_field=source.external_id_field,
        fields=fields,
        custom=custom,
        default_region=source.default_country,
        timestamp_field=source.business_timestamp_field,
        timestamp_format=source.business_timestamp_format,
        timezone=ZoneInfo(settings.TIME_ZONE),
    )


def config_row_mapper(config: SourceConfig) -> RowMapper:
    """A configuration not saved yet (the mapping editor's preview), ready to map rows."""
    fields, custom = _custom_of(list(config.fields))
    return RowMapper(
        external_id_field=config.external_id_field,
        fields=fields,
        custom=custom,
        default_region=config.default_country,
        timestamp_field=config.business_timestamp_field,
        timestamp_format=config.business_timestamp_format,
        timezone=ZoneInfo(settings.TIME_ZONE),
    )
