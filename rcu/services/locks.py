"""Row locks on customer data: one order for every writer, kept by construction.

Every writer (imports, real-time ingest, golden recomputation, batch apply, merge,
reject, detach, undo) takes its row locks through this module, in this order:

1. source rows (`SourceSystem`): writers of one source are serialised;
2. ledger rows (`Decision`) being undone;
3. customers, by id ascending: a record's customer is found without a lock, locked,
   then the record is locked and checked to still belong to a locked customer
   (a merge may have moved it meanwhile: its new customer is locked in turn);
4. source records, by id ascending;
5. merge candidates, by id ascending (before changing them or their departments);
6. per-source counters (`SourceStats`), by source id ascending.

A lease (`stewardship.services.leases`) is one conditional UPDATE of a candidate in a
transaction of its own: it may wait for a decision holding the candidate, and holds
nothing anyone waits for.

A transaction *waits* only for a lock that comes after every lock it holds in this
order. A lock that comes before one it holds (a record that moved to a customer of a
lower id, a matching scope that grew) is asked for with NOWAIT: granted at once, or
the transaction stops with `LockOrderRetry` and `retrying` (on the outermost service)
runs it again from the start, taking at once, in order, the customers the stopped
attempt needed. No transaction ever waits "backwards", so no cycle of waits, so no
deadlock, whatever mix of writers runs.

Writes below a customer (its records, their pairs, keys, pair decisions and
candidates) happen only once the customers concerned are locked here: the customer
lock is what guards them. Rows are locked FOR NO KEY UPDATE: writers change non-key
columns only, and the foreign-key checks of rows inserted meanwhile (a pair, a
candidate, a record pointing at a customer) take KEY SHARE locks, which this mode
lets through. Distinct customers never wait for each other: there is no global lock.

Documented exceptions (`select_for_update` elsewhere, on rows that are not customer
data, always taken before anything here by their own task or service):
- `ImportJob` in `rcu/services/imports.py` (one run of a job at a time);
- `MatchRun` and `MatchRunPartition` in `rcu/services/matching/batch.py` (one step of
  a batch run at a time);
- `ApiToken` in `rcu/services/tokens.py` (revoking a token, alone in its transaction);
- `Subscription` in `rcu/services/subscriptions.py`, `rcu/services/deliveries.py` and
  `rcu/services/snapshots.py` (one change, fan-out or snapshot chunk of a subscriber at
  a time), and `Delivery` in
  `rcu/services/deliveries.py` (one send of a delivery at a time, SKIP LOCKED): their
  transactions take no other lock.
- `MatchSettings` in `rcu/services/match_admin.py` and `SurvivorshipSettings` in
  `rcu/services/survivorship.py` (an administrator's change of the one settings row,
  alone in its transaction: two saves never share a version).
- `SubjectRequest` in `gdpr/services/requests.py`, `gdpr/services/rectification.py` and
  `gdpr/services/restriction.py`, and `RequestLetter` in
  `gdpr/services/letters.py` (the DPO's change of one request or one letter, locked
  first by its own service: two DPOs never both move, extend or refuse a request, nor
  both mark a letter sent; a service that goes on to customer data takes those locks
  here, after it).
`tests/rcu/test_lock_order.py` fails on any other `select_for_update`. The matching
queue is cleared here too (`pending_matches_clear`), skipping what others hold, and so
are the pairs a pending run drops to score again (`pairs_of_claimed_records_delete`).

Match pairs are not locked here: a batch run's scoring partitions store them holding
no customer lock. Every writer of pairs inserts them in (record a, record b) order
(`rcu.services.matching.pairs.match_pairs_store`), so writers of the same new pairs
wait for each other in one order too; a writer replacing the pairs of its records
inserts the new ones before it deletes the stale ones (`match_pairs_replace`): a delete
never waits on a partition, so nothing it holds can close a cycle.

On SQLite, which locks the whole database per write, the same calls run without row
locks and never ask to retry.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from django.db import OperationalError, connection, transaction
from django.db.models import Model, QuerySet

from rcu.db import id_chunks
from rcu.models import Customer, SourceRecord, SourceStats, SourceSystem

SOURCE, DECISION, CUSTOMER, RECORD, CANDIDATE, SOURCE_STATS = range(6)

# A service stopped by `LockOrderRetry` runs again this many times at most, after a
# short random pause (growing with each attempt) that lets the other writer finish.
ATTEMPTS = 8
PAUSE_SECONDS = 0.005
# Records moving between our unlocked read and our lock, again and again: give up
# waiting in place and start over.
RECHECK_ROUNDS = 4

LOCK_NOT_AVAILABLE = "55P03"

RECORD_FIELDS = ("pk", "customer_id", "source_id", "source__code", "external_id", "attributes",
                 "payload_hash")
CUSTOMER_FIELDS = ("pk", "public_id", "merged_into_id", "pinned")


@dataclass(frozen=True)
class LockedCustomer:
    """A customer as a decision reads it under its lock."""

    pk: int
    public_id: Any
    merged_into_id: int | None
    pinned: dict[str, dict[str, str]]


@dataclass(frozen=True)
class LockedRecord:
    """A source record as a decision reads it under its lock."""

    pk: int
    customer_id: int
    source_id: int
    source_code: str
    external_id: str
    attributes: dict[str, Any]
    payload_hash: str


class LockOrderRetry(Exception):
    """A lock before one already held was taken by another writer: start again."""


@dataclass
class _Held:
    """The locks this transaction took through this module."""

    marker: Callable[[], None]
    ids: dict[int, set[int]] = field(default_factory=dict)
    position: tuple[int, int] = (-1, -1)  # the last lock in the order held so far
    hinted: bool = False  # the customers a stopped attempt needed were asked for


# Per thread, while `retrying` runs a service: the customers its stopped attempts
# needed, locked with the first customers of the next attempt.
_retry = threading.local()


def _held() -> _Held:
    """This transaction's held locks. A marker registered with `on_commit` tells one
    transaction from the next: commit runs it, rollback drops it."""
    state: _Held | None = getattr(connection, "_rcu_locks", None)
    if state is not None and any(f is state.marker for _, f, *_ in connection.run_on_commit):
        return state

    # Our own state on Django's connection object, which declares no such attribute.
    def forget() -> None:
        connection._rcu_locks = None  # type: ignore[attr-defined]

    state = _Held(marker=forget)
    transaction.on_commit(forget)
    connection._rcu_locks = state  # type: ignore[attr-defined]  # as in forget()
    return state


T = TypeVar("T")
M = TypeVar("M", bound=Model)


def _lock(level: int, queryset: QuerySet[M], ids: Iterable[int], *, read: Callable[[QuerySet[M]], list[T]],
          of: tuple[str, ...] = (), lock_only: bool = False) -> list[T]:
    """Lock the rows of `queryset` with these ids (id order) at this level of the order
    and return what `read` reads of them. Rows before the position held: NOWAIT.
    `lock_only`: the caller reads nothing, so rows held already are not asked again."""
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return []
    if not connection.features.has_select_for_update:
        return [] if lock_only else read(queryset.filter(pk__in=wanted).order_by("pk"))
    if not connection.in_atomic_block:
        raise RuntimeError("row locks are taken inside a transaction")
    state = _held()
    held = state.ids.setdefault(level, set())
    hints = getattr(_retry, "customers", None)
    if level == CUSTOMER and hints and not state.hinted:
        state.hinted = True
        wanted = sorted(set(wanted) | hints)
    if lock_only and held.issuperset(wanted):
        return []
    behind = [i for i in wanted if (level, i) < state.position and i not in held]
    ahead = [i for i in wanted if (level, i) >= state.position or i in held]
    rows: list[T] = []

    def locked(chunk: list[int], *, nowait: bool) -> list[T]:
        return read(
            queryset.select_for_update(no_key=True, nowait=nowait, of=of)
            .filter(pk__any_of=chunk).order_by("pk")
        )

    if behind:
        try:
            for chunk in id_chunks(behind):
                rows += locked(chunk, nowait=True)
        except OperationalError as error:
            if getattr(error.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE:
                if hints is not None:
                    hints.update(state.ids.get(CUSTOMER, ()))
                    if level == CUSTOMER:
                        hints.update(wanted)
                raise LockOrderRetry(f"level {level}: rows {behind[:5]} held elsewhere") from error
            raise
    for chunk in id_chunks(ahead):  # ascending chunks: still one ascending order
        rows += locked(chunk, nowait=False)
    held.update(wanted)
    state.position = max(state.position, (level, wanted[-1]))
    return rows


def _values(*names: str) -> Callable[[QuerySet], list[dict[str, Any]]]:
    return lambda queryset: list(queryset.values(*names))


def _instances(queryset: QuerySet[M]) -> list[M]:
    return list(queryset)


def source_lock(source_id: int) -> None:
    """Serialise the writers of one source (two imports never race on an external id)."""
    _lock(SOURCE, SourceSystem.objects.all(), [source_id], read=_values("pk"), lock_only=True)


def source_lock_for_change(code: str) -> SourceSystem | None:
    """The source of this code, locked for a configuration change (None: new code)."""
    pk = SourceSystem.objects.filter(code=code).values_list("pk", flat=True).first()
    if pk is None:
        return None
    rows = _lock(SOURCE, SourceSystem.objects.all(), [pk], read=_instances)
    return rows[0] if rows else None


def decision_lock(decision_id: int):
    """The ledger row of a decision about to be undone, locked (None: no such decision)."""
    from stewardship.models import Decision  # the core does not import stewardship at load

    rows = _lock(DECISION, Decision.objects.all(), [decision_id], read=_instances, of=("self",))
    return rows[0] if rows else None


def customers_lock(ids: Iterable[int], *, fields: Iterable[str] = CUSTOMER_FIELDS) -> dict[int, dict]:
    """Lock these customers (id order); each as a dict of `fields` (pk always). Without
    fields, customers this transaction holds already are not asked again (nor returned)."""
    names = ("pk", *(f for f in fields if f != "pk"))
    rows = _lock(CUSTOMER, Customer.objects.all(), ids, read=_values(*names),
                 lock_only=names == ("pk",))
    return {row["pk"]: row for row in rows}


def customers_held() -> frozenset[int]:
    """The customers this transaction locked through this module."""
    if not connection.in_atomic_block or not connection.features.has_select_for_update:
        return frozenset()
    return frozenset(_held().ids.get(CUSTOMER, ()))


def candidates_lock_only(ids: Iterable[int]) -> None:
    """Lock these merge candidates (id order) before changing them or their departments;
    those this transaction holds already are not asked again."""
    from stewardship.models import MergeCandidate

    _lock(CANDIDATE, MergeCandidate.objects.all(), ids, read=_values("pk"), of=("self",),
          lock_only=True)


def customers_lock_queryset(ids: Iterable[int], read: Callable[[QuerySet], list[T]]) -> list[T]:
    """Lock these customers (id order) and read them with `read` (an annotated read)."""
    return _lock(CUSTOMER, Customer.objects.all(), ids, read=read)


def customers_lock_for_decision(ids: Iterable[int]) -> dict[int, LockedCustomer]:
    """Lock these customers (id order) and read what a steward decision needs."""
    return {
        pk: LockedCustomer(pk=pk, public_id=row["public_id"], merged_into_id=row["merged_into_id"],
                           pinned=row["pinned"] or {})
        for pk, row in customers_lock(ids).items()
    }


def records_of_customers_lock(customer_ids: Iterable[int]) -> list[LockedRecord]:
    """Lock every record of these customers, which the caller has locked (id order)."""
    ids = sorted(set(customer_ids))
    if not ids:
        return []
    record_ids = SourceRecord.objects.filter(customer_id__in=ids).values_list("pk", flat=True)
    rows = _lock(RECORD, SourceRecord.objects.all(), list(record_ids), read=_values(*RECORD_FIELDS),
                 of=("self",))
    # A record cannot join a locked customer meanwhile: its mover would hold the lock.
    wanted = set(ids)
    return sorted(
        (
            LockedRecord(pk=r["pk"], customer_id=r["customer_id"], source_id=r["source_id"],
                         source_code=r["source__code"], external_id=r["external_id"],
                         attributes=r["attributes"] or {}, payload_hash=r["payload_hash"])
            for r in rows if r["customer_id"] in wanted
        ),
        key=lambda r: r.pk,
    )


@dataclass(frozen=True)
class LockedRecords:
    """Records locked with their customers: each record's customer as it stands now."""

    customer_of: dict[int, int | None]

    @property
    def customer_ids(self) -> list[int]:
        return sorted({c for c in self.customer_of.values() if c is not None})


def records_lock(record_ids: Iterable[int]) -> LockedRecords:
    """Lock these records and the customers they belong to: customers first.

    A record's customer is read without a lock, locked, then the record is locked and
    checked to still belong to it; one that moved meanwhile has its new customer
    locked in turn (NOWAIT: it comes before the record locks held)."""
    ids = sorted({int(i) for i in record_ids})
    if not ids:
        return LockedRecords({})
    state_customers: set[int] = set()
    for _ in range(RECHECK_ROUNDS):
        seen = dict(SourceRecord.objects.filter(pk__in=ids).values_list("pk", "customer_id"))
        customers_lock({c for c in seen.values() if c is not None} - state_customers, fields=())
        state_customers |= {c for c in seen.values() if c is not None}
        rows = _lock(RECORD, SourceRecord.objects.all(), ids,
                     read=_values("pk", "customer_id"), of=("self",))
        current = {row["pk"]: row["customer_id"] for row in rows}
        if all(c is None or c in state_customers for c in current.values()):
            return LockedRecords(current)
    raise LockOrderRetry("records kept moving between customers")


def candidates_lock(ids: Iterable[int]) -> list:
    """Lock these merge candidates (id order), as model instances with who decided and
    who holds them."""
    from stewardship.models import MergeCandidate

    return _lock(
        CANDIDATE, MergeCandidate.objects.select_related("decided_by", "leased_by"), ids,
        read=_instances, of=("self",),
    )


def source_stats_lock(source_ids: Iterable[int]) -> None:
    """Lock these per-source counters (source id order), last of all."""
    _lock(SOURCE_STATS, SourceStats.objects.all(), source_ids, read=_values("pk"), lock_only=True)


def pending_matches_claim(*, run_id: int, record_ids: Iterable[int] | None = None) -> int:
    """A batch run takes on the records waiting (all, or these): returns how many.

    Entries another transaction is writing (a decision or an import queuing them, not
    yet committed) are skipped, not waited for: they are left to the run that
    transaction asks for, and a run never waits on writers of disjoint customers."""
    from rcu.models import PendingMatch

    ids = None if record_ids is None else sorted(set(record_ids))
    if not connection.features.has_select_for_update:
        queryset = PendingMatch.objects.all() if ids is None else PendingMatch.objects.filter(
            record_id__in=ids
        )
        return queryset.update(claimed_by=run_id)
    where, params = ("", []) if ids is None else ("WHERE record_id = ANY(%s) ", [ids])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rcu_pendingmatch SET claimed_by = %s WHERE record_id IN (SELECT record_id "
            f"FROM rcu_pendingmatch {where}FOR UPDATE SKIP LOCKED)",
            [run_id, *params],
        )
        return cursor.rowcount


def pending_matches_release(record_ids: Iterable[int]) -> None:
    """These records were just matched at once (real-time ingest): out of the queue,
    unless a batch run has claimed them, which then leaves them queued (claim cleared)
    for the next run, since it may have scored them as they were.

    Entries another transaction holds (a run claiming them) are skipped, not waited
    for: a run's prepare may wait on this ingest's pairs, never the other way."""
    from rcu.models import PendingMatch

    ids = sorted(set(record_ids))
    if not ids:
        return
    if not connection.features.has_select_for_update:
        PendingMatch.objects.filter(record_id__in=ids, claimed_by__isnull=True).delete()
        PendingMatch.objects.filter(record_id__in=ids).update(claimed_by=None)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH held AS (SELECT record_id, claimed_by FROM rcu_pendingmatch "
            "WHERE record_id = ANY(%s) FOR UPDATE SKIP LOCKED), "
            "released AS (DELETE FROM rcu_pendingmatch p USING held "
            "WHERE p.record_id = held.record_id AND held.claimed_by IS NULL) "
            "UPDATE rcu_pendingmatch p SET claimed_by = NULL FROM held "
            "WHERE p.record_id = held.record_id AND held.claimed_by IS NOT NULL",
            [ids],
        )


def pending_matches_clear(*, run_id: int) -> None:
    """Empty the matching queue of the records this batch run claimed and applied.

    Entries a real-time ingest holds are skipped, not waited for: that ingest holds
    customers this run may want, and clears its own entry (or, rolled back, leaves it
    for the next run). A record queued again since the claim is not this run's."""
    from rcu.models import PendingMatch

    if not connection.features.has_select_for_update:
        PendingMatch.objects.filter(claimed_by=run_id).delete()
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM rcu_pendingmatch WHERE record_id IN (SELECT record_id FROM "
            "rcu_pendingmatch WHERE claimed_by = %s FOR UPDATE SKIP LOCKED)",
            [run_id],
        )


def pairs_of_claimed_records_delete(*, run_id: int) -> None:
    """A pending run's first step drops the stored pairs of the records it claimed, to
    score them again.

    Pairs another transaction holds are skipped, not waited for: it is a real-time
    ingest (or a decision) deleting them, or replacing their scores with fresh ones,
    under the lock of its customers; once it commits they are gone or new, as the run
    would leave them (a partition keeps a pair already there). The run holds no
    customer lock: were it to wait on such a writer, which may wait on the pairs the
    run is deleting, the two would deadlock."""
    if not connection.features.has_select_for_update:
        with connection.cursor() as cursor:
            for side in ("record_a_id", "record_b_id"):
                cursor.execute(
                    f"DELETE FROM rcu_matchpair WHERE {side} IN "
                    "(SELECT record_id FROM rcu_pendingmatch WHERE claimed_by = %s)",
                    [run_id],
                )
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH claimed AS (SELECT record_id FROM rcu_pendingmatch WHERE claimed_by = %s) "
            "DELETE FROM rcu_matchpair WHERE id IN (SELECT id FROM rcu_matchpair "
            "WHERE record_a_id IN (SELECT record_id FROM claimed) "
            "OR record_b_id IN (SELECT record_id FROM claimed) FOR UPDATE SKIP LOCKED)",
            [run_id],
        )


P = ParamSpec("P")
R = TypeVar("R")


def retrying(func: Callable[P, R]) -> Callable[P, R]:
    """Run a writing service again (up to `ATTEMPTS` times) when it stops with
    `LockOrderRetry`. Only the outermost transaction can start again: inside a caller's
    transaction, the exception goes up to whoever owns it."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        if connection.in_atomic_block:
            return func(*args, **kwargs)
        _retry.customers = set()
        try:
            for attempt in range(ATTEMPTS):
                try:
                    return func(*args, **kwargs)
                except LockOrderRetry:
                    if attempt == ATTEMPTS - 1:
                        raise
                    time.sleep(random.uniform(0, PAUSE_SECONDS * 2**attempt))
            raise AssertionError("unreachable")
        finally:
            _retry.customers = None

    return wrapper
