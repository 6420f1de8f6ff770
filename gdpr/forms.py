"""The DPO's forms: subject requests (plain `forms.Form`s the views validate before calling
one service), the register and the access log pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from gdpr.access_purposes import PURPOSES
from gdpr.models import (
    AccessChannel,
    Channel,
    ConsentPurpose,
    LetterKind,
    ProcessingActivity,
    RequestKind,
)
from gdpr.models.requests import AttachmentKind, RequestChannel, RequestState
from gdpr.selectors.access_log import AccessLogFilters
from gdpr.services.register import ACTIVITY_FIELDS
from gdpr.services.requests import SUBJECT_FIELDS
from rcu.attributes import ATTRIBUTES_BY_NAME
from rcu.models import SourceSystem
from rcu.normalisation.dates import paris_today

# An HTML date input reads and writes ISO dates, whatever the page's language.
DATE_INPUT = forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
SUBJECT_LABELS = {
    "email": _("E-mail"), "phone": _("Phone"), "first_name": _("First name"),
    "last_name": _("Last name"), "birth_date": _("Birth date"), "address": _("Address"),
    "postcode": _("Postcode"), "city": _("City"), "customer_number": _("A source's customer number"),
}


class SubjectRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Right exercised"), choices=RequestKind.choices)
    received_on = forms.DateField(
        label=_("Received on"), widget=DATE_INPUT,
        help_text=_("The day the request reached us: the deadline runs from it."),
    )
    channel = forms.ChoiceField(label=_("Received by"), choices=RequestChannel.choices)
    language = forms.ChoiceField(label=_("Language of the letters"), choices=LANGUAGES)
    reply_to = forms.CharField(label=_("Answer to (e-mail or postal address)"), max_length=254,
                               required=False)
    description = forms.CharField(label=_("What the person asks"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    email = forms.CharField(label=SUBJECT_LABELS["email"], max_length=254, required=False)
    phone = forms.CharField(label=SUBJECT_LABELS["phone"], max_length=40, required=False)
    first_name = forms.CharField(label=SUBJECT_LABELS["first_name"], max_length=100, required=False)
    last_name = forms.CharField(label=SUBJECT_LABELS["last_name"], max_length=100, required=False)
    birth_date = forms.DateField(label=SUBJECT_LABELS["birth_date"], required=False,
                                 widget=DATE_INPUT)
    address = forms.CharField(label=SUBJECT_LABELS["address"], max_length=200, required=False)
    postcode = forms.CharField(label=SUBJECT_LABELS["postcode"], max_length=10, required=False)
    city = forms.CharField(label=SUBJECT_LABELS["city"], max_length=100, required=False)
    customer_number_source = forms.CharField(
        label=_("Source of the customer number (its code)"), max_length=50, required=False,
    )
    customer_number = forms.CharField(label=SUBJECT_LABELS["customer_number"], max_length=100,
                                      required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = paris_today()

    def subject(self) -> dict[str, Any]:
        data = self.cleaned_data
        subject: dict[str, Any] = {
            field: (data[field].isoformat() if field == "birth_date" else data[field])
            for field in SUBJECT_FIELDS if data.get(field) and field != "customer_number"
        }
        if data.get("customer_number"):  # as finding the person reads it
            subject["customer_number"] = {
                "source": data.get("customer_number_source") or "",
                "external_id": data["customer_number"],
            }
        return subject

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(field) for field in SUBJECT_FIELDS):
            raise forms.ValidationError(_("Give at least one identifier of the person."))
        return cleaned


class TransitionForm(forms.Form):
    state = forms.ChoiceField(choices=[
        (value, label) for value, label in RequestState.choices if value != RequestState.REFUSED
    ])
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}))


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AttachmentKind.choices)
    file = forms.FileField(label=_("File"))


class LetterDraftForm(forms.Form):
    kind = forms.ChoiceField(label=_("Letter"), choices=LetterKind.choices)


class LetterEditForm(forms.Form):
    subject_line = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 14}))


class LetterSentForm(forms.Form):
    sent_on = forms.DateField(label=_("Sent on"), widget=DATE_INPUT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sent_on"].initial = paris_today()


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


# What a rectification may correct: the golden attributes a person can ask to change.
RECTIFIABLE = (
    "civility", "first_name", "last_name", "birth_date", "email", "phone", "mobile",
    "address_line1", "address_line2", "postcode", "city", "country",
)


class RectificationForm(forms.Form):
    """The corrected values of a rectification request: each field left empty is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in RECTIFIABLE:
            attribute = ATTRIBUTES_BY_NAME[name]
            self.fields[name] = forms.CharField(
                label=attribute.label, required=False, max_length=attribute.max_length)

    def corrections(self) -> dict[str, str]:
        return {name: value.strip() for name, value in self.cleaned_data.items()
                if isinstance(value, str) and value.strip()}


class LegalHoldForm(forms.Form):
    """A legal hold on an erasure: what is kept, on which basis, why, until when."""

    source = forms.ChoiceField(label=_("Source whose records are kept"), choices=())
    attributes = forms.MultipleChoiceField(
        label=_("Only these attributes (none: the whole records)"), required=False, choices=(),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    legal_basis = forms.CharField(label=_("Legal basis"), max_length=200)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))
    keep_until = forms.DateField(label=_("Kept until"), widget=DATE_INPUT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [  # type: ignore[attr-defined]
            (code, f"{name} ({code})")
            for code, name in SourceSystem.objects.order_by("code").values_list("code", "name")
        ]
        self.fields["attributes"].choices = [  # type: ignore[attr-defined]
            (name, attribute.label) for name, attribute in ATTRIBUTES_BY_NAME.items()
        ]


class AcknowledgementForm(forms.Form):
    note = forms.CharField(label=_("How it acknowledged (or why it cannot)"),
                           widget=forms.Textarea(attrs={"rows": 2}))
class ConsentStatementForm(forms.Form):
    """A person's yes or no, told to a steward or the DPO (the customer page's consent panel)."""

    purpose = forms.ModelChoiceField(label=_("Purpose"), queryset=ConsentPurpose.objects.filter(active=True),
                                     to_field_name="code")
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    granted = forms.ChoiceField(label=_("The person says"), choices=[("yes", _("yes")), ("no", _("no"))],
                                widget=forms.RadioSelect)
    wording = forms.CharField(
        label=_("Wording or its version"), max_length=200,
        help_text=_("What the person agreed to or refused (the text or its version): the proof."),
    )


class ObjectionForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
