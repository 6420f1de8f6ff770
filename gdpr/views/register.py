"""/gdpr/register/: the register of processing activities (art. 30), kept by the DPO
(admins may edit it too); its versions, a printable page and a CSV export."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gdpr.forms import ProcessingActivityForm
from gdpr.selectors.register import (
    processing_activities_for_user,
    processing_activity_get_for_user,
    processing_activity_versions,
    require_register_editor,
    user_edits_register,
)
from gdpr.services.register import (
    processing_activity_archive,
    processing_activity_create,
    processing_activity_update,
)
from gdpr.tables import register_csv_response


@login_required
@require_GET
def register_list(request: HttpRequest) -> HttpResponse:
    activities = list(processing_activities_for_user(user=request.user))
    return render(request, "gdpr/register_list.html", {
        "activities": activities, "can_edit": user_edits_register(request.user),
    })


@login_required
@require_GET
def register_print(request: HttpRequest) -> HttpResponse:
    """The register as a document: every active activity in full, prints on A4."""
    activities = list(processing_activities_for_user(user=request.user).filter(active=True))
    return render(request, "gdpr/register_print.html", {"activities": activities, "now": timezone.now()})


@login_required
@require_GET
def register_export(request: HttpRequest) -> HttpResponse:
    return register_csv_response(list(processing_activities_for_user(user=request.user)))


@login_required
@require_GET
def register_detail(request: HttpRequest, pk: int) -> HttpResponse:
    activity = processing_activity_get_for_user(user=request.user, pk=pk)
    return render(request, "gdpr/register_detail.html", {
        "activity": activity, "versions": processing_activity_versions(activity=activity),
        "can_edit": user_edits_register(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def register_new(request: HttpRequest) -> HttpResponse:
    processing_activities_for_user(user=request.user)
    require_register_editor(request.user)
    form = ProcessingActivityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        activity = processing_activity_create(
            values=form.values(), sources=form.cleaned_data["sources"], acting_user=request.user
        )
        messages.success(request, _("Processing activity “%(name)s” recorded.") % {"name": activity.name})
        return redirect("gdpr:register_detail", pk=activity.pk)
    return render(request, "gdpr/register_form.html", {"form": form, "activity": None})


@login_required
@require_http_methods(["GET", "POST"])
def register_edit(request: HttpRequest, pk: int) -> HttpResponse:
    activity = processing_activity_get_for_user(user=request.user, pk=pk)
    require_register_editor(request.user)
    form = ProcessingActivityForm(request.POST or None, instance=activity)
    if request.method == "POST" and form.is_valid():
        processing_activity_update(
            activity=activity, values=form.values(), sources=form.cleaned_data["sources"],
            acting_user=request.user,
        )
        messages.success(request, _("Processing activity “%(name)s” saved.") % {"name": activity.name})
        return redirect("gdpr:register_detail", pk=activity.pk)
    return render(request, "gdpr/register_form.html", {"form": form, "activity": activity})


@login_required
@require_POST
def register_archive(request: HttpRequest, pk: int) -> HttpResponse:
    activity = processing_activity_get_for_user(user=request.user, pk=pk)
    require_register_editor(request.user)
    restore = request.POST.get("restore") == "1"
    processing_activity_archive(activity=activity, acting_user=request.user, active=restore)
    messages.success(
        request,
        (_("Processing activity “%(name)s” is carried out again.") if restore
         else _("Processing activity “%(name)s” archived.")) % {"name": activity.name},
    )
    return redirect("gdpr:register_detail", pk=activity.pk)
