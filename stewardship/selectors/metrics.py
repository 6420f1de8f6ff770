"""Stewardship figures per department: backlog, daily decisions, age, overturns.

Every figure is an aggregate query over all the departments at once, so the page costs
the same handful of queries whatever the size of the queue or of the ledger.

A decision belongs to the departments owning the sources of the records of the customers
it involved (as `decisions_visible_to` reads it). A customer merged away since holds no
record any more: its survivor's records stand in for it.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import (
    Aggregate,
    BooleanField,
    Case,
    Count,
    Exists,
    FloatField,
    Min,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone

from rcu.db import is_postgresql
from rcu.models import Department, SourceRecord
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.access import viewable_departments_for
from stewardship.selectors.queue import SCORE_BANDS, queue_counts

DAYS_SHOWN = 30
PERIODS = (7, 30, 90, 365)
DEFAULT_PERIOD = 30

# The daily chart's columns; a reopened rejection is an undo of that rejection.
DAILY_KINDS: dict[str, str] = {
    Decision.Kind.MERGE: "merges",
    Decision.Kind.REJECT: "rejects",
    Decision.Kind.DETACH: "detaches",
    Decision.Kind.UNDO: "undos",
    Decision.Kind.REOPEN: "undos",
}


@dataclass(frozen=True)
class DayCounts:
    day: date
    merges: int = 0
    rejects: int = 0
    detaches: int = 0
    undos: int = 0

    @property
    def total(self) -> int:
        return self.merges + self.rejects + self.detaches + self.undos


@dataclass(frozen=True)
class Overturns:
    """Decisions of the period and how many were later taken back."""

    merges: int = 0
    merges_undone: int = 0
    detaches: int = 0
    detaches_undone: int = 0
    # Detachments in effect that split records the engine had joined (no steward
    # must-link between them and the rest of the customer): an automatic link overturned.
    engine_links_undone: int = 0

    @property
    def merge_rate(self) -> float | None:
        return self.merges_undone / self.merges if self.merges else None

    @property
    def engine_link_share(self) -> float | None:
        return self.engine_links_undone / self.detaches if self.detaches else None


@dataclass(frozen=True)
class DepartmentMetrics:
    department: Department
    backlog: dict[str, int]  # "total" and one entry per score band
    median_open_since: datetime | None  # creation of the median open candidate
    oldest_open_since: datetime | None
    days: list[DayCounts] = field(default_factory=list)  # oldest first
    overturns: Overturns = field(default_factory=Overturns)

    @property
    def busiest_day(self) -> int:
        return max((d.total for d in self.days), default=0)

    @property
    def decisions(self) -> int:
        return sum(d.total for d in self.days)


@dataclass(frozen=True)
class MetricsReport:
    departments: list[DepartmentMetrics]
    period_days: int
    period_start: datetime
    days_start: date
    now: datetime


class _MedianEpoch(Aggregate):
    """PostgreSQL: the median of a timestamp column, as seconds since the epoch."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


def _decision_in_department(department_id: int) -> Q:
    """The decision involved a customer holding (or merged into one holding) a record of
    one of the department's sources."""
    records = SourceRecord.objects.filter(source__department_id=department_id)
    return Q(Exists(records.filter(customer__steward_decisions=OuterRef("pk")))) | Q(
        Exists(records.filter(customer__absorbed__steward_decisions=OuterRef("pk")))
    )


def _per_department(departments: Iterable[Department]) -> dict[str, Count]:
    return {
        f"d{d.pk}": Count("pk", filter=_decision_in_department(d.pk)) for d in departments
    }


@dataclass(frozen=True)
class _Backlog:
    counts: dict[str, int]
    median: datetime | None = None
    oldest: datetime | None = None


def _backlog(departments: list[Department]) -> dict[int, _Backlog]:
    """Open candidates of each department: how many per score band, and the creation
    time of the median and of the oldest one."""
    through = MergeCandidate.departments.through
    rows = through.objects.filter(
        department__in=[d.pk for d in departments],
        mergecandidate__status=MergeCandidate.Status.OPEN,
    ).order_by()
    utc = timezone.get_fixed_timezone(0)
    if is_postgresql():
        # One pass over the backlog for every figure.
        bands = {
            name: Count("pk", filter=Q(mergecandidate__probability__gte=low,
                                       mergecandidate__probability__lt=high))
            for name, (low, high) in SCORE_BANDS.items()
        }
        found = {}
        # Read as mappings: the bands are annotated under names the type checker cannot see.
        backlog_rows: Iterable[Mapping[str, Any]] = rows.values("department_id").annotate(
            total=Count("pk"), **bands,
            median=_MedianEpoch("mergecandidate__created_at"),
            oldest=Min("mergecandidate__created_at"),
        )
        for row in backlog_rows:
            band_counts = {
                name: n for name, n in row.items()
                if name not in ("department_id", "median", "oldest")
            }
            median = datetime.fromtimestamp(row["median"], tz=utc)
            found[row["department_id"]] = _Backlog(band_counts, median, row["oldest"])
        return found
    # Elsewhere (SQLite, development): the counts as the queue shows them, and the
    # median in Python over one column.
    counts = queue_counts(departments=[d.pk for d in departments])
    stamps: dict[int, list[float]] = defaultdict(list)
    for department_id, created_at in rows.values_list(
        "department_id", "mergecandidate__created_at"
    ):
        stamps[department_id].append(created_at.timestamp())
    return {
        pk: _Backlog(
            counts[pk],
            datetime.fromtimestamp(statistics.median(stamps[pk]), tz=utc),
            datetime.fromtimestamp(min(stamps[pk]), tz=utc),
        )
        for pk in counts
    }


def _daily(departments: list[Department], *, since: datetime) -> dict[int, dict[date, dict]]:
    """Decisions per department, local day and kind since `since` (one query)."""
    # Read as mappings: the per-department counts have names the type checker cannot see.
    rows: Iterable[Mapping[str, Any]] = (
        Decision.objects.filter(decided_at__gte=since)
        .annotate(day=TruncDate("decided_at"))
        .values("day", "kind")
        .annotate(**_per_department(departments))
        .order_by()
    )
    found: dict[int, dict[date, dict]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        column = DAILY_KINDS.get(row["kind"])
        if column is None:
            continue
        for d in departments:
            count = row[f"d{d.pk}"]
            if count:
                by_kind = found[d.pk][row["day"]]
                by_kind[column] = by_kind.get(column, 0) + count
    return found


def _overturns(departments: list[Department], *, since: datetime) -> dict[int, Overturns]:
    """Merges and detachments of the period, split by what became of them (one query)."""
    engine_link = Case(
        When(kind=Decision.Kind.DETACH, after__pair_decisions__removed__0__isnull=True,
             then=Value(True)),
        default=Value(False), output_field=BooleanField(),
    )
    undone = Case(
        When(undone_at__isnull=False, then=Value(True)), default=Value(False),
        output_field=BooleanField(),
    )
    # Read as mappings: the per-department counts have names the type checker cannot see.
    rows: Iterable[Mapping[str, Any]] = (
        Decision.objects.filter(
            decided_at__gte=since, kind__in=(Decision.Kind.MERGE, Decision.Kind.DETACH)
        )
        .annotate(is_undone=undone, is_engine_link=engine_link)
        .values("kind", "is_undone", "is_engine_link")
        .annotate(**_per_department(departments))
        .order_by()
    )
    totals: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        for d in departments:
            count = row[f"d{d.pk}"]
            if not count:
                continue
            figures = totals[d.pk]
            if row["kind"] == Decision.Kind.MERGE:
                figures["merges"] += count
                if row["is_undone"]:
                    figures["merges_undone"] += count
            else:
                figures["detaches"] += count
                if row["is_undone"]:
                    figures["detaches_undone"] += count
                elif row["is_engine_link"]:
                    figures["engine_links_undone"] += count
    return {pk: Overturns(**figures) for pk, figures in totals.items()}


def stewardship_metrics(
    *, user, period_days: int = DEFAULT_PERIOD, now: datetime | None = None
) -> MetricsReport:
    """The figures of every department the person may look at (none: an empty report)."""
    now = now or timezone.now()
    if period_days not in PERIODS:
        period_days = DEFAULT_PERIOD
    period_start = now - timedelta(days=period_days)
    today = timezone.localdate(now)
    days_start = today - timedelta(days=DAYS_SHOWN - 1)
    daily_since = timezone.make_aware(datetime.combine(days_start, datetime.min.time()))
    departments = list(viewable_departments_for(user).order_by("name"))
    if not departments:
        return MetricsReport([], period_days, period_start, days_start, now)

    empty = _Backlog({"total": 0, **dict.fromkeys(SCORE_BANDS, 0)})
    backlogs = _backlog(departments)
    daily = _daily(departments, since=daily_since)
    overturns = _overturns(departments, since=period_start)
    days = [days_start + timedelta(days=n) for n in range(DAYS_SHOWN)]
    report = []
    for d in departments:
        backlog = backlogs.get(d.pk, empty)
        report.append(DepartmentMetrics(
            department=d,
            backlog=backlog.counts,
            median_open_since=backlog.median,
            oldest_open_since=backlog.oldest,
            days=[DayCounts(day, **daily.get(d.pk, {}).get(day, {})) for day in days],
            overturns=overturns.get(d.pk, Overturns()),
        ))
    return MetricsReport(report, period_days, period_start, days_start, now)
