"""A department's queue of merge candidates: filters, sorting, counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from rcu.models import Department, SourceSystem
from stewardship.models import MergeCandidate

SCORE_BANDS: dict[str, tuple[float, float]] = {
    "high": (0.9, 1.01),
    "medium": (0.7, 0.9),
    "low": (0.0, 0.7),
}
AGE_DAYS = {"1d": 1, "7d": 7, "30d": 30}
SORTS = {
    "score": ("-probability", "pk"),
    "-score": ("probability", "pk"),
    "age": ("created_at", "pk"),
    "-age": ("-created_at", "-pk"),
}
DEFAULT_SORT = "score"
# Counting a backlog of 100,000 costs more than showing a page of it: the queue counts
# up to this many and says "1,000+" beyond (the metrics page has the exact figures).
COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueFilters:
    """What a steward narrowed their queue to; every field optional."""

    status: str = MergeCandidate.Status.OPEN
    band: str = ""
    source: str = ""
    age: str = ""
    assignee: str = ""  # "me", "free", "held" or a username
    sort: str = DEFAULT_SORT


def _in_department(department: Department) -> Exists:
    through = MergeCandidate.departments.through
    return Exists(through.objects.filter(mergecandidate_id=OuterRef("pk"), department=department))


def queue_candidates(
    *, department: Department, filters: QueueFilters, user
) -> QuerySet[MergeCandidate]:
    """The department's candidates as filtered and sorted, rows ready to display."""
    candidates = MergeCandidate.objects.filter(_in_department(department))
    if filters.status:
        candidates = candidates.filter(status=filters.status)
    if filters.band in SCORE_BANDS:
        low, high = SCORE_BANDS[filters.band]
        candidates = candidates.filter(probability__gte=low, probability__lt=high)
    if filters.source:
        candidates = candidates.filter(
            Q(record_a__source__code=filters.source) | Q(record_b__source__code=filters.source)
        )
    if filters.age in AGE_DAYS:
        candidates = candidates.filter(
            created_at__lte=timezone.now() - timedelta(days=AGE_DAYS[filters.age])
        )
    now = timezone.now()
    held = Q(leased_by__isnull=False, leased_until__gt=now)
    if filters.assignee == "me":
        candidates = candidates.filter(held, leased_by=user)
    elif filters.assignee == "free":
        candidates = candidates.exclude(held)
    elif filters.assignee == "held":
        candidates = candidates.filter(held)
    elif filters.assignee:
        candidates = candidates.filter(held, leased_by__username=filters.assignee)
    order = SORTS.get(filters.sort, SORTS[DEFAULT_SORT])
    return candidates.select_related(
        "record_a__source", "record_b__source", "record_a__customer", "record_b__customer",
        "leased_by",
    ).order_by(*order)


def queue_counts(*, departments: Iterable[Department | int]) -> dict[int, dict[str, int]]:
    """Open candidates per department and per score band (one query)."""
    through = MergeCandidate.departments.through
    bands = {
        name: Count("pk", filter=Q(mergecandidate__probability__gte=low,
                                   mergecandidate__probability__lt=high))
        for name, (low, high) in SCORE_BANDS.items()
    }
    # Read as mappings: the bands are annotated under names the type checker cannot see.
    rows: Iterable[Mapping[str, Any]] = (
        through.objects.filter(
            department__in=departments, mergecandidate__status=MergeCandidate.Status.OPEN
        )
        .values("department_id")
        .annotate(total=Count("pk"), **bands)
    )
    return {
        row["department_id"]: {name: n for name, n in row.items() if name != "department_id"}
        for row in rows
    }


def capped_count(queryset: QuerySet, *, cap: int = COUNT_CAP) -> int:
    """How many rows, stopping at cap + 1: `count > cap` means "more than cap"."""
    return queryset.order_by().values("pk")[: cap + 1].count()


def queue_open_counts(*, departments) -> dict[int, int]:
    """Open candidates of each department, capped (one small query per department)."""
    through = MergeCandidate.departments.through
    return {
        department.pk: capped_count(
            through.objects.filter(
                department=department, mergecandidate__status=MergeCandidate.Status.OPEN
            )
        )
        for department in departments
    }


def queue_sources(department: Department) -> QuerySet[SourceSystem]:
    """Sources a department's candidates can come from: every source (a candidate
    joins the department's records to anyone's)."""
    return SourceSystem.objects.order_by("name").only("code", "name")


def queue_neighbours(
    *, department: Department, filters: QueueFilters, user, candidate: MergeCandidate
) -> tuple[int | None, int | None]:
    """The previous and next open candidates around this one in the queue's order."""
    ordered = queue_candidates(department=department, filters=filters, user=user)
    key = ordered.query.order_by
    value: float | datetime
    if key and key[0] in ("-probability", "probability"):
        value = candidate.probability
        field = "probability"
    else:
        value = candidate.created_at
        field = "created_at"
    descending = key[0].startswith("-") if key and isinstance(key[0], str) else True
    after = {f"{field}__lt" if descending else f"{field}__gt": value}
    before = {f"{field}__gt" if descending else f"{field}__lt": value}
    same_after = Q(**{field: value}, pk__gt=candidate.pk)
    same_before = Q(**{field: value}, pk__lt=candidate.pk)
    base = ordered.exclude(pk=candidate.pk).select_related(None)
    nxt = base.filter(Q(**after) | same_after).values_list("pk", flat=True).first()
    prev = (
        base.filter(Q(**before) | same_before).reverse().values_list("pk", flat=True).first()
    )
    return prev, nxt
