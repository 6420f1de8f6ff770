"""The restriction panel of a restriction request (GDPR art. 18): restrict its scope, lift it."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.restriction import (
    RestrictionRequestRefused,
    request_restrict,
    request_restriction_lift,
)
from rcu.forms import RestrictionForm


@login_required
@require_POST
def request_restriction_view(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = RestrictionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why."))
        return redirect("gdpr:request_detail", pk=pk)
    restrict = form.cleaned_data["action"] == "restrict"
    service = request_restrict if restrict else request_restriction_lift
    try:
        outcome = service(request=subject_request, reason=form.cleaned_data["reason"], acting_user=request.user)
    except RestrictionRequestRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, (
            _("Processing restricted for %(count)d customer(s).") if restrict
            else _("Restriction lifted for %(count)d customer(s).")
        ) % {"count": len(outcome.changed)})
    return redirect("gdpr:request_detail", pk=pk)
