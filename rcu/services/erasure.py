"""Erasure (GDPR art. 17): a person's data removed from everything RCU holds.

`persons_erase` erases the given customers, every customer ever merged into them that
is still retired into them (transitively), all their source records and the given
records, in one transaction, locks taken in the documented order
(`rcu.services.locks`). What it does, table by table and file by file, is in
docs/erasure.md; `ERASURE_COVERAGE` says it for each model of the core and the apps
declare theirs through `rcu.hooks.erasure_covers` (tests/rcu/test_erasure_coverage.py
fails on a model nobody declared).

The guiding rule for rows of *other* customers (their history rows, their change
events, a steward decision's snapshots): a value is removed only where its
provenance points at an erased source record, never because it equals the person's
value (another Martin in the same town keeps his). Aggregates that cannot carry
provenance (a file audit's report, a run's skipped keys) lose the entries that name
an erased record's external id or carry one of the person's unique identifiers
(e-mail, phone, identifier).

What is kept: the change events of the erased customers as id-only tombstones (so a
replay sends the tombstone, and each subscriber's stream keeps its order), their
deliveries, one `customer.erased` event per erased customer, and a keyed hash of every
public id that resolved to them (`ErasedCustomer`), so that the id answers 410 Gone.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rcu import hooks
from rcu.attributes import CANONICAL_NAMES
from rcu.hooks import ErasureCount
from rcu.models import (
    ChangeEvent,
    Customer,
    Delivery,
    ErasedCustomer,
    FieldMapping,
    GenericValue,
    ImportAudit,
    ImportJob,
    ImportRowError,
    MatchPair,
    MatchRun,
    MatchSettings,
    PairDecision,
    PendingMatch,
    SourceRecord,
    SourceStats,
    SourceSystem,
    public_id_hash,
    public_id_pseudonym,
)
from rcu.services import erasure_history
from rcu.services.changes import Actor, customers_erased_record, rows_update
from rcu.services.customers import customers_recompute
from rcu.services.locks import customers_lock, records_lock, retrying, source_stats_lock
from rcu.services.matching.keys import blocking_keys_of, match_keys_delete

# Attributes whose values identify one person: the needles for aggregates and free text.
UNIQUE_ATTRIBUTES = ("email", "phone", "mobile")
NAME_ATTRIBUTES = ("first_name", "last_name", "address_line1", "address_line2")
# Shorter values are too common to look for in free text.
MIN_NEEDLE = 4
# What replaces the person's values in free text (a steward's reason).
ERASED_TEXT = "[…]"

# How the erasure handles each model of the core (tests/rcu/test_erasure_coverage.py).
ERASURE_COVERAGE: dict[str, str] = {
    "rcu.Customer": "the erased customers deleted",
    "rcu.HistoricalCustomer": "rows of erased customers deleted; rows of others scrubbed "
    "field by field where provenance points at an erased record",
    "rcu.SourceRecord": "deleted",
    "rcu.HistoricalSourceRecord": "deleted",
    "rcu.MatchKey": "deleted",
    "rcu.PendingMatch": "deleted",
    "rcu.MatchPair": "deleted",
    "rcu.PairDecision": "deleted",
    "rcu.HistoricalPairDecision": "deleted",
    "rcu.ChangeEvent": "erased customers' events emptied (id-only tombstones); others' "
    "scrubbed where the customer's provenance then pointed at an erased record; one "
    "customer.erased event each",
    "rcu.Delivery": "kept: points at tombstones (ids, status, attempts; no values)",
    "rcu.ImportRowError": "the person's rejected rows deleted",
    "rcu.ImportJob": "uploaded and rejects files rewritten without the person's rows",
    "rcu.ImportAudit": "report entries naming the person removed; a kept upload rewritten",
    "rcu.MatchRun": "skipped keys carrying the person's identifiers removed",
    "rcu.GenericValue": "a value of the person deleted (a later run detects it again if "
    "it is still shared)",
    "rcu.HistoricalGenericValue": "rows of deleted values deleted",
    "rcu.MatchSettings": "the person's values taken out of the term-frequency tables",
    "rcu.HistoricalMatchSettings": "the same in every history row",
    "rcu.SourceStats": "adjusted by what the erasure took (equal to a recount)",
    "rcu.ErasedCustomer": "written: a keyed hash per erased public id, nothing else",
}

# Models that hold no personal data of customers, with the reason.
NO_PERSONAL_DATA: dict[str, str] = {
    "rcu.SourceSystem": "a source's configuration",
    "rcu.HistoricalSourceSystem": "a source's configuration",
    "rcu.FieldMapping": "a source's configuration",
    "rcu.HistoricalFieldMapping": "a source's configuration",
    "rcu.ExtraIdentifier": "the kinds of identifier, not their values",
    "rcu.HistoricalExtraIdentifier": "the kinds of identifier, not their values",
    "rcu.AttributeDefinition": "the custom attributes of the model, not their values",
    "rcu.HistoricalAttributeDefinition": "the custom attributes of the model, not their values",
    "rcu.Department": "the organisation",
    "rcu.HistoricalDepartment": "the organisation",
    "rcu.ApiToken": "staff accounts' credentials",
    "rcu.HistoricalApiToken": "staff accounts' credentials",
    "rcu.AdminEvent": "what administrators changed in the configuration and accounts",
    "rcu.SurvivorshipSettings": "rules per attribute",
    "rcu.HistoricalSurvivorshipSettings": "rules per attribute",
    "rcu.MatchRunPartition": "counts and durations",
    "rcu.PeriodicRun": "what a periodic task did: counts, times, an exception's class",
    "rcu.Subscription": "a subscriber's configuration",
    "rcu.HistoricalSubscription": "a subscriber's configuration",
    "quality.QualitySnapshot": "aggregates: a day measured",
    "quality.QualityFigure": "aggregates: numerator and denominator per scope",
    "quality.QualityRule": "rules",
    "quality.HistoricalQualityRule": "rules",
}

# File fields and stored paths the erasure rewrites (label.field → how).
FILE_STORES: dict[str, str] = {
    "rcu.ImportJob.upload": "rewritten without the person's rows",
    "rcu.ImportJob.file_path": "rewritten when under MEDIA_ROOT (an operator's own file "
    "elsewhere is counted, not touched)",
    "rcu.ImportJob.rejects_file": "rewritten without the person's rejected rows",
    "rcu.ImportAudit.upload": "rewritten without the person's rows (removed once audited)",
    "rcu.ImportAudit.file_path": "rewritten when under MEDIA_ROOT, as an import's",
}


@dataclass(frozen=True)
class ErasureScope:
    customer_ids: list[int]
    record_ids: list[int]
    public_ids: list[uuid.UUID]
    # Customers outside the scope that lose records: recomputed from what is left.
    recompute_ids: list[int]
    # Customers outside the scope that ever held an erased record (wrong merge, unmerge).
    other_ids: list[int]
    # (source code, external id) of every erased record.
    refs: frozenset[tuple[str, str]]
    external_ids_by_source: dict[int, frozenset[str]]


@dataclass
class ErasureReport:
    """What an erasure did (or would do): counts per table and file store, the sources
    concerned. No identifier of the person."""

    customers: int = 0
    records: int = 0
    source_ids: list[int] = field(default_factory=list)
    counts: list[ErasureCount] = field(default_factory=list)
    preview: bool = False

    def add(self, store: str, action: str, count: int) -> None:
        if count:
            self.counts.append(ErasureCount(store=store, action=action, count=count))

    def count(self, store: str, action: str = "deleted") -> int:
        return sum(c.count for c in self.counts if c.store == store and c.action == action)

    def totals(self) -> dict[str, int]:
        """"store action" → count, summed."""
        totals: dict[str, int] = defaultdict(int)
        for c in self.counts:
            totals[f"{c.store} {c.action}"] += c.count
        return dict(sorted(totals.items()))


def erasure_scope(*, customer_ids: Iterable[int], record_ids: Iterable[int] = ()) -> ErasureScope:
    """Who and what an erasure of these customers and records takes (unlocked read)."""
    customers = set(customer_ids)
    records = set(record_ids)
    given_records = set(records)
    outside: set[int] = set()
    while True:
        customers |= _absorbed(customers)
        records |= set(SourceRecord.objects.filter(customer_id__in=customers).values_list("pk", flat=True))
        outside = set(
            SourceRecord.objects.filter(pk__in=given_records).exclude(customer_id__in=customers)
            .values_list("customer_id", flat=True)
        ) - {None}
        keeping = set(
            SourceRecord.objects.filter(customer_id__in=outside).exclude(pk__in=records)
            .values_list("customer_id", flat=True)
        )
        emptied = outside - keeping
        if not emptied:
            break
        customers |= emptied  # a customer left without records is the person's too
    ever = {
        row["customer"] for row in erasure_history.history_rows_read(
            SourceRecord, field="id", ids=records, fields=("customer",)
        ) if row["customer"] is not None
    }
    rows = list(SourceRecord.objects.filter(pk__in=records).values_list("source_id", "source__code", "external_id"))
    by_source: dict[int, set[str]] = defaultdict(set)
    for source_id, _, external_id in rows:
        by_source[source_id].add(external_id)
    existing = dict(Customer.objects.filter(pk__in=customers).values_list("pk", "public_id"))
    return ErasureScope(
        customer_ids=sorted(existing),
        record_ids=sorted(records),
        public_ids=[existing[pk] for pk in sorted(existing)],
        recompute_ids=sorted(outside),
        other_ids=sorted(ever - set(existing)),
        refs=frozenset((code, external_id) for _, code, external_id in rows),
        external_ids_by_source={k: frozenset(v) for k, v in by_source.items()},
    )


def _absorbed(customers: set[int]) -> set[int]:
    found = set(customers)
    frontier = set(customers)
    while frontier:
        frontier = set(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found


@dataclass(frozen=True)
class PersonValues:
    """The person's values looked for where provenance cannot say (lower-case)."""

    unique: frozenset[str]  # e-mails, phones in every form, extra identifiers
    names: frozenset[str]  # names and address lines

    @property
    def all(self) -> frozenset[str]:
        return self.unique | self.names


def phone_forms(value: str) -> set[str]:
    """A phone as people write it: E.164, national with and without spaces."""
    digits = "".join(ch for ch in value if ch.isdigit() or ch == "+")
    forms = {value, digits}
    if digits.startswith("+33") and len(digits) == 12:
        national = "0" + digits[3:]
        forms |= {national, " ".join(national[i:i + 2] for i in range(0, 10, 2))}
    return {f for f in forms if f}


def _person_values(scope: ErasureScope) -> PersonValues:
    unique: set[str] = set()
    names: set[str] = set()
    raw_fields: dict[int, dict[str, str]] = defaultdict(dict)  # source → raw field → attribute
    for source_id, attribute, fields in FieldMapping.objects.filter(
        source_id__in=scope.external_ids_by_source
    ).values_list("source_id", "attribute", "source_fields"):
        for name in fields or ():
            raw_fields[source_id][name] = attribute
    for source_id, attributes, keys, raw in SourceRecord.objects.filter(
        pk__in=scope.record_ids
    ).values_list("source_id", "attributes", "keys", "raw"):
        for name, value in (attributes or {}).items():
            _add_value(name, value, unique, names)
        for name, value in (keys or {}).items():  # comparison forms of the same values
            if name in (*UNIQUE_ATTRIBUTES, *NAME_ATTRIBUTES):
                _add_value(name, value, unique, names)
        for name, value in (raw or {}).items():
            if isinstance(value, str) and name in raw_fields[source_id]:
                _add_value(raw_fields[source_id][name], value, unique, names)
    return PersonValues(
        unique=frozenset(v.lower() for v in unique if len(v) >= MIN_NEEDLE),
        names=frozenset(v.lower() for v in names if len(v) >= MIN_NEEDLE),
    )


def _add_value(attribute: str, value: Any, unique: set[str], names: set[str]) -> None:
    if not isinstance(value, str) or not value.strip():
        return
    value = value.strip()
    if attribute in ("phone", "mobile"):
        unique |= phone_forms(value)
    elif attribute == "email" or attribute not in CANONICAL_NAMES:
        unique.add(value)  # e-mail, extra identifiers
    elif attribute in NAME_ATTRIBUTES:
        names.add(value)


def mentions(text: str, values: Iterable[str]) -> bool:
    lowered = text.lower()
    return any(v in lowered for v in values)


@dataclass(frozen=True)
class LegalHold:
    """A documented, reasoned exception recorded on the request (invoicing data kept ten
    years…): the person's records of this source are kept, and nothing else. With
    `attributes`, a held record keeps only those canonical attributes (and the raw fields
    mapped to them); without, the whole record. A held record is detached from any
    customer and marked deleted at its source (out of survivorship and matching); its
    history, keys, pairs and file rows still go."""

    source_code: str
    reason: str
    attributes: tuple[str, ...] = ()


@retrying
def persons_erase(
    *, customer_ids: Sequence[int], record_ids: Sequence[int] = (), acting_user: Actor,
    legal_holds: Sequence[LegalHold] = (), reason: str = "erasure",
) -> ErasureReport:
    """Erase these customers, everything merged into them, their records and these
    records: nothing of the person is left but what a legal hold names
    (docs/erasure.md). One transaction."""
    with transaction.atomic():
        return _erase(customer_ids=customer_ids, record_ids=record_ids, acting_user=acting_user,
                      legal_holds=legal_holds, reason=reason, preview=False)


class _Preview(Exception):
    def __init__(self, report: ErasureReport) -> None:
        self.report = report


@retrying
def persons_erase_preview(
    *, customer_ids: Sequence[int], record_ids: Sequence[int] = (), acting_user: Actor,
    legal_holds: Sequence[LegalHold] = (),
) -> ErasureReport:
    """What `persons_erase` would do, with the same counts: the erasure run in a
    transaction that is rolled back (files read, never written)."""
    try:
        with transaction.atomic():
            report = _erase(customer_ids=customer_ids, record_ids=record_ids,
                            acting_user=acting_user, legal_holds=legal_holds,
                            reason="erasure preview", preview=True)
            raise _Preview(report)
    except _Preview as done:
        done.report.preview = True
        return done.report


def _erase(
    *, customer_ids: Sequence[int], record_ids: Sequence[int], acting_user: Actor,
    legal_holds: Sequence[LegalHold], reason: str, preview: bool,
) -> ErasureReport:
    scope = erasure_scope(customer_ids=customer_ids, record_ids=record_ids)
    held = _held_records(scope, legal_holds)
    report = ErasureReport(customers=len(scope.customer_ids), records=len(scope.record_ids),
                           source_ids=sorted(scope.external_ids_by_source))
    if not scope.customer_ids and not scope.record_ids:
        return report
    # Locks in the documented order: customers (ours, those losing records, those whose
    # history or events are scrubbed), then the records, then the per-source counters.
    customers_lock([*scope.customer_ids, *scope.recompute_ids, *scope.other_ids], fields=())
    records_lock(scope.record_ids)
    values = _person_values(scope)
    now = timezone.now()

    _events_scrub(scope, report, acting_user=acting_user)
    _customer_history_scrub(scope, report)
    _reasons_scrub(scope, report, values)
    report.counts += hooks.person_erasing(
        customer_ids=scope.customer_ids, record_ids=scope.record_ids,
        public_ids=[str(p) for p in scope.public_ids], values=values.all,
        acting_user=acting_user, preview=preview,
    )
    _matching_delete(scope, report)
    _imports_scrub(scope, report, values, preview=preview)
    _engine_scrub(scope, report, values)
    source_refs = _source_refs(scope, held=held)
    stats = _stats_deltas(scope, held=held)
    _rows_delete(scope, report, now=now, held=held, holds=legal_holds)
    _current_scrub(scope, acting_user=acting_user, reason=reason)
    if scope.recompute_ids:
        customers_recompute(customer_ids=scope.recompute_ids, acting_user=acting_user, reason=reason)
    customers_erased_record(customer_ids=scope.customer_ids, public_ids=scope.public_ids,
                            source_refs=source_refs, acting_user=acting_user, now=now)
    report.add("rcu.ChangeEvent", "written", len(scope.customer_ids))
    source_stats_lock(scope.external_ids_by_source)
    for source_id, (records, customers) in sorted(stats.items()):
        SourceStats.objects.filter(pk=source_id).update(
            record_count=F("record_count") - records, customer_count=F("customer_count") - customers,
        )
    return report


def _stats_deltas(scope: ErasureScope, *, held: Sequence[int]) -> dict[int, tuple[int, int]]:
    """What the erasure takes from each source's counts: its records deleted, and the
    customers left with no record of it (an erased customer; a customer losing its
    last record of the source; a held record's customer, as it is detached). Counted
    before the rows go, by index, instead of recounting the sources (seconds at 1M)."""
    rows = list(SourceRecord.objects.filter(pk__in=scope.record_ids).values_list("pk", "source_id", "customer_id"))
    kept_held = set(held)
    records = Counter(source_id for pk, source_id, _ in rows if pk not in kept_held)
    pairs = {(customer_id, source_id) for _, source_id, customer_id in rows if customer_id is not None}
    still = set(
        SourceRecord.objects.filter(customer_id__in={c for c, _ in pairs})
        .exclude(pk__in=scope.record_ids).values_list("customer_id", "source_id").distinct()
    )
    customers = Counter(source_id for customer_id, source_id in pairs if (customer_id, source_id) not in still)
    return {source_id: (records[source_id], customers[source_id]) for source_id in set(records) | set(customers)}


def _held_records(scope: ErasureScope, holds: Sequence[LegalHold]) -> list[int]:
    codes = {hold.source_code for hold in holds}
    if not codes:
        return []
    unknown = codes - set(SourceSystem.objects.filter(code__in=codes).values_list("code", flat=True))
    if unknown:
        raise ValueError(f"legal hold on unknown sources: {sorted(unknown)}")
    return list(SourceRecord.objects.filter(pk__in=scope.record_ids, source__code__in=codes)
                .values_list("pk", flat=True))


def _source_refs(scope: ErasureScope, *, held: Sequence[int]) -> dict[int, dict[int, list[str]]]:
    """Each erased customer's records, by source: what each source is told to erase (a
    source whose records are held keeps them: it is not told)."""
    refs: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for customer_id, source_id, external_id in SourceRecord.objects.filter(
        customer_id__in=scope.customer_ids
    ).exclude(pk__in=held).values_list("customer_id", "source_id", "external_id"):
        refs[customer_id][source_id].append(external_id)
    return {pk: dict(by_source) for pk, by_source in refs.items()}


# --- change events ------------------------------------------------------------------

def _events_scrub(scope: ErasureScope, report: ErasureReport, *, acting_user: Actor) -> None:
    """Erased customers' events become tombstones; other customers' events lose the
    values that, when the event was written, came from an erased record."""
    tombstoned = ChangeEvent.objects.filter(customer_id__in=scope.customer_ids).update(changes={}, data={})
    report.add("rcu.ChangeEvent", "tombstoned", tombstoned)
    if not scope.other_ids:
        return
    history = _provenance_timeline(scope.other_ids)
    scrubbed = 0
    for event in ChangeEvent.objects.filter(customer_id__in=scope.other_ids).exclude(changes={}):
        provenance = _provenance_at(history.get(event.customer_id, []), event.occurred_at)
        erased = _erased_attributes(provenance, scope.refs)
        kept = {k: v for k, v in event.changes.items() if k not in erased}
        for column in ("extra_identifiers", "custom_attributes"):
            extra = event.changes.get(column)
            if isinstance(extra, dict) and erased & set(extra):
                kept[column] = {k: v for k, v in extra.items() if k not in erased}
        if kept != event.changes:
            ChangeEvent.objects.filter(pk=event.pk).update(changes=kept)
            scrubbed += 1
    report.add("rcu.ChangeEvent", "scrubbed", scrubbed)


def _provenance_timeline(customer_ids: Iterable[int]) -> dict[int, list[tuple[Any, dict]]]:
    timeline: dict[int, list[tuple[Any, dict]]] = defaultdict(list)
    for row in sorted(
        erasure_history.history_rows_read(Customer, field="id", ids=customer_ids,
                                          fields=("id", "provenance")),
        key=lambda r: (r["history_date"], r["history_id"]),
    ):
        timeline[row["id"]].append((row["history_date"], row["provenance"] or {}))
    return timeline


def _provenance_at(timeline: list[tuple[Any, dict]], at: Any) -> dict:
    """The customer's provenance as it stood once the change at `at` was written."""
    current: dict = {}
    for when, provenance in timeline:
        if when > at:
            break
        current = provenance
    return current


def _erased_attributes(provenance: Mapping[str, Any], refs: frozenset[tuple[str, str]]) -> set[str]:
    return {
        name for name, where in (provenance or {}).items()
        if isinstance(where, dict) and (where.get("source"), where.get("external_id")) in refs
    }


# --- history of other customers -------------------------------------------------------

_KEY_OF = {"first_name": "first_name_key", "last_name": "last_name_key"}
_COLUMNS = (*CANONICAL_NAMES, "first_name_key", "last_name_key", "extra_identifiers",
            "custom_attributes", "provenance", "pinned")


def golden_scrub(row: Mapping[str, Any], refs: frozenset[tuple[str, str]]) -> dict[str, Any]:
    """The columns of a customer's state (a history row, a ledger snapshot) to change so
    that no value whose provenance points at an erased record is left, nor a pin of one.
    Empty when nothing points at one."""
    provenance = row.get("provenance") or {}
    erased = _erased_attributes(provenance, refs)
    changes: dict[str, Any] = {}
    for name in erased:
        if name in CANONICAL_NAMES:
            if name in row:
                changes[name] = None if name == "birth_date" else ""
            if name in _KEY_OF and _KEY_OF[name] in row:
                changes[_KEY_OF[name]] = ""
    for column in ("extra_identifiers", "custom_attributes"):
        extra = row.get(column)
        if isinstance(extra, dict) and erased & set(extra):
            changes[column] = {k: v for k, v in extra.items() if k not in erased}
    if erased:
        changes["provenance"] = {k: v for k, v in provenance.items() if k not in erased}
    pinned = row.get("pinned")
    if isinstance(pinned, dict):
        kept = {k: v for k, v in pinned.items()
                if not (isinstance(v, dict) and (v.get("source"), v.get("external_id")) in refs)}
        if kept != pinned:
            changes["pinned"] = kept
    return changes


def _customer_history_scrub(scope: ErasureScope, report: ErasureReport) -> None:
    if not scope.other_ids:
        return
    rewrites = {}
    for row in erasure_history.history_rows_read(Customer, field="id", ids=scope.other_ids, fields=_COLUMNS):
        changes = golden_scrub(row, scope.refs)
        if changes:
            rewrites[row["history_id"]] = changes
    report.add("rcu.HistoricalCustomer", "scrubbed", erasure_history.history_rows_rewrite(Customer, values=rewrites))


def _reasons_scrub(scope: ErasureScope, report: ErasureReport, values: PersonValues) -> None:
    """A steward's reason quoting the person is stored on every history row the
    decision wrote: those of other customers and their records are rewritten."""
    if not scope.other_ids:
        return
    records = list(SourceRecord.objects.filter(customer_id__in=scope.other_ids).values_list("pk", flat=True))
    report.add("rcu.HistoricalCustomer", "scrubbed", erasure_history.history_reasons_scrub(
        Customer, field="id", ids=scope.other_ids, values=values.all, replacement=ERASED_TEXT))
    report.add("rcu.HistoricalSourceRecord", "scrubbed", erasure_history.history_reasons_scrub(
        SourceRecord, field="id", ids=records, values=values.all, replacement=ERASED_TEXT))


def _current_scrub(scope: ErasureScope, *, acting_user: Actor, reason: str) -> None:
    """Other customers as they stand now: a retired one keeps the golden values it had
    when it was merged away, and a customer losing records may pin them. Values and
    pins from erased records go (a history row and event say so, without them); the
    customers losing records are then recomputed from what is left."""
    ids = sorted({*scope.other_ids, *scope.recompute_ids})
    values: dict[int, dict[str, Any]] = {}
    for row in Customer.objects.filter(pk__in=ids).values("pk", *_COLUMNS):
        changes = golden_scrub(row, scope.refs)
        if changes:
            values[row["pk"]] = changes
    for fields in sorted({tuple(sorted(v)) for v in values.values()}):
        batch = {pk: v for pk, v in values.items() if tuple(sorted(v)) == fields}
        rows_update(model=Customer, values=batch, fields=list(fields), acting_user=acting_user, reason=reason)


# --- matching -----------------------------------------------------------------------

def _matching_delete(scope: ErasureScope, report: ErasureReport) -> None:
    ids = scope.record_ids
    # MatchKey has no index by record (one would cost every import: each record writes
    # about nine keys): a record's rows are found by primary key from its comparison
    # keys, as an import replaces a changed record's keys (`match_keys_delete`).
    keys = SourceRecord.objects.filter(pk__in=ids).values_list("pk", "keys")
    report.add("rcu.MatchKey", "deleted",
               match_keys_delete(records=[(pk, blocking_keys_of(k or {})) for pk, k in keys]))
    report.add("rcu.PendingMatch", "deleted", PendingMatch.objects.filter(record_id__in=ids)._raw_delete("default"))
    pairs = MatchPair.objects.filter(record_a_id__in=ids) | MatchPair.objects.filter(record_b_id__in=ids)
    report.add("rcu.MatchPair", "deleted", pairs._raw_delete("default"))
    decisions = PairDecision.objects.filter(record_a_id__in=ids) | PairDecision.objects.filter(record_b_id__in=ids)
    report.add("rcu.PairDecision", "deleted", decisions._raw_delete("default"))
    history = erasure_history.history_rows_delete(PairDecision, field="record_a_id", ids=ids)
    history += erasure_history.history_rows_delete(PairDecision, field="record_b_id", ids=ids)
    report.add("rcu.HistoricalPairDecision", "deleted", history)


# --- imports: rejected rows and files -------------------------------------------------

def _imports_scrub(scope: ErasureScope, report: ErasureReport, values: PersonValues, *,
                   preview: bool) -> None:
    media = Path(settings.MEDIA_ROOT).resolve()
    for source_id, external_ids in sorted(scope.external_ids_by_source.items()):
        id_field = SourceSystem.objects.values_list("external_id_field", flat=True).get(pk=source_id)

        def theirs(row: Mapping[str, Any], text: str, external_ids: frozenset[str] = external_ids,
                   id_field: str = id_field) -> bool:
            """A row is the person's by its external id; a row without one, when it
            carries one of their unique identifiers. A row with another id is someone
            else's, whatever it shares with them (a household's phone)."""
            value = row.get(id_field)
            external_id = str(value).strip() if isinstance(value, str | int) else ""
            if external_id:
                return external_id in external_ids
            return mentions(text, values.unique)

        # A row `theirs` holds one of these (its external id, or one of the person's
        # unique identifiers): lines holding none are kept without being parsed.
        needles = frozenset(v.lower() for v in external_ids | values.unique)
        errors = ImportRowError.objects.filter(job__source_id=source_id, external_id__in=external_ids)
        found = [(pk, job_id, line) for pk, job_id, line in errors.values_list("pk", "job_id", "line")]
        for needle in values.unique:
            found += list(ImportRowError.objects.filter(job__source_id=source_id, external_id="",
                                                        content__icontains=needle)
                          .values_list("pk", "job_id", "line"))
        error_ids = sorted({pk for pk, _, _ in found})
        lines: dict[int, set[int]] = defaultdict(set)
        for _, job_id, line in found:
            lines[job_id].add(line)
        report.add("rcu.ImportRowError", "deleted",
                   ImportRowError.objects.filter(pk__in=error_ids)._raw_delete("default"))
        for job in ImportJob.objects.filter(source_id=source_id).order_by("pk"):
            uploads = [Path(job.upload.path)] if job.upload else []
            if job.file_path:
                uploads.append(Path(job.file_path))
            for path in dict.fromkeys(uploads):
                _file_rewrite(report, path, media=media, store="file:import_upload", drop=theirs,
                              encoding=job.encoding, delimiter=job.delimiter, preview=preview,
                              needles=needles)
            if job.rejects_file:
                job_lines = lines.get(job.pk, set())

                def rejected_theirs(row: Mapping[str, Any], text: str, job_lines: set[int] = job_lines) -> bool:
                    line = row.get("rcu_line") or (row.get("rcu_rejected") or {}).get("line")
                    return str(line) in {str(n) for n in job_lines} or theirs(row, text)

                _file_rewrite(report, Path(job.rejects_file), media=media, store="file:import_rejects",
                              drop=rejected_theirs, encoding="utf-8", delimiter=";", preview=preview)
        for audit in ImportAudit.objects.filter(source_id=source_id).order_by("pk"):
            file_facts = (audit.report or {}).get("file") or {}
            paths = [Path(audit.upload.path)] if audit.upload else []
            if audit.file_path:
                paths.append(Path(audit.file_path))
            for path in dict.fromkeys(paths):
                _file_rewrite(report, path, media=media, store="file:audit_upload",
                              drop=theirs, encoding=file_facts.get("encoding") or "",
                              delimiter=file_facts.get("delimiter") or "", preview=preview,
                              needles=needles)
            cleaned, removed = json_scrub(audit.report, external_ids=external_ids, values=values.unique)
            if removed:
                ImportAudit.objects.filter(pk=audit.pk).update(report=cleaned)
                report.add("rcu.ImportAudit", "scrubbed", 1)


def json_scrub(value: Any, *, external_ids: frozenset[str], values: frozenset[str]) -> tuple[Any, int]:
    """`value` without the list entries that name an erased record's external id or
    carry one of the person's unique identifiers; how many entries went."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        removed = 0
        for key, item in value.items():
            out[key], n = json_scrub(item, external_ids=external_ids, values=values)
            removed += n
        return out, removed
    if isinstance(value, list):
        kept: list[Any] = []
        removed = 0
        for item in value:
            text = json.dumps(item, ensure_ascii=False, default=str)
            named = (
                (isinstance(item, str) and item in external_ids)
                or (isinstance(item, dict) and str(item.get("external_id", "")) in external_ids)
                or (isinstance(item, list) and any(str(x) in external_ids for x in item))
                or mentions(text, values)
            )
            if named:
                removed += 1
                continue
            item, n = json_scrub(item, external_ids=external_ids, values=values)
            kept.append(item)
            removed += n
        return kept, removed
    return value, 0


def _file_rewrite(report: ErasureReport, path: Path, *, media: Path, store: str, drop: Any,
                  encoding: str, delimiter: str, preview: bool,
                  needles: frozenset[str] | None = None) -> None:
    """Rewrite a stored file without the rows `drop(row, text)` says are the person's;
    the other rows are written back exactly as they were (bytes of their lines).
    `needles` (lower-case), when given: a row can be the person's only if its text
    holds one of them (`_file_rows_kept`)."""
    try:
        resolved = path.resolve()
    except OSError:
        return
    if not resolved.is_file():
        return
    if media not in resolved.parents:
        if _file_rows_kept(resolved, drop=drop, encoding=encoding, delimiter=delimiter, needles=needles)[1]:
            report.add(f"{store}_outside_media", "not rewritten", 1)
        return
    kept, removed = _file_rows_kept(resolved, drop=drop, encoding=encoding, delimiter=delimiter,
                                    needles=needles)
    if not removed:
        return
    if not preview:
        with resolved.open("w", encoding=encoding or "utf-8", errors="surrogateescape", newline="") as out:
            out.write("".join(kept))
    report.add(store, "rewritten", 1)
    report.add(f"{store} rows", "deleted", removed)


def _file_rows_kept(path: Path, *, drop: Any, encoding: str, delimiter: str,
                    needles: frozenset[str] | None = None) -> tuple[list[str], int]:
    """The file's text pieces to keep (header included) and how many rows were dropped.

    With `needles`, a file whose text holds none of them is left as it is without being
    parsed, and in a file without quotes (each CSV record is one line) only the lines
    holding one are parsed: an erasure reads every file of the person's sources, and
    parsing each row of a million-line file in Python took tens of seconds."""
    # newline="": the lines' own ends (\r\n) are kept, so kept rows are written back as they were.
    with path.open(encoding=encoding or "utf-8", errors="surrogateescape", newline="") as stored:
        text = stored.read()
    lowered = text.lower() if needles is not None else ""
    if needles is not None and not any(n in lowered for n in needles):
        return [], 0
    if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
        kept, removed = [], 0
        for line in text.splitlines(keepends=True):
            if needles is not None and not mentions(line, needles):
                kept.append(line)
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if drop(row if isinstance(row, dict) else {}, line):
                removed += 1
            else:
                kept.append(line)
        return kept, removed
    delimiter = delimiter or _sniff(text)
    if needles is not None and '"' not in text:
        return _csv_lines_kept(text, lowered, drop=drop, delimiter=delimiter, needles=needles)
    pieces = _csv_records(text, delimiter=delimiter)
    if not pieces:
        return [], 0
    (header, header_text), *rows = pieces
    names = [h.lstrip("\ufeff").strip() for h in header]
    kept, removed = [header_text], 0
    for cells, row_text in rows:
        if drop(dict(zip(names, cells, strict=False)), row_text):
            removed += 1
        else:
            kept.append(row_text)
    return kept, removed


def _csv_lines_kept(text: str, lowered: str, *, drop: Any, delimiter: str,
                    needles: frozenset[str]) -> tuple[list[str], int]:
    """`_file_rows_kept` for a CSV file without quotes: one record per line. The needles
    are found in the whole text at once (`str.find`), and only their lines are parsed;
    the text between the dropped lines is kept as slices."""
    if len(lowered) != len(text) or text.count("\r") != text.count("\r\n"):
        return _csv_each_line_kept(text, drop=drop, delimiter=delimiter, needles=needles)
    header_end = text.find("\n") + 1 or len(text)
    names = [h.lstrip("\ufeff").strip()
             for h in next(csv.reader([text[:header_end]], delimiter=delimiter), [])]
    starts: set[int] = set()
    for needle in needles:
        at = lowered.find(needle, header_end)
        while at != -1:
            starts.add(text.rfind("\n", 0, at) + 1)
            next_line = text.find("\n", at)
            at = -1 if next_line == -1 else lowered.find(needle, next_line + 1)
    pieces, removed, cursor = [], 0, 0
    for start in sorted(starts):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        line = text[start:end]
        cells = next(csv.reader([line], delimiter=delimiter), [])
        if drop(dict(zip(names, cells, strict=False)), line):
            pieces.append(text[cursor:start])
            cursor = end
            removed += 1
    pieces.append(text[cursor:])
    return pieces, removed


def _csv_each_line_kept(text: str, *, drop: Any, delimiter: str,
                        needles: frozenset[str]) -> tuple[list[str], int]:
    """The same, line by line (a text whose lower case changes its length, or with
    lone carriage returns)."""
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        return [], 0
    names = [h.lstrip("\ufeff").strip() for h in next(csv.reader([lines[0]], delimiter=delimiter), [])]
    kept, removed = [lines[0]], 0
    for line in lines[1:]:
        if mentions(line, needles):
            cells = next(csv.reader([line], delimiter=delimiter), [])
            if drop(dict(zip(names, cells, strict=False)), line):
                removed += 1
                continue
        kept.append(line)
    return kept, removed


def _sniff(text: str) -> str:
    first = text.split("\n", 1)[0]
    return max(",;\t|", key=first.count)


def _csv_records(text: str, *, delimiter: str) -> list[tuple[list[str], str]]:
    """Each CSV record with the exact text of its line(s)."""
    consumed: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            consumed.append(line)
            yield line

    records = []
    for cells in csv.reader(lines(), delimiter=delimiter):
        records.append((cells, "".join(consumed)))
        consumed.clear()
    return records


# --- the engine's own tables -----------------------------------------------------------

def _engine_scrub(scope: ErasureScope, report: ErasureReport, values: PersonValues) -> None:
    for run in MatchRun.objects.exclude(skipped_keys=[]).only("pk", "skipped_keys"):
        kept = [k for k in run.skipped_keys or [] if not mentions(str(k), values.unique)]
        if kept != run.skipped_keys:
            MatchRun.objects.filter(pk=run.pk).update(skipped_keys=kept)
            report.add("rcu.MatchRun", "scrubbed", 1)
    generic = [pk for pk, value in GenericValue.objects.values_list("pk", "value") if value.lower() in values.unique]
    if generic:
        report.add("rcu.GenericValue", "deleted", GenericValue.objects.filter(pk__in=generic)._raw_delete("default"))
        report.add("rcu.HistoricalGenericValue", "deleted",
                   erasure_history.history_rows_delete(GenericValue, field="id", ids=generic))
    counts = _term_counts(scope)
    for pk, model in MatchSettings.objects.exclude(model=None).values_list("pk", "model"):
        new = term_frequencies_without(model, counts)
        if new is not None:
            MatchSettings.objects.filter(pk=pk).update(model=new)
            report.add("rcu.MatchSettings", "scrubbed", 1)
    rewrites = {}
    for row in erasure_history.history_rows_read(
        MatchSettings, field="id", ids=MatchSettings.objects.values_list("pk", flat=True), fields=("model",)
    ):
        new = term_frequencies_without(row["model"], counts)
        if new is not None:
            rewrites[row["history_id"]] = {"model": new}
    report.add("rcu.HistoricalMatchSettings", "scrubbed",
               erasure_history.history_rows_rewrite(MatchSettings, values=rewrites))


def _term_counts(scope: ErasureScope) -> dict[str, dict[str, int]]:
    """How many erased records hold each comparison key, per attribute."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for keys in SourceRecord.objects.filter(pk__in=scope.record_ids).values_list("keys", flat=True):
        for attribute, value in (keys or {}).items():
            if isinstance(value, str) and value:
                counts[attribute][value] += 1
    return counts


def term_frequencies_without(model: Any, counts: Mapping[str, Mapping[str, int]]) -> dict | None:
    """The model's term-frequency tables without the erased records' values (a value
    then held once or never leaves the table: rare values are not listed); None when
    nothing changes. The share of common values (`shared`) is kept: one person moves
    it by less than its rounding."""
    if not isinstance(model, dict) or not isinstance(model.get("term_frequencies"), dict):
        return None
    tables = model["term_frequencies"]
    changed = False
    new_tables = {}
    for attribute, table in tables.items():
        held = counts.get(attribute, {})
        table_counts = dict(table.get("counts") or {})
        total = int(table.get("total") or 0)
        for value, n in held.items():
            if value in table_counts:
                left = table_counts.pop(value) - n
                total -= n
                if left > 1:
                    table_counts[value] = left
                changed = True
        new_tables[attribute] = {**table, "counts": table_counts, "total": max(total, 0)}
    return {**model, "term_frequencies": new_tables} if changed else None


# --- the rows themselves ----------------------------------------------------------------

def _rows_delete(scope: ErasureScope, report: ErasureReport, *, now: Any, held: Sequence[int],
                 holds: Sequence[LegalHold] = ()) -> None:
    # Their whole history goes; counted first, as deleting writes a "-" row each.
    report.add("rcu.HistoricalSourceRecord", "deleted",
               erasure_history.history_rows_count(SourceRecord, field="id", ids=scope.record_ids))
    report.add("rcu.HistoricalCustomer", "deleted",
               erasure_history.history_rows_count(Customer, field="id", ids=scope.customer_ids))
    if held:
        # Kept as the hold says, and nothing more: no customer, out of matching and
        # survivorship (deleted at source), no history.
        report.add("rcu.SourceRecord", "kept under a legal hold", SourceRecord.objects.filter(pk__in=held).update(
            customer=None, deleted_at_source=now, last_import_job=None,
        ))
        _held_attributes_trim(held, holds)
    records = SourceRecord.objects.filter(pk__in=scope.record_ids).exclude(pk__in=held)
    report.add("rcu.SourceRecord", "deleted", records.delete()[1].get("rcu.SourceRecord", 0))
    # Retired customers point at their survivor (PROTECT): no longer, as all go.
    Customer.objects.filter(pk__in=scope.customer_ids).exclude(merged_into=None).update(merged_into=None)
    deleted = Customer.objects.filter(pk__in=scope.customer_ids).delete()[1]
    report.add("rcu.Customer", "deleted", deleted.get("rcu.Customer", 0))
    erasure_history.history_rows_delete(SourceRecord, field="id", ids=scope.record_ids)
    erasure_history.history_rows_delete(Customer, field="id", ids=scope.customer_ids)
    ErasedCustomer.objects.bulk_create(
        [ErasedCustomer(public_id_hash=public_id_hash(p), erased_at=now) for p in scope.public_ids],
        ignore_conflicts=True,
    )
    report.add("rcu.ErasedCustomer", "written", len(scope.public_ids))


def _held_attributes_trim(held: Sequence[int], holds: Sequence[LegalHold]) -> None:
    """A hold naming attributes keeps those alone: the held record's other attributes,
    the raw fields not mapped to a named one, and its comparison keys go. Two holds on
    one source keep what either names; one naming no attribute keeps the whole record."""
    named: dict[str, set[str] | None] = {}
    for hold in holds:
        if not hold.attributes or named.get(hold.source_code, set()) is None:
            named[hold.source_code] = None
        else:
            named.setdefault(hold.source_code, set()).update(hold.attributes)  # type: ignore[union-attr]
    mapped: dict[int, dict[str, str]] = defaultdict(dict)  # source → raw field → attribute
    for source_id, attribute, fields in FieldMapping.objects.filter(
        source__code__in=[c for c, a in named.items() if a is not None]
    ).values_list("source_id", "attribute", "source_fields"):
        for name in fields or ():
            mapped[source_id][name] = attribute
    for record in SourceRecord.objects.filter(pk__in=held).select_related("source"):
        keep = named.get(record.source.code)
        if keep is None:
            continue
        raw = {k: v for k, v in (record.raw or {}).items()
               if mapped[record.source_id].get(k) in keep or k == record.source.external_id_field}
        SourceRecord.objects.filter(pk=record.pk).update(
            attributes={k: v for k, v in (record.attributes or {}).items() if k in keep},
            raw=raw, keys={},
        )


def erased_events_pseudonymise(*, event_ids: Sequence[int]) -> int:
    """Once every source and subscriber acknowledged an erasure: the erased customers'
    events (their tombstones and `customer.erased`, found from these `customer.erased`
    events) keep no identifier of the person. The public id becomes its keyed pseudonym
    (`public_id_pseudonym`), the sources' own external ids (`source_refs`) go, and so
    does what a receiver answered to their deliveries. A replay then sends the
    pseudonym: nothing a subscriber can link back. How many events changed."""
    erased = dict(ChangeEvent.objects.filter(pk__in=event_ids, type=ChangeEvent.Type.ERASED)
                  .values_list("customer_id", "customer_public_id"))
    changed = 0
    for customer_id, public_id in erased.items():
        pseudonym = public_id_pseudonym(public_id)
        events = ChangeEvent.objects.filter(customer_id=customer_id, customer_public_id=public_id)
        ids = list(events.values_list("pk", flat=True))
        changed += events.update(customer_public_id=pseudonym, changes={}, data={})
        Delivery.objects.filter(event_id__in=ids).exclude(last_error="").update(last_error="")
    return changed
