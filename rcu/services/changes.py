"""The one way to record a change to tracked data: who made it, why, its history rows.

Every write service takes `acting_user`, a required keyword: the steward, admin or API
client behind the change, or a `SystemActor` when RCU itself acts (an import, a
matching run, a command). This module is the only code that turns an actor into the
user stored in history and the only code that talks to simple-history's internals
(its private `_history_user` / `_change_reason`, its bulk helpers); set-based SQL is
delegated to `rcu.services.history_sql`. Writes to golden customers also write their
change events (`rcu.services.events`, the outbox) in the same transaction: a change
that did not come through here was neither recorded nor told to subscribers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.db import models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from rcu import hooks
from rcu.actors import REALTIME_MATCHING, SystemActor
from rcu.models import Customer, SourceRecord
from rcu.services import events, history_sql

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

ModelT = TypeVar("ModelT", bound=models.Model)

# simple-history's `history_change_reason` column.
HISTORY_REASON_MAX = 100


Actor: TypeAlias = "User | AnonymousUser | SystemActor"


def system_actor(job: str, *, started_by: Actor | None = None) -> SystemActor:
    """RCU doing `job`, possibly at someone's request (kept as `started_by_id`)."""
    return SystemActor(job=job, started_by_id=actor_user_id(started_by) if started_by else None)


def actor_user(acting_user: Actor | None) -> User | None:
    """The user to store as the author of a change: None for RCU itself."""
    if isinstance(acting_user, SystemActor) or acting_user is None:
        return None
    return acting_user if acting_user.is_authenticated else None


def actor_user_id(acting_user: Actor | None) -> int | None:
    user = actor_user(acting_user)
    return user.pk if user is not None else None


def history_reason(reason: str, *, acting_user: Actor) -> str:
    """The reason as history stores it: whole where it fits, cut here and nowhere else.
    RCU's own changes carry the job that made them."""
    if isinstance(acting_user, SystemActor) and acting_user.job not in reason:
        reason = f"{acting_user.job}: {reason}" if reason else acting_user.job
    if len(reason) <= HISTORY_REASON_MAX:
        return reason
    return reason[: HISTORY_REASON_MAX - 1] + "…"


def _regrouped(model: type[models.Model], ids: Iterable[int], fields: Iterable[str], *,
               acting_user: Actor) -> None:
    """Records that changed customer, or customers retired or restored: apps that keep
    something per customer from its records follow (`rcu.hooks.customers_regrouped`)."""
    fields = set(fields)
    if model is SourceRecord and fields & {"customer", "customer_id"}:
        hooks.customers_regrouped(record_ids=ids, acting_user=acting_user)
    elif model is Customer and fields & {"merged_into", "merged_into_id"}:
        hooks.customers_regrouped(customer_ids=ids, acting_user=acting_user)


def change_save(instance: models.Model, *, acting_user: Actor, reason: str, **save_options: Any) -> None:
    """Save one tracked instance; its history row names the actor and the reason."""
    _mark(instance, acting_user=acting_user, reason=reason)
    if not isinstance(instance, Customer):
        adding = instance._state.adding
        instance.save(**save_options)
        if not adding and "update_fields" in save_options:
            _regrouped(type(instance), [instance.pk], save_options["update_fields"], acting_user=acting_user)
        elif not adding and isinstance(instance, SourceRecord):
            _regrouped(SourceRecord, [instance.pk], ["customer"], acting_user=acting_user)
        return
    adding = instance._state.adding
    fields = save_options.get("update_fields") or [f.attname for f in Customer._meta.concrete_fields]
    before = None if adding else events.customers_before_update([instance.pk], fields)
    instance.save(**save_options)
    now = timezone.now()
    if adding:
        events.customers_created(customer_ids=[instance.pk], acting_user=acting_user, now=now)
    elif before is not None:
        events.customers_updated(
            before=before, values={instance.pk: {f: getattr(instance, f) for f in before.fields}},
            acting_user=acting_user, now=now,
        )
    if not adding:
        _regrouped(Customer, [instance.pk], fields, acting_user=acting_user)


def change_save_with_m2m(
    instance: models.Model, *, m2m: Mapping[str, Iterable[Any]], acting_user: Actor, reason: str
) -> None:
    """Save one tracked instance and set its many-to-many fields: ONE history row, holding
    the new values and the new relations (for a model tracking them with
    `HistoricalRecords(m2m_fields=…)`), instead of one row per save, add and remove."""
    _mark(instance, acting_user=acting_user, reason=reason)
    adding = instance._state.adding
    instance.skip_history_when_saving = True  # type: ignore[attr-defined]  # simple-history's hook
    try:
        if adding:
            instance.save()
        for name, values in m2m.items():
            getattr(instance, name).set(list(values))
    finally:
        del instance.skip_history_when_saving  # type: ignore[attr-defined]
    if adding:  # the "+" row, now that the relations are there
        models.signals.post_save.send(
            sender=type(instance), instance=instance, created=True, raw=False,
            using=instance._state.db, update_fields=None,
        )
    else:
        instance.save()


def change_delete(instance: models.Model, *, acting_user: Actor, reason: str) -> None:
    """Delete one tracked instance; the "-" history row names the actor and the reason."""
    _mark(instance, acting_user=acting_user, reason=reason)
    instance.delete()


def _mark(instance: models.Model, *, acting_user: Actor, reason: str) -> None:
    instance._history_user = actor_user(acting_user)  # type: ignore[attr-defined]  # simple-history's hook
    instance._change_reason = history_reason(  # type: ignore[attr-defined]  # simple-history's hook
        reason, acting_user=acting_user
    )


def changes_create(
    model: type[ModelT], objects: Sequence[ModelT], *, acting_user: Actor, reason: str,
    batch_size: int = 2000,
) -> list[ModelT]:
    """Insert instances with one "+" history row each (their ids set on them)."""
    if not objects:
        return []
    created = bulk_create_with_history(
        list(objects), model, batch_size=batch_size, default_user=actor_user(acting_user),
        default_change_reason=history_reason(reason, acting_user=acting_user),
    )
    if model is Customer:
        events.customers_created(customer_ids=[c.pk for c in created], acting_user=acting_user,
                                 now=timezone.now())
    return created


def changes_update(
    model: type[ModelT], objects: Sequence[ModelT], fields: Sequence[str], *,
    acting_user: Actor, reason: str, batch_size: int = 2000,
) -> None:
    """Update `fields` of loaded instances with one "~" history row each."""
    if not objects:
        return
    before = (
        events.customers_before_update([o.pk for o in objects], fields) if model is Customer else None
    )
    bulk_update_with_history(
        list(objects), model, list(fields), batch_size=batch_size,
        default_user=actor_user(acting_user),
        default_change_reason=history_reason(reason, acting_user=acting_user),
    )
    if before is not None:
        events.customers_updated(
            before=before, values={o.pk: {f: getattr(o, f) for f in before.fields} for o in objects},
            acting_user=acting_user, now=timezone.now(),
        )
    _regrouped(model, [o.pk for o in objects], fields, acting_user=acting_user)


def rows_insert(
    *, model: type[models.Model], rows: list[dict[str, Any]], acting_user: Actor, reason: str,
    now: datetime | None = None,
) -> list[int]:
    """Insert plain rows (dicts keyed by attname) with their history; the new ids, in
    order. PostgreSQL only: COPY, ids allocated first so rows can point at each other."""
    now = now or timezone.now()
    ids = history_sql.pg_insert_with_history(
        model=model, rows=rows, now=now, acting_user_id=actor_user_id(acting_user),
        reason=history_reason(reason, acting_user=acting_user),
    )
    if model is Customer:  # the rows now hold every stored value, ids and defaults too
        events.customers_created(customer_ids=ids, acting_user=acting_user, now=now, stored=rows)
    return ids


def rows_insert_new(
    *, model: type[models.Model], rows: list[dict[str, Any]], unique_on: Sequence[str],
    acting_user: Actor, reason: str, now: datetime | None = None,
) -> dict[tuple, int]:
    """Insert the rows whose `unique_on` values are not in the table yet (another writer
    may have inserted some since we looked); the new ids by those values. PostgreSQL only."""
    return history_sql.pg_insert_new_with_history(
        model=model, rows=rows, unique_on=unique_on, now=now or timezone.now(),
        acting_user_id=actor_user_id(acting_user),
        reason=history_reason(reason, acting_user=acting_user),
    )


def rows_update(
    *, model: type[models.Model], values: Mapping[int, Mapping[str, Any]], fields: Iterable[str],
    acting_user: Actor, reason: str, now: datetime | None = None,
    update_event: str | None = None, current: Mapping[int, Mapping[str, Any]] | None = None,
) -> None:
    """Set `fields` (attnames) of rows by id (`values`: id → {attname: value}) without
    loading them, with one "~" history row each. Golden values that changed become
    `customer.updated` events, or `update_event` when given (`customer.rectified`).
    `current`: customers' rows as the caller read them under their lock (`fields` and
    `public_id`), so that their events need not read them again."""
    fields = list(fields)
    now = now or timezone.now()
    before = (
        events.customers_before_update(values, fields, current)
        if model is Customer and values else None
    )
    history_sql.rows_update_with_history(
        model=model, values=values, fields=fields, now=now,
        acting_user_id=actor_user_id(acting_user),
        reason=history_reason(reason, acting_user=acting_user),
    )
    if before is not None:
        events.customers_updated(before=before, values=values, acting_user=acting_user, now=now,
                                 update_event=update_event)
    _regrouped(model, values, fields, acting_user=acting_user)


def customers_projection_changed(
    *, changes: Mapping[int, Mapping[str, Any]], acting_user: Actor, now: datetime | None = None
) -> None:
    """What an app adds to customers' events changed (`rcu.hooks.customer_projection`):
    one `customer.updated` each, carrying the new values (`changes`: customer id → name →
    value), numbered after the customer's other events."""
    events.customers_projection_changed(changes=changes, acting_user=acting_user,
                                        now=now or timezone.now())


def customers_erased_record(
    *, customer_ids: Sequence[int], public_ids: Sequence[Any],
    source_refs: Mapping[int, Mapping[int, list[str]]], acting_user: Actor,
    now: datetime | None = None,
) -> None:
    """Record that these customers were erased (`rcu.services.erasure`): their rows and
    history are gone, so what remains is one `customer.erased` event each, ids only
    (`source_refs`: each source's own external ids, for that source alone)."""
    events.customers_erased(customer_ids=customer_ids, public_ids=public_ids,
                            source_refs=source_refs, acting_user=acting_user,
                            now=now or timezone.now())


__all__ = [
    "REALTIME_MATCHING",
    "Actor",
    "SystemActor",
    "actor_user",
    "actor_user_id",
    "change_delete",
    "change_save",
    "changes_create",
    "changes_update",
    "customers_erased_record",
    "customers_projection_changed",
    "history_reason",
    "rows_insert",
    "rows_insert_new",
    "rows_update",
    "system_actor",
]
