"""Reads of merge candidates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from rcu.models import SourceRecord
from stewardship.models import MergeCandidate

CANDIDATE_COLUMNS = ("source_a", "external_id_a", "source_b", "external_id_b", "score", "status")
CHUNK = 2000


def candidate_record_pairs() -> Iterator[tuple[str, str, str, str, float, str]]:
    """Every pair of source records a candidate would join, with its score and status
    (none of a restricted customer).

    An open candidate joins every record of one customer with every record of the
    other; a decided one whose records already share a customer stands for its own pair.
    """
    candidates = MergeCandidate.objects.order_by("pk").values_list(
        "pk", "record_a_id", "record_b_id", "probability", "status"
    )
    batch: list[tuple] = []
    for row in candidates.iterator(chunk_size=CHUNK):
        batch.append(row)
        if len(batch) >= CHUNK:
            yield from _expand(batch)
            batch = []
    if batch:
        yield from _expand(batch)


def _expand(batch: list[tuple]) -> Iterator[tuple[str, str, str, str, float, str]]:
    record_ids = {r for _, a, b, _, _ in batch for r in (a, b)}
    # A restricted customer (GDPR art. 18) leaves in no export: its records are left out.
    records = {
        pk: (customer_id, source, external_id)
        for pk, customer_id, source, external_id in SourceRecord.objects.filter(
            pk__in=record_ids
        ).exclude(customer__restricted_at__isnull=False)
        .values_list("pk", "customer_id", "source__code", "external_id")
    }
    customers = {records[r][0] for r in record_ids if r in records}
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for customer_id, source, external_id in (
        SourceRecord.objects.filter(customer_id__in=customers)
        .order_by("source__code", "external_id")
        .values_list("customer_id", "source__code", "external_id")
    ):
        members[customer_id].append((source, external_id))
    for _, a, b, probability, status in batch:
        if a not in records or b not in records:
            continue
        customer_a, customer_b = records[a][0], records[b][0]
        if customer_a == customer_b:
            yield (*records[a][1:], *records[b][1:], probability, status)
            continue
        for source_a, external_a in members[customer_a]:
            for source_b, external_b in members[customer_b]:
                yield source_a, external_a, source_b, external_b, probability, status
