"""The forms of the subscribers' pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from rcu.models import ChangeEvent, SourceSystem, Subscription
from rcu.services.events import EVENT_ATTRIBUTES, subscribable_attributes


class SubscriptionForm(forms.Form):
    name = forms.SlugField(label=_("Name"), max_length=50,
                           help_text=_("Letters, digits and dashes: crm-sync."))
    target_url = forms.URLField(label=_("Target URL"), max_length=500, assume_scheme="https")
    purpose = forms.ChoiceField(label=_("Purpose"), choices=Subscription.Purpose.choices)
    event_types = forms.MultipleChoiceField(
        label=_("Events"), choices=ChangeEvent.Type.choices, required=False,
        widget=forms.CheckboxSelectMultiple, help_text=_("None ticked: every event."))
    attributes = forms.MultipleChoiceField(
        label=_("Attributes it may receive"), choices=[(a, a) for a in EVENT_ATTRIBUTES],
        required=False, widget=forms.CheckboxSelectMultiple)
    source = forms.ModelChoiceField(
        label=_("Source system it is"), queryset=SourceSystem.objects.order_by("code"),
        to_field_name="code", required=False,
        help_text=_("Its events then carry that source's own ids of the customer."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Apps add to events (the GDPR app's consents): known once they are ready.
        self.fields["attributes"].choices = [(a, a) for a in subscribable_attributes()]


class ReplayForm(forms.Form):
    from_event = forms.IntegerField(label=_("From event"), min_value=1)


class EventSearchForm(forms.Form):
    customer = forms.UUIDField(label=_("Customer public id"), required=False)


class ChangeFileForm(forms.Form):
    subscriber = forms.ModelChoiceField(
        label=_("As the subscriber"), queryset=Subscription.objects.order_by("name"),
        to_field_name="name", required=False,
        help_text=_("Its event types and attributes; none: every event and attribute."))
    since = forms.CharField(
        label=_("After"), max_length=40, required=False, initial="0",
        help_text=_("The cursor of the previous file (an event id), or a date and time "
                    "(2026-12-01T00:00)."))
    format = forms.ChoiceField(label=_("Format"), choices=[("csv", "CSV"), ("jsonl", "JSON Lines")])
