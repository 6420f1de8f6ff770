"""What the specification tests of steward decisions observe: partitions, golden values,
counts, and the engine run for real (a frozen model, so that scores are known)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Count
from django.test import TestCase

from rcu.models import Customer, PairDecision, SourceRecord, SourceStats
from rcu.services.customers import GOLDEN_FIELDS
from rcu.services.matching.batch import match_run_create
from rcu.services.matching.realtime import records_match
from stewardship.models import MergeCandidate
from stewardship.services.sync import candidate_departments_refresh
from tests.factories import TEST_ACTOR, ingest

# Every column a steward decision may change on a customer, besides the records it holds.
CUSTOMER_COLUMNS = ["pk", "public_id", "merged_into_id", "pinned", *GOLDEN_FIELDS]


def match_realtime(records: Iterable[SourceRecord]) -> None:
    records_match(record_ids=[r.pk for r in records])


def match_batch(*, full: bool = True) -> None:
    """A batch run to the end: its tasks are queued on commit and run eagerly here."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        run = match_run_create(full=full, partitions=2, acting_user=TEST_ACTOR)
    run.refresh_from_db()
    assert run.status == "succeeded", run.message


def one(source, external_id: str, values: Mapping[str, Any]) -> SourceRecord:
    """One record stored through the real ingestion path (its own new customer)."""
    (record,) = ingest(source, [{"id": external_id, **values}])
    return record


def fresh(record: SourceRecord) -> SourceRecord:
    return SourceRecord.objects.select_related("customer", "source").get(pk=record.pk)


def customer_of(record: SourceRecord) -> Customer:
    return fresh(record).customer


def label(record_id: int) -> str:
    code, external_id = SourceRecord.objects.filter(pk=record_id).values_list(
        "source__code", "external_id"
    ).get()
    return f"{code}:{external_id}"


def partition() -> set[frozenset[str]]:
    """Every golden customer of the base as the set of its records ("source:id")."""
    groups: dict[int, set[str]] = defaultdict(set)
    for code, external_id, customer_id in SourceRecord.objects.values_list(
        "source__code", "external_id", "customer_id"
    ):
        groups[customer_id].add(f"{code}:{external_id}")
    return {frozenset(g) for g in groups.values()}


def placement() -> dict[int, int]:
    """Record id → customer id, for the whole base."""
    return dict(SourceRecord.objects.values_list("pk", "customer_id"))


def customers_state(ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """Every column of these customers (all of them by default) a decision may touch."""
    rows = Customer.objects.all() if ids is None else Customer.objects.filter(pk__in=list(ids))
    return {row["pk"]: row for row in rows.values(*CUSTOMER_COLUMNS)}


def customer_differences(
    before: Mapping[int, Mapping[str, Any]], after: Mapping[int, Mapping[str, Any]]
) -> dict[int, Any]:
    """Customer → {column: (before, after)} for every column that differs (empty: same)."""
    differences: dict[int, Any] = {}
    for pk in sorted(set(before) | set(after)):
        if pk not in before or pk not in after:
            differences[pk] = "only before" if pk in before else "only after"
            continue
        changed = {
            column: (before[pk][column], after[pk][column])
            for column in CUSTOMER_COLUMNS if before[pk][column] != after[pk][column]
        }
        if changed:
            differences[pk] = changed
    return differences


def assert_every_record_in_exactly_one_active_customer() -> None:
    orphans = SourceRecord.objects.filter(customer__isnull=True)
    assert not orphans.exists(), f"records without customer: {list(orphans)}"
    retired = SourceRecord.objects.filter(customer__merged_into__isnull=False)
    assert not retired.exists(), f"records left in a retired customer: {list(retired)}"


def assert_source_stats_match_the_records() -> None:
    """The per-source counts kept by the writes equal a recount from the records."""
    actual = {
        row["source_id"]: (row["records"], row["customers"])
        for row in SourceRecord.objects.values("source_id")
        .annotate(records=Count("id"), customers=Count("customer_id", distinct=True))
        .order_by()
    }
    kept = {
        s.source_id: (s.record_count, s.customer_count)
        for s in SourceStats.objects.all()
        if s.record_count or s.customer_count or s.source_id in actual
    }
    assert kept == actual


def pair_kinds(records: Iterable[SourceRecord | int]) -> dict[tuple[int, int], str]:
    ids = [r if isinstance(r, int) else r.pk for r in records]
    return {
        (d.record_a_id, d.record_b_id): d.kind
        for d in PairDecision.objects.filter(record_a_id__in=ids, record_b_id__in=ids)
    }


def must_link_components(record_ids: Iterable[int]) -> list[set[int]]:
    """The groups these records form through must-link decisions alone."""
    ids = set(record_ids)
    parent = {r: r for r in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in PairDecision.objects.filter(
        kind=PairDecision.Kind.MUST_LINK, record_a_id__in=ids, record_b_id__in=ids
    ).values_list("record_a_id", "record_b_id"):
        parent[find(a)] = find(b)
    groups: dict[int, set[int]] = defaultdict(set)
    for r in ids:
        groups[find(r)].add(r)
    return list(groups.values())


def candidate_between(a: SourceRecord, b: SourceRecord, *, probability: float = 0.8) -> MergeCandidate:
    """An open candidate as matching would store it, in the departments of both customers."""
    first, second = sorted((a.pk, b.pk))
    candidate = MergeCandidate.objects.create(
        record_a_id=first, record_b_id=second, probability=probability, weight=2.0, levels="",
        explanation={},
    )
    candidate_departments_refresh(candidates=[candidate])
    return candidate


def department_codes(candidate: MergeCandidate) -> set[str]:
    return set(candidate.departments.values_list("code", flat=True))
