"""The DPO's forms: plain `forms.Form`s the views validate before calling one service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gdpr.models import LetterKind, RequestKind
from gdpr.models.requests import AttachmentKind, RequestChannel, RequestState
from gdpr.services.requests import SUBJECT_FIELDS
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
