"""The administrators' custom attributes, as every module reads them (cached briefly)."""

from __future__ import annotations

import time

from django.db.models import QuerySet

from rcu.attributes import CustomAttribute, CustomType
from rcu.engine.custom import CustomComparison, key_name
from rcu.models import AttributeDefinition

# Imports and recomputations read the definitions for every batch and every customer
# written: each process keeps them this long (a change is forgotten at once in the
# process making it; others see it within these seconds).
CACHE_SECONDS = 5.0
_memo: list = [0.0, None]  # [expires at (monotonic), the definitions]


def custom_attributes_current() -> tuple[CustomAttribute, ...]:
    """Every custom attribute, archived ones included (their values are still kept and
    shown), in name order."""
    expires, found = _memo
    now = time.monotonic()
    if found is None or now >= expires:
        found = tuple(row.as_custom() for row in AttributeDefinition.objects.order_by("name"))
        _memo[:] = [now + CACHE_SECONDS, found]
    return found


def custom_attributes_forget() -> None:
    _memo[:] = [0.0, None]


def custom_attributes_known(attributes: tuple[CustomAttribute, ...]) -> None:
    """Take these as the definitions until forgotten (tests start from none)."""
    _memo[:] = [float("inf"), attributes]


def custom_attribute_names() -> frozenset[str]:
    return frozenset(a.name for a in custom_attributes_current())


def custom_attributes_active() -> tuple[CustomAttribute, ...]:
    return tuple(a for a in custom_attributes_current() if a.active)


def custom_attribute_labels() -> dict[str, str]:
    """Name → label of every custom attribute (pages name them by their label)."""
    return {a.name: a.label for a in custom_attributes_current()}


def custom_key_name(attribute: CustomAttribute) -> str:
    """Its comparison key in `SourceRecord.keys`; identifiers are blocked on too."""
    return key_name(attribute.name, blocked=attribute.type == CustomType.IDENTIFIER)


def custom_comparisons(attributes: tuple[CustomAttribute, ...] | None = None) -> list[CustomComparison]:
    """The engine's comparisons of the active, compared custom attributes."""
    if attributes is None:
        attributes = custom_attributes_current()
    return [
        CustomComparison(name=a.name, method=a.comparison.value, key=custom_key_name(a),
                         tolerance=a.tolerance, tells_apart=a.tells_apart)
        for a in attributes if a.compared
    ]


def attribute_definitions_for_admin() -> QuerySet[AttributeDefinition]:
    return AttributeDefinition.objects.order_by("-active", "name")
