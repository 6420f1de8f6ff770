"""Stewardship figures per department."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET

from stewardship.selectors.metrics import DEFAULT_PERIOD, PERIODS, stewardship_metrics


def _period_choices() -> list[tuple[int, str]]:
    # A callable: the labels are translated per request, in the person's language.
    return [(days, ngettext("%(days)d day", "%(days)d days", days) % {"days": days})
            for days in PERIODS]


class MetricsPeriodForm(forms.Form):
    period = forms.TypedChoiceField(
        label=_("Decisions taken over the last"), required=False, coerce=int,
        choices=_period_choices,
    )

    def period_days(self) -> int:
        """The period asked for; anything unreadable falls back to the default."""
        if self.is_valid() and self.cleaned_data.get("period"):
            return self.cleaned_data["period"]
        return DEFAULT_PERIOD


@login_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Backlog, daily decisions and overturns of each department the person may see;
    an empty page for someone who may see none (as the queue does)."""
    form = MetricsPeriodForm(request.GET)
    report = stewardship_metrics(user=request.user, period_days=form.period_days())
    return render(request, "stewardship/metrics.html", {"form": form, "report": report})
