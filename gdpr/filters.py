"""The request list's FilterSet, shared by the dashboard and the API; it runs inside
`gdpr.selectors.requests.subject_request_list`.

`state`: one state, or `open` (the default: every open state) or `closed` (done or
refused) or `all`. `overdue`: true for open requests whose deadline in force has passed.
The order is always the deadline in force, soonest first.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from gdpr.models import RequestKind, RequestState, SubjectRequest
from gdpr.models.requests import OPEN_STATES
from rcu.normalisation.dates import paris_today

STATE_OPEN, STATE_CLOSED, STATE_ALL = "open", "closed", "all"
STATE_CHOICES = [
    (STATE_OPEN, _("open")), (STATE_CLOSED, _("closed")), (STATE_ALL, _("all")),
    *RequestState.choices,
]


class SubjectRequestFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RequestKind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(
        choices=STATE_CHOICES, method="filter_state", label=_("State"), empty_label=_("open"),
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = SubjectRequest
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[SubjectRequest]) -> QuerySet[SubjectRequest]:
        # Filters with a method only run when given a value: the default applies here.
        if not self.form.cleaned_data.get("state"):
            queryset = queryset.filter(OPEN_STATES)
        queryset = super().filter_queryset(queryset)
        return queryset.annotate(
            deadline_in_force=Coalesce(F("extended_due_on"), F("due_on"))
        ).order_by("deadline_in_force", "id")

    def filter_state(self, queryset: QuerySet[SubjectRequest], name: str, value: Any):
        if value == STATE_OPEN:
            return queryset.filter(OPEN_STATES)
        if value == STATE_CLOSED:
            return queryset.filter(state__in=RequestState.closed())
        if value == STATE_ALL:
            return queryset
        return queryset.filter(state=value)

    def filter_overdue(self, queryset: QuerySet[SubjectRequest], name: str, value: bool | None):
        today = paris_today()
        late = OPEN_STATES & (
            Q(extended_due_on__lt=today) | Q(extended_due_on__isnull=True, due_on__lt=today)
        )
        return queryset.filter(late) if value else queryset.exclude(late)
