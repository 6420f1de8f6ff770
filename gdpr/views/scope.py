"""/gdpr/requests/<id>/scope/: finding the person and confirming the scope (the request
page's panel, loaded with htmx; the same URL is a page of its own without JavaScript)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.selectors.packs import request_packs
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.selectors.scope import request_matches
from gdpr.services.access_log import access_log_record
from gdpr.services.packs import PACK_KINDS
from gdpr.services.scope import ScopeInvalid, request_scope_set
from gdpr.views.packs import back_to_request, pdf_available

SEARCH_PURPOSE = "gdpr_request_search"


class ScopeForm(forms.Form):
    customers = forms.TypedMultipleChoiceField(required=False, choices=(), coerce=str)
    records = forms.TypedMultipleChoiceField(required=False, choices=(), coerce=int)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any id is accepted here; the service says which name nothing.
        self.fields["customers"].valid_value = lambda value: True  # type: ignore[attr-defined]
        self.fields["records"].valid_value = lambda value: True  # type: ignore[attr-defined]


@login_required
@require_GET
def request_scope(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    proposals = request_matches(request=subject_request)
    access_log_record(user=request.user, customers=proposals.all_customers, purpose=SEARCH_PURPOSE)
    context = {
        "request_obj": subject_request,
        "proposals": proposals,
        "packs": request_packs(request=subject_request),
        "can_execute": subject_request.kind in PACK_KINDS,
        "pdf_available": pdf_available(),
        "back_to": "",
    }
    template = "gdpr/scope.html"
    htmx = getattr(request, "htmx", None)
    if htmx:
        # Loaded into the request page: its forms bring the DPO back there.
        template = "gdpr/scope.html#panel"
        context["back_to"] = htmx.current_url_abs_path or ""
    return render(request, template, context)


@login_required
@require_POST
def request_scope_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    form = ScopeForm(request.POST)
    if form.is_valid():
        try:
            outcome = request_scope_set(
                request=subject_request, customer_public_ids=form.cleaned_data["customers"],
                record_ids=form.cleaned_data["records"], acting_user=request.user,
            )
        except (ScopeInvalid, ValueError):
            messages.error(request, _("Some of the customers or records chosen no longer exist."))
        else:
            messages.success(request, _(
                "Scope confirmed: %(customers)s customers and %(records)s records."
            ) % {"customers": outcome.customers, "records": outcome.records})
    else:
        messages.error(request, _("The scope could not be read."))
    return back_to_request(request, subject_request.pk)

