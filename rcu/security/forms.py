from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rcu.models import SourceSystem


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code"), min_length=6, max_length=8, strip=True,
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True,
            "pattern": "[0-9]*",
        }),
    )


class ApiTokenForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User the token acts as"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )
    name = forms.CharField(label=_("Name"), max_length=100, required=False,
                           help_text=_("What the token is for, e.g. the system using it."))
    expires_on = forms.DateField(
        label=_("Expires on"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("At most %(days)d days from today.") % {"days": settings.RCU_API_TOKEN_MAX_DAYS},
    )
    source = forms.ModelChoiceField(
        label=_("Bound to source"), queryset=SourceSystem.objects.order_by("code"),
        required=False, to_field_name="code",
        help_text=_("A bound token may only send records and files to this source."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = timezone.localdate() + timedelta(days=settings.RCU_API_TOKEN_DEFAULT_DAYS)
        self.fields["expires_on"].initial = default

    def expires_at(self) -> datetime:
        """The end of the chosen day, in the site's time zone (within the longest lifetime)."""
        day = self.cleaned_data["expires_on"]
        end_of_day = timezone.make_aware(datetime.combine(day, time(23, 59, 59)))
        return min(end_of_day, timezone.now() + timedelta(days=settings.RCU_API_TOKEN_MAX_DAYS))
