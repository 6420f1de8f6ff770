"""Forms of the DPO's register and access log pages."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gdpr.access_purposes import PURPOSES
from gdpr.models import AccessChannel, ProcessingActivity
from gdpr.selectors.access_log import AccessLogFilters
from gdpr.services.register import ACTIVITY_FIELDS
from rcu.models import SourceSystem


class ProcessingActivityForm(forms.ModelForm):
    sources = forms.ModelMultipleChoiceField(
        queryset=SourceSystem.objects.order_by("name"), required=False,
        widget=forms.CheckboxSelectMultiple, label=_("sources concerned"),
        help_text=_("None ticked: the activity concerns every source."),
    )

    class Meta:
        model = ProcessingActivity
        fields = list(ACTIVITY_FIELDS)
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in ("purpose", "legal_basis_detail", "data_categories", "people_categories",
                         "recipients", "transfers_outside_eu", "transfer_safeguards", "retention",
                         "security_measures")
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["sources"] = list(self.instance.sources.values_list("pk", flat=True))

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in ACTIVITY_FIELDS}


def _purpose_choices():
    return [("", _("any"))] + [(code, p.what) for code, p in sorted(PURPOSES.items())]


class AccessLogSearchForm(forms.Form):
    person = forms.CharField(
        label=_("Person"), required=False, max_length=200,
        help_text=_("A customer's public id, or a name, e-mail or phone: the people found are "
                    "shown (and this search is itself logged)."),
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    purpose = forms.ChoiceField(label=_("Purpose"), required=False, choices=_purpose_choices)
    channel = forms.ChoiceField(
        label=_("Channel"), required=False, choices=[("", _("any")), *AccessChannel.choices]
    )

    def clean_user(self) -> str:
        username = self.cleaned_data["user"].strip()
        if username and not get_user_model().objects.filter(username=username).exists():
            raise forms.ValidationError(_("No such user."))
        return username

    def filters(self, public_ids: frozenset | None) -> AccessLogFilters:
        data = self.cleaned_data
        return AccessLogFilters(
            public_ids=public_ids, username=data["user"], since=data["since"], until=data["until"],
            purpose=data["purpose"], channel=data["channel"],
        )
