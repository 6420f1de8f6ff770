"""A department's queue of merge candidates: filters, sorting, counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from rcu.models import Department, SourceSystem
from stewardship.models import MergeCandidate
from stewardship.triage import Triage

SCORE_BANDS: dict[str, tuple[float, float]] = {
    "high": (0.9, 1.01),
    "medium": (0.7, 0.9),
    "low": (0.0, 0.7),
}
AGE_DAYS = {"1d": 1, "7d": 7, "30d": 30}
TRIAGE_BANDS = {"likely": Triage.LIKELY, "check": Triage.CHECK, "contradiction": Triage.CONTRADICTION}
SORTS = {
    # Likely duplicates first, contradictions last, each band by match weight
    # (stewardship.triage); index candidate_triage_idx.
    "triage": ("triage", "-weight", "pk"),
    "score": ("-probability", "pk"),
    "-score": ("probability", "pk"),
    "age": ("created_at", "pk"),
    "-age": ("-created_at", "-pk"),
}
DEFAULT_SORT = "triage"
# Counting a backlog of 100,000 costs more than showing a page of it: the queue counts
# up to this many and says "1,000+" beyond (the metrics page has the exact figures).
COUNT_CAP = 1000


@dataclass(frozen=True)
class QueueFilters:
    """What a steward narrowed their queue to; every field optional."""

    status: str = MergeCandidate.Status.OPEN
    band: str = ""
    triage: str = ""  # "likely", "check" or "contradiction"
    source: str = ""
    age: str = ""
    assignee: str = ""  # "me", "free", "held", "assigned" (to me) or a username
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
    if filters.triage in TRIAGE_BANDS:
        candidates = candidates.filter(triage=int(TRIAGE_BANDS[filters.triage]))
    if filters.source:
        candidates = candidates.filter(
            Q(record_a__source__code=filters.source) | Q(record_b__source__code=filters.source)
        )
    if filters.age == "overdue":
        candidates = candidates.filter(created_at__lte=overdue_since(department))
    elif filters.age in AGE_DAYS:
        candidates = candidates.filter(
            created_at__lte=timezone.now() - timedelta(days=AGE_DAYS[filters.age])
        )
    now = timezone.now()
    held = Q(leased_by__isnull=False, leased_until__gt=now)
    if filters.assignee == "assigned":
        candidates = candidates.filter(assigned_to=user)
    elif filters.assignee == "me":
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
        "leased_by", "assigned_to",
    ).order_by(*order)


def overdue_since(department: Department):
    """Candidates proposed before this are past the department's target age."""
    return timezone.now() - timedelta(days=department.review_target_days)


def queue_overdue_counts(*, departments) -> dict[int, int]:
    """Open candidates past each department's target age, capped."""
    through = MergeCandidate.departments.through
    return {
        department.pk: capped_count(
            through.objects.filter(
                department=department, mergecandidate__status=MergeCandidate.Status.OPEN,
                mergecandidate__created_at__lte=overdue_since(department),
            )
        )
        for department in departments
    }


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
    base = ordered.exclude(pk=candidate.pk).select_related(None)
    if key and key[0] == "triage":
        # Keyset on (triage ascending, weight descending, pk ascending).
        t, w, pk = candidate.triage, candidate.weight, candidate.pk
        later = Q(triage__gt=t) | Q(triage=t, weight__lt=w) | Q(triage=t, weight=w, pk__gt=pk)
        earlier = Q(triage__lt=t) | Q(triage=t, weight__gt=w) | Q(triage=t, weight=w, pk__lt=pk)
        nxt = base.filter(later).values_list("pk", flat=True).first()
        prev = base.filter(earlier).reverse().values_list("pk", flat=True).first()
        return prev, nxt
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
    nxt = base.filter(Q(**after) | same_after).values_list("pk", flat=True).first()
    prev = (
        base.filter(Q(**before) | same_before).reverse().values_list("pk", flat=True).first()
    )
    return prev, nxt


@dataclass(frozen=True)
class Backlog:
    """A steward's view of one of their departments' queues, for their dashboard."""

    department: Department
    open: int  # capped at COUNT_CAP (+1 means more)
    overdue: int  # capped
    assigned_to_me: int
    decided_30d: int  # candidates of the department decided in the last 30 days
    within_target_30d: int  # of which decided within the department's target age

    @property
    def service_level(self) -> float | None:
        return self.within_target_30d / self.decided_30d if self.decided_30d else None


def steward_backlogs(*, user) -> list[Backlog]:
    """Per department the person works: backlog, overdue, theirs, and service level
    (share of the last 30 days' decisions taken within the target age)."""
    from stewardship.selectors.access import queue_departments_for

    since = timezone.now() - timedelta(days=30)
    backlogs = []
    for department in queue_departments_for(user).order_by("name"):
        open_ = MergeCandidate.objects.filter(_in_department(department), status=MergeCandidate.Status.OPEN)
        decided = MergeCandidate.objects.filter(
            _in_department(department), decided_at__gte=since,
            status__in=[MergeCandidate.Status.MERGED, MergeCandidate.Status.REJECTED],
        )
        target = timedelta(days=department.review_target_days)
        backlogs.append(Backlog(
            department=department,
            open=capped_count(open_),
            overdue=capped_count(open_.filter(created_at__lte=overdue_since(department))),
            assigned_to_me=capped_count(open_.filter(assigned_to=user)),
            decided_30d=decided.count(),
            within_target_30d=decided.filter(decided_at__lte=F("created_at") + target).count(),
        ))
    return backlogs
