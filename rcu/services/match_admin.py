"""What administrators change about matching from the app: thresholds, runs."""

from __future__ import annotations

from django.db import transaction

from rcu.models import AdminEvent, MatchRun, MatchSettings
from rcu.services.administration import AdminChange, admin_event_record
from rcu.services.changes import change_save
from rcu.services.matching.batch import match_run_create
from rcu.services.matching.context import match_settings_get

EDITABLE = ("auto_link", "review", "max_block_size", "model_frozen")


@transaction.atomic
def match_settings_update(
    *, auto_link: float, review: float, max_block_size: int, model_frozen: bool, acting_user
) -> MatchSettings:
    """New thresholds hold for the next run (pairs scored under others are rescored)."""
    settings = match_settings_get()
    settings = MatchSettings.objects.select_for_update().get(pk=settings.pk)
    wanted = {"auto_link": auto_link, "review": review, "max_block_size": max_block_size,
              "model_frozen": model_frozen}
    changed = [name for name in EDITABLE if getattr(settings, name) != wanted[name]]
    if not changed:
        return settings
    for name in changed:
        setattr(settings, name, wanted[name])
    settings.full_clean(exclude=["model"])
    change_save(settings, acting_user=acting_user, reason="changed by an administrator")
    admin_event_record(
        action=AdminEvent.Action.MATCH_SETTINGS_CHANGED, acting_user=acting_user,
        change=AdminChange(fields=tuple(changed), extra={n: wanted[n] for n in changed}),
    )
    return settings


def match_run_start(*, full: bool, acting_user) -> MatchRun:
    """A batch run asked for from the app (a pending one not yet started is reused)."""
    run = match_run_create(full=full, acting_user=acting_user)
    admin_event_record(
        action=AdminEvent.Action.MATCH_RUN_STARTED, acting_user=acting_user,
        change=AdminChange(note=f"#{run.pk}", extra={"run": run.pk, "full": full}),
    )
    return run

