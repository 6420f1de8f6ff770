"""Custom attributes: an administrator adds one, changes how it is compared or survives,
archives it. No code change and no migration: values travel in JSON columns."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from rcu.attributes import COMPARISONS_OF_TYPE, RESERVED_NAMES, ComparisonMethod, CustomType
from rcu.models import AdminEvent, AttributeDefinition, ExtraIdentifier, MatchSettings
from rcu.selectors.attributes import custom_attributes_forget
from rcu.services.administration import AdminChange, admin_event_record
from rcu.services.changes import Actor, change_save
from rcu.survivorship import CONFIGURABLE_RULES, RULE_SOURCE_PRIORITY

# The rules a definition may name as its default (source priority needs a list of
# sources: that belongs in the survivorship rules themselves).
DEFAULT_RULES = tuple(r for r in CONFIGURABLE_RULES if r != RULE_SOURCE_PRIORITY)
EDITABLE = ("label", "comparison", "tolerance", "tells_apart", "survivorship", "active")


@dataclass(frozen=True)
class AttributeSpec:
    """What an administrator sets on a custom attribute (name and type only at creation)."""

    label: str
    comparison: str = ""  # "" = the default of its type
    tolerance: float = 0.0
    survivorship: str = ""
    active: bool = True
    # Two records that disagree on it are two people: such a pair is never linked
    # without a steward (a contradiction, `rcu.engine.custom.custom_comparison`).
    tells_apart: bool = False


def _check(*, kind: str, spec: AttributeSpec) -> None:
    errors: dict[str, list[str]] = {}
    if not spec.label.strip():
        errors.setdefault("label", []).append("is required")
    allowed = COMPARISONS_OF_TYPE[CustomType(kind)]
    if spec.comparison and ComparisonMethod(spec.comparison) not in allowed:
        errors.setdefault("comparison", []).append(
            f"{spec.comparison!r} does not compare a {kind} (known: {', '.join(allowed)})"
        )
    if spec.tolerance < 0:
        errors.setdefault("tolerance", []).append("must be zero or more")
    if spec.survivorship and spec.survivorship not in DEFAULT_RULES:
        errors.setdefault("survivorship", []).append(
            f"{spec.survivorship!r} is not a rule (known: {', '.join(DEFAULT_RULES)})"
        )
    if errors:
        raise ValidationError(errors)


def _after_commit(*, engine_changed: bool, survivorship_changed: bool, acting_user: Actor) -> None:
    """Every process forgets the definitions; the engine's comparisons follow them
    (`rcu.services.matching.context`), and the next run retrains the model when they
    changed; survivorship defaults apply to customers with several records."""
    custom_attributes_forget()
    transaction.on_commit(custom_attributes_forget)
    if engine_changed:
        # The model compares something else now: the next run tries to learn it
        # whatever size the base had at the last try.
        MatchSettings.objects.update(learning_tried_at_records=0)
    if survivorship_changed:
        from rcu.services.survivorship import survivorship_defaults_changed

        survivorship_defaults_changed(acting_user=acting_user)


@transaction.atomic
def attribute_definition_create(
    *, name: str, type: str, spec: AttributeSpec, acting_user: Actor
) -> AttributeDefinition:
    """A new custom attribute; refused (ValidationError) when its name is taken by a
    canonical attribute, a derived key, an extra identifier or another custom one."""
    if type not in CustomType.__members__.values():
        raise ValidationError({"type": [f"{type!r} is not a type (known: {', '.join(CustomType)})"]})
    if name in RESERVED_NAMES or ExtraIdentifier.objects.filter(code=name).exists():
        raise ValidationError({"name": [f"{name!r} is already an attribute or an identifier"]})
    if AttributeDefinition.objects.filter(name=name).exists():
        raise ValidationError({"name": [f"{name!r} is already a custom attribute"]})
    _check(kind=type, spec=spec)
    definition = AttributeDefinition(
        name=name, type=type, label=spec.label.strip(), comparison=spec.comparison,
        tolerance=spec.tolerance, survivorship=spec.survivorship, active=spec.active,
        tells_apart=spec.tells_apart,
    )
    definition.full_clean()
    change_save(definition, acting_user=acting_user, reason="custom attribute added")
    admin_event_record(
        action=AdminEvent.Action.ATTRIBUTE_ADDED, acting_user=acting_user,
        change=AdminChange(note=name, extra={"name": name, "type": type}),
    )
    _after_commit(engine_changed=definition.as_custom().compared, survivorship_changed=False,
                  acting_user=acting_user)
    return definition


@transaction.atomic
def attribute_definition_update(
    *, definition: AttributeDefinition, spec: AttributeSpec, acting_user: Actor
) -> AttributeDefinition:
    """Label, comparison, tolerance, whether it tells people apart, survivorship default,
    archived or not. A change of what the engine compares retrains the model at the next
    run (and the next full run applies a new "tells people apart" to every customer); a
    new survivorship default recomputes customers with several records in the
    background."""
    definition = AttributeDefinition.objects.get(pk=definition.pk)
    _check(kind=definition.type, spec=spec)
    before = definition.as_custom()
    wanted = {"label": spec.label.strip(), "comparison": spec.comparison,
              "tolerance": spec.tolerance, "tells_apart": spec.tells_apart,
              "survivorship": spec.survivorship, "active": spec.active}
    changed = [n for n in EDITABLE if getattr(definition, n) != wanted[n]]
    if not changed:
        return definition
    for n in changed:
        setattr(definition, n, wanted[n])
    definition.full_clean()
    change_save(definition, acting_user=acting_user, reason="custom attribute changed")
    admin_event_record(
        action=AdminEvent.Action.ATTRIBUTE_CHANGED, acting_user=acting_user,
        change=AdminChange(fields=tuple(changed), note=definition.name,
                           extra={n: wanted[n] for n in changed}),
    )
    after = definition.as_custom()
    engine_changed = (before.compared, before.comparison, before.tolerance, before.tells_apart) != (
        after.compared, after.comparison, after.tolerance, after.tells_apart)
    _after_commit(engine_changed=engine_changed,
                  survivorship_changed=before.survivorship != after.survivorship,
                  acting_user=acting_user)
    return definition
