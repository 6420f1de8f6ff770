"""The pack of a request: execute, then its JSON, its printable page, its PDF and (for
portability) its CSV; the published JSON Schema."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from gdpr.models import AccessPack, SubjectRequest
from gdpr.selectors.pack_sources import role_label
from gdpr.selectors.packs import PackExpired, PackNotBuilt, request_pack_get
from gdpr.selectors.requests import subject_request_get_for_user
from gdpr.services.packs import (
    SCHEMA_PATH,
    PackRefused,
    pack_csv,
    pack_download_log,
    pack_read,
    request_execute,
)

PACK_CSS = Path(settings.BASE_DIR) / "static" / "css" / "gdpr-pack.css"


def _no_fetch(url: str, *args, **kwargs) -> dict:
    raise ValueError(f"the pack's PDF fetches nothing ({url})")


@cache
def pdf_available() -> bool:
    """WeasyPrint is installed and its libraries (Pango) load: else no PDF link."""
    if importlib.util.find_spec("weasyprint") is None:
        return False
    try:
        import weasyprint  # noqa: F401
    except OSError:
        return False
    return True


def back_to_request(request: HttpRequest, pk: int) -> HttpResponse:
    """To the page the scope panel was in (the request page), else the scope page."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("gdpr:request_scope", pk=pk)


@login_required
@require_POST
def request_execute_view(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    try:
        outcome = request_execute(request=subject_request, acting_user=request.user)
    except PackRefused:
        messages.error(request, _("Confirm the scope of an access or portability request first."))
    else:
        if outcome.queued:
            messages.info(request, _("The pack is being built; reload this page in a moment."))
        else:
            messages.success(request, _("The pack is built."))
    return back_to_request(request, subject_request.pk)


def _pack_or_error(request: HttpRequest, subject_request: SubjectRequest) -> AccessPack | HttpResponse:
    try:
        return request_pack_get(request=subject_request)
    except PackNotBuilt:
        return render(request, "gdpr/pack_missing.html",
                      {"request_obj": subject_request, "expired": False}, status=409)
    except PackExpired:
        return render(request, "gdpr/pack_missing.html",
                      {"request_obj": subject_request, "expired": True}, status=410)


@login_required
@require_GET
def pack_json(request: HttpRequest, pk: int) -> HttpResponseBase:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    pack = _pack_or_error(request, subject_request)
    if isinstance(pack, HttpResponse):
        return pack
    pack_download_log(pack=pack, user=request.user)
    return FileResponse(pack.file.open("rb"), as_attachment=True,
                        filename=f"{subject_request.reference}-{pack.kind}.json",
                        content_type="application/json")


@login_required
@require_GET
def pack_csv_view(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    pack = _pack_or_error(request, subject_request)
    if isinstance(pack, HttpResponse):
        return pack
    pack_download_log(pack=pack, user=request.user)
    response = HttpResponse(pack_csv(pack_read(pack)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{subject_request.reference}-{pack.kind}.csv"'
    )
    return response


def _page_context(subject_request: SubjectRequest, pack: AccessPack) -> dict:
    document = pack_read(pack)
    for section in ("decisions",):
        for entry in document.get(section, []):
            entry["by_label"] = role_label(entry["by"])
    for customer in document["customers"]:
        for entry in customer.get("history", []):
            entry["by_label"] = role_label(entry["by"])
    for record in document["records"]:
        for entry in record.get("history", []):
            entry["by_label"] = role_label(entry["by"])
    return {"request_obj": subject_request, "pack": pack, "doc": document}


@login_required
@require_GET
def pack_page(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    pack = _pack_or_error(request, subject_request)
    if isinstance(pack, HttpResponse):
        return pack
    pack_download_log(pack=pack, user=request.user)
    context = _page_context(subject_request, pack) | {"pdf_available": pdf_available()}
    return render(request, "gdpr/pack.html", context)


@login_required
@require_GET
def pack_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    subject_request = subject_request_get_for_user(user=request.user, pk=pk)
    pack = _pack_or_error(request, subject_request)
    if isinstance(pack, HttpResponse):
        return pack
    if not pdf_available():
        return HttpResponse(_("PDF rendering is not installed."), status=404)
    import weasyprint

    pack_download_log(pack=pack, user=request.user)
    html = render_to_string("gdpr/pack.html", _page_context(subject_request, pack) | {
        "for_pdf": True, "pack_css": PACK_CSS.read_text()}, request=request)
    # Nothing is fetched: the stylesheet is inlined, the page has no image.
    pdf = weasyprint.HTML(string=html, url_fetcher=_no_fetch).write_pdf()
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{subject_request.reference}-{pack.kind}.pdf"'
    )
    return response


@require_GET
def pack_schema(request: HttpRequest) -> HttpResponse:
    """The published JSON Schema of packs (no personal data: open to anyone)."""
    return HttpResponse(SCHEMA_PATH.read_bytes(), content_type="application/schema+json")
