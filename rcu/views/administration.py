"""Administration in the app for the admin role: accounts, departments, mappings,
matching, and the history of what administrators changed. No superuser needed."""

from __future__ import annotations

import base64
import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rcu import hooks
from rcu.forms import MAX_PREVIEW_BYTES
from rcu.forms_administration import (
    ROLE_HELP,
    AttributeDefinitionForm,
    DepartmentCreateForm,
    DepartmentEditForm,
    MappingFormSet,
    MappingRowForm,
    MatchRunForm,
    MatchSettingsForm,
    PasswordResetForm,
    SourceReadingForm,
    UserCreateForm,
    UserEditForm,
    role_choices,
)
from rcu.models import AttributeDefinition, Department, MatchRun, SourceSystem
from rcu.selectors import administration as sel
from rcu.selectors.attributes import attribute_definitions_for_admin, custom_attributes_current
from rcu.selectors.sources import config_row_mapper
from rcu.selectors.ui import source_mapping_preview
from rcu.services.attributes import (
    AttributeSpec,
    attribute_definition_create,
    attribute_definition_update,
)
from rcu.services.departments import (
    DepartmentRefused,
    department_create,
    department_members_set,
    department_update,
)
from rcu.services.match_admin import match_run_start, match_settings_update
from rcu.services.matching.context import match_settings_get
from rcu.services.sources import SourceConfigError, source_config_parse, source_mapping_update
from rcu.services.users import (
    UserRefused,
    user_create,
    user_department_codes,
    user_password_reset,
    user_role_codes,
    user_update,
)

_SESSION_SAMPLE = "mapping-sample:{code}"
_SESSION_SAMPLE_BYTES = 64 * 1024  # kept in the session between previews: a few rows
_ROW_ERROR = re.compile(r"^fields\[(\d+)\]")


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _refused(form, exc: UserRefused | DepartmentRefused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.reason)


@login_required
@require_GET
def admin_index(request: HttpRequest) -> HttpResponse:
    """The administrator's entry: what each page is for."""
    if not request.user.has_perm(sel.MANAGE_USERS) and not request.user.has_perm(sel.MANAGE_DEPARTMENTS):
        raise PermissionDenied
    context = {
        "user_count": sel.users_for_admin(request.user).filter(is_active=True).count(),
        "department_count": sel.departments_for_admin(request.user).count(),
        "sources": SourceSystem.objects.select_related("department").order_by("trust_rank", "code"),
        "runs": sel.match_runs_recent(request.user, limit=1),
        "events": sel.admin_events_for(request.user, limit=8),
    }
    return render(request, "rcu/administration/index.html", context)


# --- Accounts ---------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def user_list(request: HttpRequest) -> HttpResponse:
    _require(request, sel.VIEW_USERS)
    form = UserCreateForm(request.POST or None)
    if request.method == "POST":
        _require(request, sel.ADD_USERS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user = user_create(
                    username=data["username"], email=data["email"], first_name=data["first_name"],
                    last_name=data["last_name"], password=data["password"] or None,
                    roles=data["roles"], departments=data["departments"], acting_user=request.user,
                )
            except UserRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("Account %(username)s created.") % {"username": user.username})
                return redirect("admin_user_detail", pk=user.pk)
    filters = {k: request.GET.get(k, "").strip() for k in ("q", "department", "role", "active")}
    users = list(sel.users_for_admin(request.user, **filters)[:500])
    names = sel.department_names()
    for user in users:
        user.role_codes = user_role_codes(user)
        user.department_names = [names.get(c, c) for c in user_department_codes(user)]
    context = {
        "form": form, "users": users, "filters": filters, "roles": role_choices(),
        "departments": sel.departments_for_admin(request.user) if request.user.has_perm(sel.MANAGE_DEPARTMENTS) else Department.objects.order_by("name"),
        "open_create": request.method == "POST",
    }
    return render(request, "rcu/administration/user_list.html", context)


def _user_for_admin(request: HttpRequest, pk: int):
    return get_object_or_404(sel.users_for_admin(request.user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, sel.VIEW_USERS)
    person = _user_for_admin(request, pk)
    initial = {
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "is_active": person.is_active, "roles": user_role_codes(person),
        "departments": user_department_codes(person),
    }
    form = UserEditForm(request.POST or None, initial=initial)
    password_form = PasswordResetForm()
    if request.method == "POST":
        _require(request, sel.MANAGE_USERS)
        if form.is_valid():
            data = form.cleaned_data
            try:
                user_update(
                    user=person, email=data["email"], first_name=data["first_name"],
                    last_name=data["last_name"], is_active=data["is_active"], roles=data["roles"],
                    departments=data["departments"], acting_user=request.user,
                )
            except UserRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("Account %(username)s saved.") % {"username": person.username})
                return redirect("admin_user_detail", pk=person.pk)
    context = {
        "person": person, "form": form, "password_form": password_form, "role_help": ROLE_HELP,
        "tokens": person.api_tokens.select_related("source").order_by("-created_at")[:50],
        "events": sel.admin_events_for(request.user, target_user=person, limit=100),
    }
    return render(request, "rcu/administration/user_detail.html", context)


@login_required
@require_POST
def user_password(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, sel.MANAGE_USERS)
    person = _user_for_admin(request, pk)
    form = PasswordResetForm(request.POST)
    if form.is_valid():
        try:
            user_password_reset(user=person, password=form.cleaned_data["password"], acting_user=request.user)
        except UserRefused as exc:
            messages.error(request, exc.reason)
        else:
            messages.success(
                request, _("New password set for %(username)s: hand it over safely.")
                % {"username": person.username},
            )
    else:
        messages.error(request, _("Type the new password."))
    return redirect("admin_user_detail", pk=person.pk)


# --- Departments ------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def department_list(request: HttpRequest) -> HttpResponse:
    _require(request, sel.MANAGE_DEPARTMENTS)
    form = DepartmentCreateForm(request.POST or None)
    if request.method == "POST":
        _require(request, sel.ADD_DEPARTMENTS)
        if form.is_valid():
            try:
                department = department_create(
                    code=form.cleaned_data["code"], name=form.cleaned_data["name"],
                    review_target_days=form.cleaned_data["review_target_days"],
                    acting_user=request.user,
                )
            except DepartmentRefused as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("Department %(name)s created.") % {"name": department.name})
                return redirect("admin_department_detail", code=department.code)
    context = {"form": form, "departments": sel.departments_for_admin(request.user)}
    return render(request, "rcu/administration/department_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def department_detail(request: HttpRequest, code: str) -> HttpResponse:
    _require(request, sel.MANAGE_DEPARTMENTS)
    department = get_object_or_404(sel.departments_for_admin(request.user), code=code)
    initial = {
        "name": department.name, "review_target_days": department.review_target_days,
        "members": list(department.group.user_set.all()),
    }
    form = DepartmentEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            department_update(
                department=department, name=form.cleaned_data["name"],
                review_target_days=form.cleaned_data["review_target_days"], acting_user=request.user,
            )
            if request.user.has_perm(sel.MANAGE_USERS):
                department_members_set(
                    department=department, users=form.cleaned_data["members"], acting_user=request.user,
                )
        except DepartmentRefused as exc:
            _refused(form, exc)
        else:
            messages.success(request, _("Department %(name)s saved.") % {"name": form.cleaned_data["name"]})
            return redirect("admin_department_detail", code=department.code)
    context = {
        "department": department, "form": form,
        "events": sel.admin_events_for(request.user, department=department, limit=100),
    }
    return render(request, "rcu/administration/department_detail.html", context)


# --- History ----------------------------------------------------------------


@login_required
@require_GET
def admin_history(request: HttpRequest) -> HttpResponse:
    _require(request, sel.VIEW_ADMIN_HISTORY)
    return render(
        request, "rcu/administration/history.html",
        {"events": sel.admin_events_for(request.user, limit=500)},
    )


# --- Field mappings -----------------------------------------------------------


def _sample_from_session(request: HttpRequest, code: str) -> tuple[bytes, str] | None:
    stored = request.session.get(_SESSION_SAMPLE.format(code=code))
    if not stored:
        return None
    return base64.b64decode(stored["content"]), stored["name"]


def _sample_store(request: HttpRequest, code: str, upload) -> tuple[bytes, str]:
    content = upload.read(min(MAX_PREVIEW_BYTES, _SESSION_SAMPLE_BYTES))
    if b"\n" in content and len(content) == _SESSION_SAMPLE_BYTES:
        content = content[: content.rindex(b"\n") + 1]  # no half row at the end
    request.session[_SESSION_SAMPLE.format(code=code)] = {
        "content": base64.b64encode(content).decode("ascii"), "name": upload.name,
    }
    return content, upload.name


def _document_from_forms(source: SourceSystem, reading: SourceReadingForm, rows) -> tuple[dict, list[int]]:
    """The edited mapping as a configuration document, and which form each entry came from."""
    document = sel.source_config_document(source)
    data = reading.cleaned_data
    document["external_id"] = data.get("external_id", "")
    document.pop("business_timestamp", None)
    if data.get("timestamp_field"):
        document["business_timestamp"] = {
            "source": data["timestamp_field"], "format": data.get("timestamp_format") or "",
        }
    fields, origin = [], []
    for index, row in enumerate(rows):
        if not hasattr(row, "cleaned_data") or row.cleaned_data.get("DELETE") or row.is_blank():
            continue
        fields.append(row.as_field())
        origin.append(index)
    document["fields"] = fields
    return document, origin


def _attach_errors(exc: SourceConfigError, rows, origin: list[int]) -> list[str]:
    """Parser errors about one entry go on its row; the others are returned."""
    general = []
    for message in exc.errors:
        match = _ROW_ERROR.match(message)
        if match and int(match.group(1)) < len(origin):
            rows[origin[int(match.group(1))]].add_error(None, message[match.end():].lstrip(" :."))
        else:
            general.append(message)
    return general


@login_required
@require_http_methods(["GET", "POST"])
def source_mapping_edit(request: HttpRequest, code: str) -> HttpResponse:
    """A row per attribute; checked by the parser `configure_source` uses, so the two never
    disagree. POST `action=preview` (htmx on every change) maps the sample, saves nothing."""
    _require(request, sel.MANAGE_MAPPINGS)
    source = get_object_or_404(SourceSystem.objects.select_related("department"), code=code)
    document = sel.source_config_document(source)
    preview = None
    general_errors: list[str] = []
    if request.method == "POST":
        reading = SourceReadingForm(request.POST, request.FILES)
        formset = MappingFormSet(request.POST, prefix="rows")
        if reading.is_valid() and formset.is_valid():
            edited, origin = _document_from_forms(source, reading, formset.forms)
            upload = reading.cleaned_data.get("sample")
            sample = _sample_store(request, code, upload) if upload else _sample_from_session(request, code)
            try:
                config = source_config_parse(edited)
            except SourceConfigError as exc:
                general_errors = _attach_errors(exc, formset.forms, origin)
                config = None
            if config is not None and sample is not None:
                preview = source_mapping_preview(
                    None, content=sample[0], name=sample[1], mapper=config_row_mapper(config)
                )
            if config is not None and request.POST.get("action") == "save":
                try:
                    source_mapping_update(source=source, document=edited, acting_user=request.user)
                except SourceConfigError as exc:
                    general_errors = _attach_errors(exc, formset.forms, origin)
                else:
                    messages.success(request, _("Mappings of %(source)s saved.") % {"source": source.name})
                    return redirect("admin_source_mapping", code=source.code)
    else:
        reading = SourceReadingForm(initial={
            "external_id": document["external_id"],
            "timestamp_field": document.get("business_timestamp", {}).get("source", ""),
            "timestamp_format": document.get("business_timestamp", {}).get("format", ""),
        })
        formset = MappingFormSet(
            prefix="rows", initial=[MappingRowForm.initial_from(f) for f in document["fields"]]
        )
        sample = _sample_from_session(request, code)
        if sample is not None:
            preview = source_mapping_preview(source, content=sample[0], name=sample[1])
    context = {
        "source": source, "reading": reading, "formset": formset, "preview": preview,
        "general_errors": general_errors,
        "sample_name": (_sample_from_session(request, code) or (b"", ""))[1],
    }
    if request.headers.get("HX-Request") and request.POST.get("action") == "preview":
        return render(request, "rcu/administration/_mapping_preview.html", context)
    return render(request, "rcu/administration/mapping_edit.html", context)


# --- Matching -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def matching(request: HttpRequest) -> HttpResponse:
    """Thresholds, and batch runs started from here with their progress and outcome."""
    _require(request, sel.MANAGE_MATCHING)
    current = match_settings_get()
    form = MatchSettingsForm(
        request.POST if request.POST.get("action") == "settings" else None, instance=current
    )
    if request.method == "POST" and request.POST.get("action") == "settings" and form.is_valid():
        data = form.cleaned_data
        match_settings_update(
            auto_link=data["auto_link"], review=data["review"],
            max_block_size=data["max_block_size"], model_frozen=data["model_frozen"],
            acting_user=request.user,
        )
        messages.success(request, _("Matching settings saved: they hold from the next run."))
        return redirect("admin_matching")
    if request.method == "POST" and request.POST.get("action") == "run":
        _require(request, sel.START_RUNS)
        run_form = MatchRunForm(request.POST)
        run_form.is_valid()
        run = match_run_start(full=run_form.cleaned_data.get("full", False), acting_user=request.user)
        messages.success(request, _("Matching run #%(run)s asked for.") % {"run": run.pk})
        return redirect(reverse("admin_matching") + f"#run-{run.pk}")
    context = {"form": form, "run_form": MatchRunForm(), "runs": sel.match_runs_recent(request.user, limit=15),
               "settings": current}
    return render(request, "rcu/administration/matching.html", context)


@login_required
@require_GET
def match_run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """One run's row, polled by htmx while it is under way."""
    _require(request, sel.MANAGE_MATCHING)
    run = MatchRun.objects.select_related("created_by").filter(pk=pk).first()
    if run is None:
        raise Http404
    return render(request, "rcu/administration/_run_row.html", {"run": run})



# --- Survivorship rules ------------------------------------------------------------

RULE_SLOTS = 4


def _units_for_editor() -> list[tuple[str, str]]:
    from rcu.attributes import ADDRESS_GROUP, CANONICAL_ATTRIBUTES
    from rcu.models import ExtraIdentifier

    units = [("address", _("Postal address (one block)"))]
    units += [(a.name, str(a.label)) for a in CANONICAL_ATTRIBUTES if a.name not in ADDRESS_GROUP]
    units += [(a.name, a.label) for a in custom_attributes_current()]
    units += list(ExtraIdentifier.objects.order_by("code").values_list("code", "label"))
    return units


def _rules_from_post(post, units) -> dict:
    attributes = {}
    for unit, _label in units:
        chosen = [post.get(f"{unit}-rule-{i}", "") for i in range(RULE_SLOTS)]
        rules: list[dict[str, Any]] = []
        for rule in chosen:
            if not rule or any(r["rule"] == rule for r in rules):
                continue
            item = {"rule": rule}
            if rule == "source_priority":
                item["sources"] = [s.strip() for s in post.get(f"{unit}-sources", "").split(",") if s.strip()]
            rules.append(item)
        if rules:
            attributes[unit] = rules
    return {"attributes": attributes}


@login_required
@require_http_methods(["GET", "POST"])
def survivorship(request: HttpRequest) -> HttpResponse:
    """Each attribute's ordered rules; a preview of the golden values they would change
    on a sample; saving recomputes customers in the background."""
    from rcu.models import SurvivorshipSettings
    from rcu.selectors.survivorship import survivorship_preview
    from rcu.services.survivorship import survivorship_rules_parse, survivorship_rules_save
    from rcu.survivorship import CONFIGURABLE_RULES, RulesRefused

    _require(request, "rcu.change_survivorshipsettings")
    units = _units_for_editor()
    row = SurvivorshipSettings.objects.filter(pk=1).first()
    saved = row.rules if row else {}
    data = _rules_from_post(request.POST, units) if request.method == "POST" else {"attributes": saved}
    errors, preview = [], None
    if request.method == "POST":
        try:
            rules = survivorship_rules_parse(data)
        except RulesRefused as exc:
            errors = exc.errors
        else:
            if request.POST.get("action") == "save":
                row = survivorship_rules_save(data=data, acting_user=request.user)
                messages.success(request, _(
                    "Survivorship rules saved (version %(version)s): customers are being "
                    "recomputed in the background.") % {"version": row.version})
                return redirect("admin_survivorship")
            preview = survivorship_preview(rules=rules)
            hooks.personal_data_read(
                user=request.user, customers=list({c.customer.pk: c.customer for c in preview[1]}.values()),
                purpose="survivorship_preview",
            )
    rows = []
    for unit, label in units:
        chosen = [r["rule"] for r in data["attributes"].get(unit, [])]
        sources: list[str] = next((r.get("sources", []) for r in data["attributes"].get(unit, [])
                        if r["rule"] == "source_priority"), [])
        rows.append({"unit": unit, "label": label,
                     "slots": [chosen[i] if i < len(chosen) else "" for i in range(RULE_SLOTS)],
                     "sources": ", ".join(sources)})
    context = {
        "rows": rows, "rule_choices": CONFIGURABLE_RULES, "errors": errors, "preview": preview,
        "version": row.version if row else 0,
        "source_codes": list(SourceSystem.objects.order_by("trust_rank").values_list("code", flat=True)),
    }
    return render(request, "rcu/administration/survivorship.html", context)


# --- Custom attributes ----------------------------------------------------------------

def _attribute_spec(form: AttributeDefinitionForm) -> AttributeSpec:
    data = form.cleaned_data
    return AttributeSpec(
        label=data["label"], comparison=data.get("comparison") or "",
        tolerance=data.get("tolerance") or 0.0, survivorship=data.get("survivorship") or "",
        active=bool(data.get("active")), tells_apart=bool(data.get("tells_apart")),
    )


def _refused_attribute(form: AttributeDefinitionForm, exc: ValidationError) -> None:
    for field, problems in exc.message_dict.items():
        for problem in problems:
            form.add_error(field if field in form.fields else None, problem)


@login_required
@require_http_methods(["GET", "POST"])
def attribute_list(request: HttpRequest) -> HttpResponse:
    """The custom attributes of the customer model, and a form to add one."""
    _require(request, "rcu.change_attributedefinition")
    form = AttributeDefinitionForm(request.POST or None, initial={"active": True})
    if request.method == "POST":
        _require(request, "rcu.add_attributedefinition")
        if form.is_valid():
            try:
                definition = attribute_definition_create(
                    name=form.cleaned_data["name"], type=form.cleaned_data["type"],
                    spec=_attribute_spec(form), acting_user=request.user,
                )
            except ValidationError as exc:
                _refused_attribute(form, exc)
            else:
                messages.success(request, _(
                    "Attribute “%(label)s” added: map it in a source; the next matching run "
                    "learns its weights.") % {"label": definition.label})
                return redirect("admin_attribute_list")
    return render(request, "rcu/administration/attribute_list.html", {
        "definitions": attribute_definitions_for_admin(), "form": form,
    })


@login_required
@require_http_methods(["GET", "POST"])
def attribute_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One custom attribute: its label, comparison, survivorship default, archived or
    not; its history."""
    _require(request, "rcu.change_attributedefinition")
    definition = get_object_or_404(AttributeDefinition, name=name)
    initial = {"name": definition.name, "label": definition.label, "type": definition.type,
               "comparison": definition.comparison, "tolerance": definition.tolerance,
               "tells_apart": definition.tells_apart,
               "survivorship": definition.survivorship, "active": definition.active}
    form = AttributeDefinitionForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        _require(request, "rcu.change_attributedefinition")
        if form.is_valid():
            try:
                attribute_definition_update(definition=definition, spec=_attribute_spec(form),
                                            acting_user=request.user)
            except ValidationError as exc:
                _refused_attribute(form, exc)
            else:
                messages.success(request, _("Attribute “%(label)s” saved.") % {"label": form.cleaned_data["label"]})
                return redirect("admin_attribute_detail", name=definition.name)
    return render(request, "rcu/administration/attribute_detail.html", {
        "definition": definition, "form": form,
        "history": definition.history.select_related("history_user").order_by("-history_date")[:50],
    })
