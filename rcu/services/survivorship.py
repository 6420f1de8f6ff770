"""Administrators' survivorship rules: saved (versioned), then applied in the background."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.db import transaction

from rcu.models import (
    AdminEvent,
    AttributeDefinition,
    ExtraIdentifier,
    SourceSystem,
    SurvivorshipSettings,
)
from rcu.selectors.survivorship import (
    CACHE_SECONDS,
    customers_with_several_records,
    survivorship_rules_forget,
)
from rcu.services.administration import AdminChange, admin_event_record
from rcu.services.changes import actor_user, actor_user_id, change_save, system_actor
from rcu.survivorship import SurvivorshipRules

RECOMPUTE_CHUNK = 2000


def survivorship_rules_parse(data) -> SurvivorshipRules:
    """Checked against the known sources and identifiers (RulesRefused lists problems)."""
    return SurvivorshipRules.from_json(
        data if isinstance(data, dict) else {"attributes": None},
        known_sources=frozenset(SourceSystem.objects.values_list("code", flat=True)),
        extra_units=frozenset(ExtraIdentifier.objects.values_list("code", flat=True))
        | frozenset(AttributeDefinition.objects.values_list("name", flat=True)),
    )


@transaction.atomic
def survivorship_rules_save(*, data, acting_user) -> SurvivorshipSettings:
    """Save new rules under the next version; every customer with several records is
    recomputed in the background (`survivorship_recompute_task`)."""
    from rcu.tasks import survivorship_recompute_task

    rules = survivorship_rules_parse(data)
    row, _created = SurvivorshipSettings.objects.select_for_update().get_or_create(pk=1)
    before = set(row.rules)
    row.version += 1
    row.rules = rules.to_json()["attributes"]
    row.updated_by = actor_user(acting_user)
    change_save(row, acting_user=acting_user, reason=f"rules v{row.version}")
    admin_event_record(
        action=AdminEvent.Action.SURVIVORSHIP_CHANGED, acting_user=acting_user,
        change=AdminChange(fields=tuple(sorted(before | set(row.rules))),
                           note=f"v{row.version}"),
    )
    transaction.on_commit(survivorship_rules_forget)
    transaction.on_commit(
        lambda: survivorship_recompute_task.delay(row.version, actor_user_id(acting_user))
    )
    return row


@transaction.atomic
def survivorship_defaults_changed(*, acting_user) -> SurvivorshipSettings:
    """A custom attribute's survivorship default changed: the rules in force take the
    next version (their provenance says which), and customers with several records are
    recomputed in the background like after a save of the rules."""
    from rcu.tasks import survivorship_recompute_task

    row, _created = SurvivorshipSettings.objects.select_for_update().get_or_create(pk=1)
    row.version += 1
    row.updated_by = actor_user(acting_user)
    change_save(row, acting_user=acting_user, reason=f"rules v{row.version}: custom attribute defaults")
    transaction.on_commit(survivorship_rules_forget)
    transaction.on_commit(
        lambda: survivorship_recompute_task.delay(row.version, actor_user_id(acting_user))
    )
    return row


def survivorship_recompute(*, version: int, acting_user_id: int | None) -> int:
    """Apply the rules of `version` to every customer they may change, a chunk per
    transaction; a newer version saved meanwhile takes over (this one stops)."""
    from django.conf import settings

    from rcu.services.customers import customers_recompute

    if not settings.CELERY_TASK_ALWAYS_EAGER:
        # Other processes may hold the old rules for CACHE_SECONDS: start after that,
        # so that whatever they recomputed meanwhile is recomputed again here.
        time.sleep(CACHE_SECONDS)
    survivorship_rules_forget()
    user = get_user_model().objects.filter(pk=acting_user_id).first() if acting_user_id else None
    actor = system_actor("survivorship rules", started_by=user)
    ids = list(customers_with_several_records())
    changed = 0
    for start in range(0, len(ids), RECOMPUTE_CHUNK):
        current = SurvivorshipSettings.objects.filter(pk=1).values_list("version", flat=True).first()
        if current != version:
            break
        with transaction.atomic():
            changed += customers_recompute(
                customer_ids=ids[start:start + RECOMPUTE_CHUNK], acting_user=actor,
                reason=f"survivorship rules v{version}",
            )
    return changed
