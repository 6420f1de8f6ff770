"""The candidate list's FilterSet. It runs inside `stewardship.apis.selectors.candidate_list`.

The vocabulary is the review queue's (`stewardship.selectors.queue`): the same score
bands, the same sorts, the same assignee values, so that a link from the UI and an API
call narrow the queue the same way.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from stewardship.models import MergeCandidate
from stewardship.selectors.access import candidates_visible_to
from stewardship.selectors.queue import DEFAULT_SORT, SCORE_BANDS, SORTS, TRIAGE_BANDS

ANY_STATUS = "all"
ASSIGNEE_KEYWORDS = ("me", "free", "held")


class CandidateFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*MergeCandidate.Status.choices, (ANY_STATUS, _("Any status"))],
        method="filter_status", label=_("Status (default: open)"),
    )
    department = django_filters.CharFilter(method="filter_department", label=_("Department code"))
    band = django_filters.ChoiceFilter(
        choices=[(band, band) for band in SCORE_BANDS], method="filter_band", label=_("Score band")
    )
    triage = django_filters.ChoiceFilter(
        choices=[(band, band) for band in TRIAGE_BANDS], method="filter_triage",
        label=_("Triage band"),
    )
    source = django_filters.CharFilter(method="filter_source", label=_("Source code"))
    min_score = django_filters.NumberFilter(
        field_name="probability", lookup_expr="gte", label=_("Probability at least")
    )
    max_score = django_filters.NumberFilter(
        field_name="probability", lookup_expr="lte", label=_("Probability at most")
    )
    assignee = django_filters.CharFilter(method="filter_assignee", label=_("Held by"))
    sort = django_filters.ChoiceFilter(
        choices=[(name, name) for name in SORTS], method="filter_sort", label=_("Sort")
    )

    class Meta:
        model = MergeCandidate
        fields: list[str] = []

    def __init__(self, data: Any = None, *, user, **kwargs: Any) -> None:
        self.user = user
        super().__init__(data, queryset=candidates_visible_to(user), **kwargs)

    def filter_queryset(self, queryset: QuerySet[MergeCandidate]) -> QuerySet[MergeCandidate]:
        # Filters with a method only run when given a value: the defaults apply here.
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(status=MergeCandidate.Status.OPEN)
        if not self.form.cleaned_data.get("sort"):
            queryset = queryset.order_by(*SORTS[DEFAULT_SORT])
        return super().filter_queryset(queryset)

    def filter_status(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        return queryset if value == ANY_STATUS else queryset.filter(status=value)

    def filter_department(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        through = MergeCandidate.departments.through
        return queryset.filter(Exists(through.objects.filter(
            mergecandidate_id=OuterRef("pk"), department__code=value.strip()
        )))

    def filter_band(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        low, high = SCORE_BANDS[value]
        return queryset.filter(probability__gte=low, probability__lt=high)

    def filter_triage(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        return queryset.filter(triage=int(TRIAGE_BANDS[value]))

    def filter_source(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        code = value.strip()
        return queryset.filter(Q(record_a__source__code=code) | Q(record_b__source__code=code))

    def filter_assignee(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        held = Q(leased_by__isnull=False, leased_until__gt=timezone.now())
        value = value.strip()
        if value == "me":
            return queryset.filter(held, leased_by=self.user)
        if value == "free":
            return queryset.exclude(held)
        if value == "held":
            return queryset.filter(held)
        return queryset.filter(held, leased_by__username=value)

    def filter_sort(self, queryset: QuerySet[MergeCandidate], name: str, value: str):
        return queryset.order_by(*SORTS[value])
