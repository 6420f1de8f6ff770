"""Keeping `SourceStats` right: increments inside the writes, recounts after imports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone

from rcu.db import is_postgresql
from rcu.models import SourceRecord, SourceStats, SourceSystem
from rcu.services.locks import source_stats_lock


def source_stats_add_new_records(
    *, source: SourceSystem, created: int, customers: int | None = None
) -> None:
    """New records, and the golden customers they started (by default one each).

    Call it in the transaction that created them. Writes that link records to other
    customers (matching, merges) adjust the customer counts they change.
    """
    customers = created if customers is None else customers
    if not created:
        return
    source_stats_lock([source.pk])
    updated = SourceStats.objects.filter(pk=source.pk).update(
        record_count=F("record_count") + created, customer_count=F("customer_count") + customers
    )
    if not updated:
        source_stats_recount(source_ids=[source.pk])


def source_stats_adjust_customers(*, deltas: Mapping[int, int]) -> None:
    """Matching and merges move records between customers: each source's customer
    count changes by the given delta (in the transaction that moved them)."""
    source_stats_lock(s for s, delta in deltas.items() if delta)
    for source_id, delta in sorted(deltas.items()):
        if delta:
            SourceStats.objects.filter(pk=source_id).update(
                customer_count=F("customer_count") + delta
            )


def source_stats_follow_moves(
    *, before: Mapping[int, int | None], after: Mapping[int, int | None],
    source_of: Mapping[int, int],
) -> None:
    """Records moved between customers (record → customer, before and after; record →
    source): each source's customer count follows, from the distinct (customer, source)
    pairs on either side, without a recount."""
    pairs_before = {(before[r], source_of[r]) for r in before if before[r] is not None}
    pairs_after = {(after[r], source_of[r]) for r in after if after[r] is not None}
    count_before = Counter(s for _, s in pairs_before)
    count_after = Counter(s for _, s in pairs_after)
    source_stats_adjust_customers(
        deltas={s: count_after[s] - count_before[s] for s in set(count_before) | set(count_after)}
    )


@transaction.atomic
def source_stats_recount(*, source_ids: Iterable[int]) -> None:
    """Rebuild the counts of these sources from their records (one grouped query).

    The counters are locked before counting: a writer adjusting them meanwhile has
    committed (and is counted) or waits (and adjusts the recount)."""
    ids = sorted(set(source_ids))
    source_stats_lock(ids)
    counts = {
        row["source_id"]: row
        for row in SourceRecord.objects.filter(source_id__in=ids)
        .values("source_id")
        .annotate(records=Count("id"), customers=Count("customer_id", distinct=True))
        .order_by()
    }
    now = timezone.now()
    for source_id in ids:
        row = counts.get(source_id)
        SourceStats.objects.update_or_create(
            source_id=source_id,
            defaults={
                "record_count": row["records"] if row is not None else 0,
                "customer_count": row["customers"] if row is not None else 0,
                "counted_at": now,
            },
        )


def planner_statistics_refresh(*, tables: Iterable[str], vacuum: bool = True) -> bool:
    """After a bulk write, PostgreSQL must learn the new sizes and visibility at once.

    Autovacuum would, minutes later; meanwhile searches and real-time lookups could pick
    bad plans and counts could not use index-only scans. VACUUM cannot run inside a
    transaction: there (and on SQLite) this does nothing and returns False. Without
    `vacuum`, only ANALYZE (a sample of each table: cheap, for use during a bulk write).
    """
    if not is_postgresql() or connection.in_atomic_block:
        return False
    command = "VACUUM (ANALYZE)" if vacuum else "ANALYZE"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
    return True


def planner_rows_estimate(*, table: str) -> int:
    """How many rows PostgreSQL's statistics say `table` holds (0: never analysed, or
    not PostgreSQL)."""
    if not is_postgresql():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    return max(int(row[0]), 0) if row else 0


class StatisticsWatch:
    """Keeps the planner's statistics in step while a bulk write grows a table.

    Plans made while a table looked small go on being used as it grows: a lookup of a
    batch's external ids by index turns into a scan of the whole source (measured: 1.6 s
    a batch at 280,000 records, 144 s over a 1,000,000-record import). So each time the
    rows written since the statistics were made reach what they counted (the table has
    doubled) and at least `RCU_ANALYZE_AFTER_ROWS`, the tables are analysed again: a
    handful of times per import, each a sample.
    """

    def __init__(self, *, tables: Sequence[str]) -> None:
        self.tables = list(tables)
        self.counted = planner_rows_estimate(table=self.tables[0]) if self.tables else 0
        self.written = 0

    def wrote(self, rows: int) -> bool:
        """Record `rows` more written; True when the statistics were refreshed."""
        self.written += rows
        if self.written < max(settings.RCU_ANALYZE_AFTER_ROWS, self.counted):
            return False
        if not planner_statistics_refresh(tables=self.tables, vacuum=False):
            return False
        self.counted += self.written
        self.written = 0
        return True
