"""Forms of the stewards' workspace: queue filters and the decision forms."""

from __future__ import annotations

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from stewardship.models import MergeCandidate
from stewardship.selectors.queue import (
    AGE_DAYS,
    DEFAULT_SORT,
    SCORE_BANDS,
    SORTS,
    TRIAGE_BANDS,
    QueueFilters,
)


class QueueFilterForm(forms.Form):
    department = forms.CharField(required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False,
        choices=[("", _("Any status")), *MergeCandidate.Status.choices],
    )
    band = forms.ChoiceField(
        label=_("Score"), required=False,
        choices=[("", _("Any score")), ("high", _("High (≥ 0.90)")),
                 ("medium", _("Medium (0.70 to 0.90)")), ("low", _("Low (< 0.70)"))],
    )
    triage = forms.ChoiceField(
        label=_("Triage"), required=False,
        choices=[("", _("Any")), ("likely", _("Likely duplicates")), ("check", _("To check")),
                 ("contradiction", _("Contradictions"))],
    )
    source = forms.CharField(label=_("Source"), required=False)
    age = forms.ChoiceField(
        label=_("Waiting for"), required=False,
        choices=[("", _("Any age")), ("overdue", _("past the department's target")),
                 ("1d", _("over a day")), ("7d", _("over a week")), ("30d", _("over a month"))],
    )
    assignee = forms.CharField(label=_("Held by"), required=False)
    sort = forms.ChoiceField(
        label=_("Sort"), required=False,
        choices=[("triage", _("Likely duplicates first")), ("score", _("Best score first")),
                 ("-score", _("Lowest score first")), ("age", _("Oldest first")),
                 ("-age", _("Newest first"))],
    )

    def filters(self) -> QueueFilters:
        """The filters asked for; anything unreadable falls back to the default."""
        data = self.cleaned_data if self.is_valid() else {}
        # Absent means open; an empty value means any status.
        status = self.data.get("status", MergeCandidate.Status.OPEN)
        if status and status not in MergeCandidate.Status.values:
            status = MergeCandidate.Status.OPEN
        sort = data.get("sort") or ""
        return QueueFilters(
            status=status,
            band=data.get("band", "") if data.get("band") in SCORE_BANDS else "",
            source=(data.get("source") or "").strip(),
            triage=data.get("triage", "") if data.get("triage") in TRIAGE_BANDS else "",
            age=data.get("age", "") if data.get("age") in AGE_DAYS or data.get("age") == "overdue" else "",
            assignee=(data.get("assignee") or "").strip(),
            sort=sort if sort in SORTS else DEFAULT_SORT,
        )


class DecisionForm(forms.Form):
    """What every decision carries: the version the steward saw, and a reason."""

    expected = forms.CharField(required=False, widget=forms.HiddenInput)
    # A text area: Enter adds a line instead of submitting the form (and deciding).
    reason = forms.CharField(
        label=_("Reason (optional)"), required=False, max_length=500,
        widget=forms.Textarea(attrs={"rows": 1, "maxlength": 500}),
    )

    def expected_updated_at(self):
        raw = self.cleaned_data.get("expected") or ""
        return parse_datetime(raw) if raw else None
