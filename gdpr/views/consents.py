"""The consent panel of the customer page (an htmx fragment loaded by the page): the
consents in force, their proofs, objections; a statement recorded by a steward or the
DPO (a form), an objection recorded or lifted by the DPO."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.forms import ConsentStatementForm, ObjectionForm
from gdpr.models import Channel, StatementOrigin
from gdpr.selectors.consents import (
    consent_purposes,
    customer_consents,
    objection_get_for_user,
    require_consent_reader,
    require_consent_writer,
    require_objection_writer,
)
from gdpr.services.consents import ConsentRefused, consent_record, objection_lift, objection_record
from rcu.selectors.customers import customer_get_for_user


@login_required
@require_GET
def consents_panel(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    require_consent_reader(request.user)
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    found = customer_consents(customer=customer)
    granted = {(c.purpose_id, c.channel): c for c in found.in_force}
    grid = [
        {"purpose": purpose, "cells": [{"channel": channel, "consent": granted.get((purpose.pk, channel.value))}
                                       for channel in Channel]}
        for purpose in consent_purposes()
    ]
    return render(request, "gdpr/_customer_consents.html", {
        "customer": customer, "found": found, "grid": grid, "channels": list(Channel),
        "can_record": request.user.has_perm("gdpr.add_consentstatement"),
        "can_object": request.user.has_perm("gdpr.add_objection") and request.user.has_perm("gdpr.change_objection"),
        "form": ConsentStatementForm(), "objection_form": ObjectionForm(),
    })


@login_required
@require_POST
def consent_statement_add(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    require_consent_writer(request.user)
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    form = ConsentStatementForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            consent_record(customer=customer, purpose=data["purpose"], channel=data["channel"],
                           granted=data["granted"] == "yes", wording=data["wording"],
                           origin=StatementOrigin.FORM, acting_user=request.user)
        except ConsentRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("Consent recorded."))
    else:
        messages.error(request, _("The consent was not recorded: %(errors)s") % {
            "errors": " ".join(str(e) for errors in form.errors.values() for e in errors)})
    return redirect(f"{customer_url(customer.public_id)}#consents")


@login_required
@require_POST
def objection_add(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    require_objection_writer(request.user)
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    form = ObjectionForm(request.POST)
    if form.is_valid():
        try:
            objection_record(customer=customer, reason=form.cleaned_data["reason"], acting_user=request.user)
        except ConsentRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("Objection recorded: every marketing consent is withdrawn."))
    else:
        messages.error(request, _("Say why the person objects."))
    return redirect(f"{customer_url(customer.public_id)}#consents")


@login_required
@require_POST
def objection_lift_view(request: HttpRequest, pk: int) -> HttpResponse:
    objection = objection_get_for_user(pk=pk, user=request.user)
    form = ObjectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the objection is lifted."))
    else:
        try:
            objection_lift(objection=objection, reason=form.cleaned_data["reason"], acting_user=request.user)
        except ConsentRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, _("Objection lifted."))
    if objection.request_id is not None and request.POST.get("back") == "request":
        return redirect(f"{reverse('gdpr:request_detail', args=[objection.request_id])}#request-objection")
    return redirect(f"{customer_url(objection.holder.public_id)}#consents")


def customer_url(public_id: uuid.UUID) -> str:
    return reverse("customer_detail", args=[public_id])


__all__ = ["consent_statement_add", "consents_panel", "objection_add", "objection_lift_view"]
