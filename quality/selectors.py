"""Reads of the quality pages and API, with the access rules.

Every figure comes from the latest daily snapshot (`QualityFigure`), read through its
unique index by scope and day: a page costs a few indexed queries whatever the size of
the base. Who sees what:
- a source's figures: whoever sees the source (a role, or a department owning it);
- the golden customers and the whole base: whoever sees every customer;
- a department's figures and its stewards' decisions: whoever may look at its queue.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Aggregate, Count, FloatField, Max, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from quality.flags import CONSISTENCY_CHECKS
from quality.measure import has_flag
from quality.models import (
    BASE,
    GOLDEN,
    Metric,
    QualityFigure,
    QualityRule,
    QualitySnapshot,
    department_scope,
    source_scope,
)
from quality.services import Breach, quality_rule_breaches
from rcu.attributes import CANONICAL_NAMES
from rcu.db import is_postgresql
from rcu.models import Department, ImportJob, SourceRecord, SourceSystem
from rcu.selectors.customers import VIEW_ALL as VIEW_ALL_CUSTOMERS
from rcu.selectors.records import records_visible_to
from rcu.selectors.sources import sources_for_user
from stewardship.models import Decision, MergeCandidate
from stewardship.selectors.access import viewable_departments_for

TREND_DAYS = (30, 90, 365)
DEFAULT_TREND_DAYS = 90
STEWARD_DAYS = 30


@dataclass(frozen=True, slots=True)
class Rate:
    """`numerator` of `denominator`; the rate is None when there is nothing to measure."""

    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def per_thousand(self) -> float | None:
        return 1000 * self.numerator / self.denominator if self.denominator else None

    def to_json(self) -> dict:
        return {"rate": self.rate, "numerator": self.numerator, "denominator": self.denominator}


def _sum(rates) -> Rate:
    rates = [r for r in rates if r is not None]
    return Rate(sum(r.numerator for r in rates), sum(r.denominator for r in rates))


@dataclass(frozen=True)
class FlagCount:
    flag: str
    records: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.records / self.total if self.total else None


@dataclass(frozen=True)
class AttributeQuality:
    attribute: str
    total: int
    completeness: Rate
    validity: Rate
    agreement: Rate
    consistency: Rate | None = None  # None: no consistency check bears on it
    golden_completeness: Rate | None = None  # None for someone who may not see it
    flags: list[FlagCount] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.completeness.denominator - self.completeness.numerator


@dataclass(frozen=True)
class SourceQuality:
    source: SourceSystem
    records: int
    completeness: Rate
    validity: Rate
    consistency: Rate
    agreement: Rate
    uniqueness: Rate
    candidates: Rate
    freshness: Rate
    last_import_at: datetime | None
    breaches: list[Breach] = field(default_factory=list)


@dataclass(frozen=True)
class QualityOverview:
    snapshot: QualitySnapshot | None
    sources: list[SourceQuality]
    golden: list[AttributeQuality]  # empty for who may not see every customer
    golden_records: int | None
    golden_consolidated: Rate | None
    best_source_completeness: dict[str, Rate]  # attribute → best visible source's

    @property
    def breaches(self) -> list[Breach]:
        return [b for s in self.sources for b in s.breaches]


def latest_snapshot() -> QualitySnapshot | None:
    return QualitySnapshot.objects.filter(finished_at__isnull=False).order_by("-taken_on").first()


def _figures(scopes, day: date) -> dict[str, dict[tuple[str, str, str], QualityFigure]]:
    found: dict[str, dict[tuple[str, str, str], QualityFigure]] = defaultdict(dict)
    for f in QualityFigure.objects.filter(taken_on=day, scope__in=list(scopes)):
        found[f.scope][(f.attribute, f.metric, f.detail)] = f
    return found


def _rate(figures: dict, attribute: str, metric: str) -> Rate | None:
    f = figures.get((attribute, metric, ""))
    return Rate(f.numerator, f.denominator) if f is not None else None


def sees_everything(user) -> bool:
    return user.is_authenticated and user.has_perm(VIEW_ALL_CUSTOMERS)


def quality_overview(*, user) -> QualityOverview:
    """Per visible source its rates of the latest snapshot, its breaches, and for people
    who see every customer the golden customers' completeness beside the best source's."""
    snapshot = latest_snapshot()
    sources = list(sources_for_user(user).order_by("trust_rank", "code"))
    if snapshot is None:
        return QualityOverview(None, [], [], None, None, {})
    day = snapshot.taken_on
    scopes = [source_scope(s.code) for s in sources]
    everything = sees_everything(user)
    if everything:
        scopes.append(GOLDEN)
    figures = _figures(scopes, day)
    breaches: dict[int, list[Breach]] = defaultdict(list)
    for breach in quality_rule_breaches(taken_on=day, sources=sources):
        breaches[breach.rule.source_id].append(breach)
    last_imports = dict(
        ImportJob.objects.filter(source__in=sources).values_list("source_id")
        .annotate(last=Max("created_at")).order_by()
    )
    rows = []
    best: dict[str, Rate] = {}
    for source in sources:
        own = figures.get(source_scope(source.code), {})
        by_metric: dict[str, list[Rate]] = defaultdict(list)
        for (attribute, metric, detail), f in own.items():
            if attribute and not detail:
                by_metric[metric].append(Rate(f.numerator, f.denominator))
            if metric == Metric.COMPLETENESS and f.denominator:
                current = best.get(attribute)
                if current is None or f.numerator / f.denominator > (current.rate or 0):
                    best[attribute] = Rate(f.numerator, f.denominator)
        records = own.get(("", Metric.RECORDS, ""))
        rows.append(SourceQuality(
            source=source,
            records=records.numerator if records else 0,
            completeness=_sum(by_metric[Metric.COMPLETENESS]),
            validity=_sum(by_metric[Metric.VALIDITY]),
            consistency=_sum(by_metric[Metric.CONSISTENCY]),
            agreement=_sum(by_metric[Metric.AGREEMENT]),
            uniqueness=_rate(own, "", Metric.UNIQUENESS) or Rate(0, 0),
            candidates=_rate(own, "", Metric.CANDIDATES) or Rate(0, 0),
            freshness=_rate(own, "", Metric.FRESHNESS) or Rate(0, 0),
            last_import_at=last_imports.get(source.pk),
            breaches=breaches.get(source.pk, []),
        ))
    golden: list[AttributeQuality] = []
    golden_records = consolidated = None
    if everything:
        own = figures.get(GOLDEN, {})
        records = own.get(("", Metric.RECORDS, ""))
        golden_records = records.numerator if records else 0
        consolidated = _rate(own, "", Metric.UNIQUENESS)
        for (attribute, metric, _detail), f in sorted(own.items()):
            if attribute and metric == Metric.COMPLETENESS:
                rate = Rate(f.numerator, f.denominator)
                golden.append(AttributeQuality(attribute, f.denominator, rate, Rate(0, 0), Rate(0, 0)))
        order = {name: i for i, name in enumerate(CANONICAL_NAMES)}
        golden.sort(key=lambda a: (order.get(a.attribute, len(order)), a.attribute))
    return QualityOverview(snapshot, rows, golden, golden_records, consolidated, best)


def source_attribute_quality(*, user, source: SourceSystem) -> tuple[QualitySnapshot | None, list[AttributeQuality]]:
    """One source's figures per attribute (the caller resolved `source` for `user`)."""
    snapshot = latest_snapshot()
    if snapshot is None:
        return None, []
    scope = source_scope(source.code)
    scopes = [scope, GOLDEN] if sees_everything(user) else [scope]
    figures = _figures(scopes, snapshot.taken_on)
    own, golden = figures.get(scope, {}), figures.get(GOLDEN, {})
    checked = {check.attribute for check in CONSISTENCY_CHECKS}
    attributes: list[AttributeQuality] = []
    for (attribute, metric, _detail), f in own.items():
        if metric != Metric.COMPLETENESS or not attribute:
            continue
        flags = sorted(
            (FlagCount(g.detail, g.numerator, g.denominator)
             for (a, m, _d), g in own.items() if a == attribute and m == Metric.FLAG),
            key=lambda fc: (-fc.records, fc.flag),
        )
        attributes.append(AttributeQuality(
            attribute=attribute,
            total=f.denominator,
            completeness=Rate(f.numerator, f.denominator),
            validity=_rate(own, attribute, Metric.VALIDITY) or Rate(0, 0),
            agreement=_rate(own, attribute, Metric.AGREEMENT) or Rate(0, 0),
            consistency=_rate(own, attribute, Metric.CONSISTENCY) if attribute in checked else None,
            golden_completeness=_rate(golden, attribute, Metric.COMPLETENESS),
            flags=flags,
        ))
    order = {name: i for i, name in enumerate(CANONICAL_NAMES)}
    attributes.sort(key=lambda a: (order.get(a.attribute, len(order)), a.attribute))
    return snapshot, attributes


# --- trends -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Series:
    name: str  # what the line is (a source code, an attribute)
    points: list[tuple[date, Rate]]


def quality_trend(*, scopes: dict[str, str], metric: str, days: int, attribute: str | None = None,
                  today: date | None = None) -> list[Series]:
    """One line per scope (name → scope): the day's `metric` summed over attributes
    (or of one `attribute`), over the last `days` days. Read through the unique index."""
    today = today or timezone.localdate()
    since = today - timedelta(days=days - 1)
    rows = QualityFigure.objects.filter(
        scope__in=list(scopes.values()), taken_on__gte=since, metric=metric, detail=""
    )
    rows = rows.filter(attribute=attribute) if attribute is not None else rows.exclude(attribute="")
    found: dict[str, list[tuple[date, Rate]]] = defaultdict(list)
    for row in (rows.values("scope", "taken_on").annotate(n=Sum("numerator"), d=Sum("denominator"))
                .order_by("scope", "taken_on")):
        found[row["scope"]].append((row["taken_on"], Rate(row["n"], row["d"])))
    return [Series(name, found[scope]) for name, scope in scopes.items() if found.get(scope)]


@dataclass(frozen=True)
class Pivot:
    """Series side by side: one row per day, one column per series (None: not measured)."""

    columns: list[str]
    rows: list[tuple[date, list[Rate | None]]]


def trend_pivot(series: list[Series]) -> Pivot:
    by_day: dict[date, list[Rate | None]] = defaultdict(lambda: [None] * len(series))
    for i, s in enumerate(series):
        for day, rate in s.points:
            by_day[day][i] = rate
    return Pivot([s.name for s in series], sorted(by_day.items(), reverse=True))


# --- business KPIs ----------------------------------------------------------------------

@dataclass(frozen=True)
class ScopeKpis:
    scope: str
    department: Department | None  # None for the whole base
    records: int
    duplicate_rate: Rate
    auto_link_rate: Rate
    candidates: Rate  # open candidates of the day measured, per record
    open_candidates: int | None = None  # now (departments only)
    median_open_since: datetime | None = None
    oldest_open_since: datetime | None = None
    ageing: tuple[int, ...] = ()  # open candidates per AGE_BANDS band
    overturn_rate: Rate | None = None  # merges of the period undone since


@dataclass(frozen=True)
class StewardDay:
    steward: str
    decisions: int
    days: int  # days with at least one decision
    busiest: int
    by_day: tuple[tuple[date, int], ...] = ()  # (local day, decisions), oldest first

    @property
    def per_day(self) -> float:
        return self.decisions / self.days if self.days else 0.0


@dataclass(frozen=True)
class KpiReport:
    snapshot: QualitySnapshot | None
    base: ScopeKpis | None  # for who sees every customer
    departments: list[ScopeKpis]
    stewards: list[StewardDay]
    steward_days: int
    period_days: int
    now: datetime


# How long open candidates have waited: under a day, a week, a month, longer.
AGE_BANDS: tuple[tuple[int, int | None], ...] = ((0, 1), (1, 7), (7, 30), (30, None))
OVERTURN_DAYS = 30


class _MedianEpoch(Aggregate):
    """PostgreSQL: the median of a timestamp column, as seconds since the epoch."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM %(expressions)s))"
    output_field = FloatField()


@dataclass(frozen=True)
class Backlog:
    open: int
    median_open_since: datetime | None
    oldest_open_since: datetime | None
    ageing: tuple[int, ...]


def department_backlogs(*, departments, now: datetime) -> dict[int, Backlog]:
    """Open candidates of each department now: how many, the median and oldest creation
    time, and how many per age band (one grouped query over the department links)."""
    through = MergeCandidate.departments.through
    bands = {}
    for i, (low, high) in enumerate(AGE_BANDS):
        older = Q(mergecandidate__created_at__lte=now - timedelta(days=low))
        if high is not None:
            older &= Q(mergecandidate__created_at__gt=now - timedelta(days=high))
        bands[f"b{i}"] = Count("pk", filter=older)
    rows = through.objects.filter(
        department__in=departments, mergecandidate__status=MergeCandidate.Status.OPEN
    ).order_by()
    postgres = is_postgresql()
    extra = {"median": _MedianEpoch("mergecandidate__created_at")} if postgres else {}
    found = {}
    utc = timezone.get_fixed_timezone(0)
    for grouped in rows.values("department_id").annotate(
        total=Count("pk"), oldest=Min("mergecandidate__created_at"), **bands, **extra
    ):
        row: dict[str, Any] = dict(grouped)
        if postgres:
            median = datetime.fromtimestamp(row["median"], tz=utc)
        else:  # small bases (SQLite): the median in Python over one column
            stamps = [stamp.timestamp() for stamp in rows.filter(department_id=row["department_id"])
                      .values_list("mergecandidate__created_at", flat=True)]
            median = datetime.fromtimestamp(statistics.median(stamps), tz=utc)
        found[row["department_id"]] = Backlog(
            row["total"], median, row["oldest"], tuple(row[f"b{i}"] for i in range(len(AGE_BANDS)))
        )
    return found


def department_overturns(*, departments, since: datetime) -> dict[int, Rate]:
    """Merges decided since `since` in each department, and how many were undone since
    (a decision's departments are those owning the sources of the records it touched)."""
    rows = (
        Decision.objects.filter(kind=Decision.Kind.MERGE, decided_at__gte=since,
                                departments__in=departments)
        .values("departments").annotate(
            merges=Count("pk", distinct=True),
            undone=Count("pk", filter=Q(undone_at__isnull=False), distinct=True),
        ).order_by()
    )
    return {row["departments"]: Rate(row["undone"], row["merges"]) for row in rows}


def steward_decisions(*, departments, since: datetime) -> list[StewardDay]:
    """Decisions per steward per day since `since`, in the given departments (one query)."""
    rows = (
        Decision.objects.filter(decided_at__gte=since, departments__in=departments)
        .annotate(day=TruncDate("decided_at")).values("decided_by__username", "day")
        .annotate(n=Count("pk", distinct=True)).order_by()
    )
    per: dict[str, list[tuple[date, int]]] = defaultdict(list)
    for row in rows:
        per[row["decided_by__username"] or "—"].append((row["day"], row["n"]))
    return sorted(
        (StewardDay(name, sum(n for _d, n in days), len(days), max(n for _d, n in days),
                    tuple(sorted(days)))
         for name, days in per.items()),
        key=lambda s: (-s.decisions, s.steward),
    )


def _scope_kpis(figures: dict, scope: str, department: Department | None, **live) -> ScopeKpis:
    records = figures.get(("", Metric.RECORDS, ""))
    return ScopeKpis(
        scope=scope, department=department, records=records.numerator if records else 0,
        duplicate_rate=_rate(figures, "", Metric.DUPLICATE_RATE) or Rate(0, 0),
        auto_link_rate=_rate(figures, "", Metric.AUTO_LINK_RATE) or Rate(0, 0),
        candidates=_rate(figures, "", Metric.CANDIDATES) or Rate(0, 0),
        **live,
    )


def quality_kpis(*, user, now: datetime | None = None) -> KpiReport:
    """The business figures the person may see: the whole base for who sees every
    customer, and each department whose queue they may look at. The rates come from the
    latest measure; the backlog, overturns and decisions are read now (small tables)."""
    now = now or timezone.now()
    snapshot = latest_snapshot()
    departments = list(viewable_departments_for(user).order_by("name"))
    everything = sees_everything(user)
    scopes = [department_scope(d.code) for d in departments] + ([BASE] if everything else [])
    figures = _figures(scopes, snapshot.taken_on) if snapshot is not None else {}
    base = _scope_kpis(figures.get(BASE, {}), BASE, None) if everything and snapshot else None
    rows: list[ScopeKpis] = []
    stewards: list[StewardDay] = []
    if departments:
        backlogs = department_backlogs(departments=departments, now=now)
        overturns = department_overturns(departments=departments,
                                         since=now - timedelta(days=OVERTURN_DAYS))
        empty = Backlog(0, None, None, (0,) * len(AGE_BANDS))
        for d in departments:
            backlog = backlogs.get(d.pk, empty)
            rows.append(_scope_kpis(
                figures.get(department_scope(d.code), {}), department_scope(d.code), d,
                open_candidates=backlog.open, median_open_since=backlog.median_open_since,
                oldest_open_since=backlog.oldest_open_since, ageing=backlog.ageing,
                overturn_rate=overturns.get(d.pk, Rate(0, 0)),
            ))
        stewards = steward_decisions(departments=departments, since=now - timedelta(days=STEWARD_DAYS))
    return KpiReport(snapshot, base, rows, stewards, STEWARD_DAYS, OVERTURN_DAYS, now)


# --- drill-down -------------------------------------------------------------------------

def quality_records(*, user, source: SourceSystem, flag: str = "", missing: str = "") -> QuerySet[SourceRecord]:
    """The records behind a figure: a source's live records carrying `flag`, or missing
    `missing`; within what the person may see (the caller resolved the source)."""
    records = records_visible_to(user).filter(source=source, deleted_at_source__isnull=True)
    if flag:
        records = records.filter(has_flag(flag))
    if missing:
        records = records.filter(~Q(attributes__has_key=missing))
    return records.order_by("pk")


def visible_rules(*, user) -> QuerySet[QualityRule]:
    return QualityRule.objects.filter(source__in=sources_for_user(user)).select_related("source")
