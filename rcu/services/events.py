"""The outbox: change events written in the transaction of the change they describe.

Only `rcu.services.changes` calls this module, when it records a write to golden
customers: a rolled-back change leaves no event, a committed one its events. Each
customer's events are numbered (`version`) in the order they happened to it; the
writers of one customer hold its row lock (the lock order), so versions never race.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Max

from rcu import hooks
from rcu.actors import SystemActor
from rcu.attributes import CANONICAL_NAMES
from rcu.copy_rows import column_of, copy_insert
from rcu.db import chunks, copy_worthwhile, id_chunks, is_postgresql
from rcu.models import ChangeEvent, Customer

# The golden values an event carries: what a subscribing system may hold of a person.
EVENT_ATTRIBUTES: tuple[str, ...] = (*CANONICAL_NAMES, "extra_identifiers", "custom_attributes")
_WATCHED = frozenset((*EVENT_ATTRIBUTES, "merged_into_id", "restricted_at"))


def subscribable_attributes() -> tuple[str, ...]:
    """What a subscription may be given: the golden values, and what apps add to events
    (`rcu.hooks.customer_projection`: the GDPR app's ``consents``)."""
    return (*EVENT_ATTRIBUTES, *hooks.projected_attributes())


def event_json(value: Any) -> Any:
    """A golden value as an event carries it (dates in ISO 8601)."""
    return value.isoformat() if isinstance(value, date | datetime) else value


@dataclass
class CustomersBefore:
    """What the customers about to be updated looked like, for the events of the update."""

    fields: tuple[str, ...]
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)


def customers_before_update(
    ids: Iterable[int], fields: Iterable[str],
    known: Mapping[int, Mapping[str, Any]] | None = None,
) -> CustomersBefore | None:
    """Read what an update of `fields` may change (None: nothing an event reports);
    `known`: the rows as the caller read them under their lock (by attname, `public_id`
    too), not read again."""
    watched = tuple(f for f in fields if f in _WATCHED)
    if not watched:
        return None
    before = CustomersBefore(fields=watched)
    if known is not None:
        before.rows = {
            pk: {"public_id": known[pk]["public_id"], **{f: known[pk][f] for f in watched}}
            for pk in ids
        }
        return before
    names = ("public_id", *watched)
    for chunk in id_chunks(sorted(set(ids))):
        for pk, *values in Customer.objects.filter(pk__any_of=chunk).order_by().values_list("pk", *names):
            before.rows[pk] = dict(zip(names, values, strict=True))
    return before


def _versions_next(customer_ids: Iterable[int]) -> dict[int, int]:
    """Each customer's next event number. On PostgreSQL the ids go as one array and each
    is one backward probe of the (customer, version) index: a batch run numbers the
    events of hundreds of thousands of customers."""
    latest: dict[int, int] = {}
    ids = sorted(set(customer_ids))
    if is_postgresql():
        table = connection.ops.quote_name(ChangeEvent._meta.db_table)
        with connection.cursor() as cursor:
            for chunk in id_chunks(ids):
                cursor.execute(
                    f"SELECT c.id, (SELECT max(e.version) FROM {table} AS e WHERE "
                    "e.customer_id = c.id AND e.audience_id IS NULL) FROM unnest(%s) AS c(id)",
                    [chunk],
                )
                latest.update((pk, v) for pk, v in cursor.fetchall() if v is not None)
    else:
        for chunk in chunks(ids):
            latest.update(
                ChangeEvent.objects.filter(customer_id__in=chunk, audience__isnull=True)
                .values("customer_id").annotate(v=Max("version")).values_list("customer_id", "v")
            )
    return defaultdict(lambda: 1, {pk: v + 1 for pk, v in latest.items()})


def _actor_fields(actor: Any) -> dict[str, Any]:
    if isinstance(actor, SystemActor):
        return {"actor_id": None, "actor_job": actor.job[:100]}
    user_id = actor.pk if actor is not None and actor.is_authenticated else None
    return {"actor_id": user_id, "actor_job": ""}


def _write(events: Sequence[dict[str, Any]]) -> None:
    """Insert events given as column values by attname (a batch run writes hundreds of
    thousands: no model instance for each when they go by COPY)."""
    if not events:
        return
    if copy_worthwhile(len(events)):  # an import's thousands of `customer.created`
        copy_insert(model=ChangeEvent, now=events[0]["occurred_at"], rows=events)
    else:
        ChangeEvent.objects.bulk_create([ChangeEvent(**event) for event in events], batch_size=2000)
    # Once committed (never if rolled back), subscribers are told.
    transaction.on_commit(_subscribers_kick)


def _subscribers_kick() -> None:
    from rcu.models import Subscription
    from rcu.tasks import subscriptions_kick

    if Subscription.objects.filter(active=True, paused_at__isnull=True).exists():
        subscriptions_kick.delay()


def customers_created(
    *, customer_ids: Sequence[int], acting_user: Any, now: datetime,
    stored: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """`customer.created` for new customers, with their golden values as stored: made in
    the database from the rows for many (an import's batch), else from `stored` when the
    caller holds the rows it inserted (by attname, every column filled, as
    `rcu.services.changes.rows_insert` leaves them), else read back."""
    actor = _actor_fields(acting_user)
    if copy_worthwhile(len(customer_ids)):  # an import's thousands: made in the database
        _created_in_database(customer_ids=customer_ids, actor=actor, now=now)
        transaction.on_commit(_subscribers_kick)
        return
    if stored is None:
        rows: list[Mapping[str, Any]] = []
        for chunk in chunks(sorted(set(customer_ids))):
            rows.extend(Customer.objects.filter(pk__in=chunk).values("id", "public_id", *EVENT_ATTRIBUTES))
    else:
        rows = sorted(stored, key=lambda row: row["id"])
    _write([
        dict(
            type=ChangeEvent.Type.CREATED, customer_id=row["id"], customer_public_id=row["public_id"],
            version=1, occurred_at=now, **actor,
            changes={k: event_json(row[k]) for k in EVENT_ATTRIBUTES if row[k] not in ("", None, {})},
        )
        for row in rows
    ])


@cache
def _created_sql() -> str:
    """INSERT … SELECT of `customer.created` events from customer rows: the changes are
    the non-blank golden values, as `customers_created` builds them in Python."""
    quote = connection.ops.quote_name
    values = []
    for name in EVENT_ATTRIBUTES:
        field = Customer._meta.get_field(name)
        column = f"c.{quote(column_of(field))}"
        if isinstance(field, models.JSONField):
            value = f"NULLIF({column}, '{{}}'::jsonb)"
        elif isinstance(field, models.CharField | models.TextField):
            value = f"to_jsonb(NULLIF({column}, ''))"
        elif isinstance(field, models.DateField) and not isinstance(field, models.DateTimeField):
            value = f"to_jsonb({column})"  # ISO 8601, as `event_json`
        else:
            raise TypeError(f"no event form for {field!r}")
        values.append(f"('{name}', {value})")
    changes = (
        f"(SELECT COALESCE(jsonb_object_agg(a.k, a.v), '{{}}'::jsonb) FROM (VALUES {', '.join(values)}) "
        "AS a(k, v) WHERE a.v IS NOT NULL)"
    )
    columns = ["type", "customer_id", "customer_public_id", "version", "changes", "data",
               "actor_id", "actor_job", "occurred_at", "audience_id"]
    return (
        f"INSERT INTO {quote(ChangeEvent._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT %s, c.id, c.public_id, 1, {changes}, '{{}}'::jsonb, %s, %s, %s, NULL "
        f"FROM {quote(Customer._meta.db_table)} AS c WHERE c.id = ANY(%s) ORDER BY c.id"
    )


def _created_in_database(*, customer_ids: Sequence[int], actor: dict[str, Any], now: datetime) -> None:
    with connection.cursor() as cursor:
        for chunk in chunks(sorted(set(customer_ids))):
            cursor.execute(_created_sql(), [ChangeEvent.Type.CREATED.value, actor["actor_id"],
                                            actor["actor_job"], now, chunk])


def customers_updated(
    *, before: CustomersBefore, values: Mapping[int, Mapping[str, Any]], acting_user: Any,
    now: datetime, update_event: str | None = None,
) -> None:
    """The events of an update: merges (a customer retired into another), unmerges (a
    retired customer back on its own), and golden values that changed (`customer.updated`,
    or `update_event`: `customer.rectified` for a DPO's rectification)."""
    merged: dict[int, list[int]] = defaultdict(list)  # survivor → retired
    unmerged: dict[int, int] = {}  # restored → the survivor it leaves
    changed: dict[int, dict[str, Any]] = {}
    restricted: dict[int, datetime] = {}  # art. 18: restricted since
    lifted: set[int] = set()
    for pk, new in values.items():
        old = before.rows.get(pk)
        if old is None:
            continue
        if "restricted_at" in before.fields and "restricted_at" in new:
            if new["restricted_at"] is not None and old["restricted_at"] is None:
                restricted[pk] = new["restricted_at"]
            elif new["restricted_at"] is None and old["restricted_at"] is not None:
                lifted.add(pk)
        if "merged_into_id" in before.fields and "merged_into_id" in new:
            was, now_into = old["merged_into_id"], new["merged_into_id"]
            if now_into is not None and now_into != was:
                merged[now_into].append(pk)
            elif now_into is None and was is not None:
                unmerged[pk] = was
        diff = {
            name: event_json(new[name]) for name in before.fields
            if name in EVENT_ATTRIBUTES and name in new and event_json(new[name]) != event_json(old[name])
        }
        if diff:
            changed[pk] = diff
    if not (merged or unmerged or changed or restricted or lifted):
        return
    public = {pk: row["public_id"] for pk, row in before.rows.items()}
    unknown = (set(merged) | set(unmerged.values())) - set(public)
    for chunk in id_chunks(sorted(unknown)):
        public.update(
            Customer.objects.filter(pk__any_of=chunk).order_by().values_list("pk", "public_id")
        )
    version = _versions_next([*merged, *unmerged, *changed, *restricted, *lifted])
    actor = _actor_fields(acting_user)
    events: list[dict[str, Any]] = []

    def add(kind: str, pk: int, **fields: Any) -> None:
        events.append(dict(type=kind, customer_id=pk, customer_public_id=public[pk],
                           version=version[pk], occurred_at=now, **actor, **fields))
        version[pk] += 1

    for survivor, retired in sorted(merged.items()):
        add(ChangeEvent.Type.MERGED, survivor, data={
            "survivor_id": str(public[survivor]),
            "retired_ids": [str(public[r]) for r in sorted(retired)],
        })
    for pk, survivor in sorted(unmerged.items()):
        add(ChangeEvent.Type.UNMERGED, pk, data={"merged_from": str(public[survivor])})
    for pk, diff in sorted(changed.items()):
        add(update_event or ChangeEvent.Type.UPDATED, pk, changes=diff)
    # The restriction's events carry no reason (free text about the person stays here).
    for pk, since in sorted(restricted.items()):
        add(ChangeEvent.Type.RESTRICTED, pk, data={"restricted_at": event_json(since)})
    # Lifted: the golden values as they stand, and what apps add (the consents: one
    # withdrawn meanwhile reached no marketing subscriber), for those who heard nothing.
    projected = hooks.customer_projection(customer_ids=lifted) if lifted else {}
    for row in Customer.objects.filter(pk__in=sorted(lifted)).order_by("pk").values("pk", *EVENT_ATTRIBUTES):
        pk = row.pop("pk")
        add(ChangeEvent.Type.RESTRICTION_LIFTED, pk,
            changes={**{k: event_json(v) for k, v in row.items() if v not in ("", None, {})},
                     **projected.get(pk, {})})
    _write(events)


def customers_projection_changed(
    *, changes: Mapping[int, Mapping[str, Any]], acting_user: Any, now: datetime
) -> None:
    """`customer.updated` events for what apps add to the customers' projection
    (`rcu.hooks.customer_projection`): the values are already JSON."""
    ids = sorted(pk for pk, values in changes.items() if values)
    if not ids:
        return
    public: dict[int, Any] = {}
    for chunk in chunks(ids):
        public.update(Customer.objects.filter(pk__in=chunk).values_list("pk", "public_id"))
    version = _versions_next(ids)
    actor = _actor_fields(acting_user)
    _write([
        dict(type=ChangeEvent.Type.UPDATED, customer_id=pk, customer_public_id=public[pk],
             version=version[pk], occurred_at=now, changes=dict(changes[pk]), **actor)
        for pk in ids if pk in public
    ])


def customers_erased(
    *, customer_ids: Sequence[int], public_ids: Sequence[Any],
    source_refs: Mapping[int, Mapping[int, list[str]]], acting_user: Any, now: datetime,
) -> None:
    """One `customer.erased` per erased customer, carrying only ids: subscribers and
    sources erase it on their side. The customer rows are gone: ids come from the caller.
    `source_refs` (customer → source id → external ids) is for each source's own
    subscription alone (`rcu.services.deliveries.delivery_body`): a source erases by its
    own ids, and no other subscriber ever sees them."""
    version = _versions_next(customer_ids)
    actor = _actor_fields(acting_user)
    _write([
        dict(type=ChangeEvent.Type.ERASED, customer_id=pk, customer_public_id=public_id,
             version=version[pk], occurred_at=now, **actor,
             data={"source_refs": {str(s): sorted(ids) for s, ids in source_refs.get(pk, {}).items()}}
             if source_refs.get(pk) else {})
        for pk, public_id in zip(customer_ids, public_ids, strict=True)
    ])
