from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rcu import hooks
from rcu.attributes import CANONICAL_ATTRIBUTES, CANONICAL_NAMES
from rcu.display import value_display
from rcu.forms import CustomerSearchForm, RestrictionForm
from rcu.http import HtmxHttpRequest
from rcu.models import Customer, SourceRecord
from rcu.selectors.customers import CustomerErased, customer_get_for_user, customer_search
from rcu.selectors.history import TimelineEntry, customer_timeline
from rcu.selectors.records import (
    correctors_by_id,
    customer_records_for_user,
    provenance_for_user,
)
from rcu.selectors.ui import (
    customer_public_ids,
    customers_with_visible_records,
    extra_identifier_labels,
    source_names_by_code,
)
from rcu.services.restriction import (
    RestrictionRefused,
    customer_restrict,
    customer_restriction_lift,
)
from rcu.templatetags.rcu_ui import attribute_label, quality_flag
from rcu.views.pagination import page_number, slice_page

SEARCH_PAGE_SIZE = 25


@login_required
@require_GET
def customer_list(request: HtmxHttpRequest) -> HttpResponse:
    """Customer search; an htmx request gets only the results."""
    form = CustomerSearchForm(request.GET)
    criteria = form.criteria()
    page = None
    if criteria:
        customers = customers_with_visible_records(
            customer_search(user=request.user, **criteria), user=request.user
        )
        page = slice_page(
            customers, number=page_number(request.GET.get("page")), per_page=SEARCH_PAGE_SIZE
        )
        hooks.personal_data_read(
            user=request.user, customers=page.object_list, purpose="customer_search"
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "searched": bool(criteria),
        "query": params.urlencode(),
        "advanced_open": form.has_advanced(),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    template = "rcu/customer_list.html#results" if partial else "rcu/customer_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


@dataclass
class Why:
    source_code: str
    source_name: str
    external_id: str | None  # None when the record is in another department
    record_id: int | None
    rule: str
    business_ts: datetime | None
    # A value typed by hand: "correction" or "rectification", who typed it and why.
    origin: str = ""
    by: str = ""
    note: str = ""


@dataclass
class GoldenRow:
    name: str
    label: str
    value: Any
    why: Why | None


@dataclass
class RawRow:
    key: str
    value: str
    kind: str  # "text" | "empty" | "json"


@dataclass
class RecordCard:
    record: SourceRecord
    attributes: list[tuple[str, str]]
    raw: list[RawRow]


@dataclass
class Change:
    label: str
    before: str
    after: str


@dataclass
class TimelineItem:
    entry: TimelineEntry
    subject_label: str
    record_id: int | None
    changes: list[Change] = field(default_factory=list)


def _parse_ts(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _why(provenance: dict | None, *, names: dict[str, str], visible: dict[tuple[str, str], SourceRecord],
         users: dict[int, str] | None = None) -> Why | None:
    if not provenance:
        return None
    if provenance.get("origin"):
        by = provenance.get("by")
        return Why(
            source_code="", source_name="", external_id=None, record_id=None,
            rule=provenance.get("rule") or "", business_ts=_parse_ts(provenance.get("at")),
            origin=str(provenance["origin"]),
            by=(users or {}).get(by, "") if isinstance(by, int) else "",
            note=str(provenance.get("reason") or ""),
        )
    code = provenance.get("source") or ""
    external_id = provenance.get("external_id")  # None for another department's record
    record = visible.get((code, external_id)) if external_id else None
    return Why(
        source_code=code,
        source_name=names.get(code, code),
        external_id=external_id,
        record_id=record.pk if record is not None else None,
        rule=provenance.get("rule") or "",
        business_ts=_parse_ts(provenance.get("business_ts")),
    )


def _golden_rows(customer: Customer, *, provenance, names, visible, users=None) -> list[GoldenRow]:
    return [
        GoldenRow(
            name=attribute.name,
            label=str(attribute.label),
            value=getattr(customer, attribute.name),
            why=_why(provenance.get(attribute.name), names=names, visible=visible, users=users),
        )
        for attribute in CANONICAL_ATTRIBUTES
    ]


def _custom_rows(customer: Customer, *, provenance, labels, names, visible, users=None) -> list[GoldenRow]:
    """The custom attributes, in their labels' order."""
    return sorted((
        GoldenRow(
            name=name,
            label=labels.get(name, name),
            value=value,
            why=_why(provenance.get(name), names=names, visible=visible, users=users),
        )
        for name, value in (customer.custom_attributes or {}).items()
    ), key=lambda row: row.label.casefold())


def _extra_rows(customer: Customer, *, provenance, labels, names, visible, users=None) -> list[GoldenRow]:
    return [
        GoldenRow(
            name=code,
            label=labels.get(code, code),
            value=value,
            why=_why(provenance.get(code), names=names, visible=visible, users=users),
        )
        for code, value in sorted(customer.extra_identifiers.items())
    ]


def _raw_rows(raw: Any) -> list[RawRow]:
    """The payload key by key, each value exactly as received."""
    if not isinstance(raw, dict):
        return [RawRow("", _json_text(raw), "json")]
    rows = []
    for key, value in raw.items():
        if isinstance(value, str):
            rows.append(RawRow(str(key), value, "text" if value else "empty"))
        else:
            rows.append(RawRow(str(key), _json_text(value), "json"))
    return rows


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _record_card(record: SourceRecord, labels: dict[str, str]) -> RecordCard:
    attributes = record.attributes or {}
    ordered = [n for n in CANONICAL_NAMES if n in attributes]
    ordered += sorted(n for n in attributes if n not in CANONICAL_NAMES)
    return RecordCard(
        record=record,
        attributes=[(attribute_label(n, labels), value_display(n, attributes[n])) for n in ordered],
        raw=_raw_rows(record.raw),
    )


def _shown(value: Any, name: str = "", names: dict[str, str] | None = None) -> str:
    """A value in the history: never raw JSON; dates and phones in the page's formats."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, list):
        if name == "quality_flags":
            return ", ".join(quality_flag(str(v)) for v in value)
        return ", ".join(_shown(v, name, names) for v in value)
    if isinstance(value, dict):
        if "source" in value and "external_id" in value:  # a pinned choice or a provenance
            source = (names or {}).get(value["source"], value["source"])
            return f"{source} · {value['external_id']}"
        return " · ".join(f"{attribute_label(str(k))}: {_shown(v, str(k), names)}" for k, v in value.items())
    if isinstance(value, str) and name:
        return value_display(name, value) or "—"
    if isinstance(value, datetime):
        return date_format(localtime(value), "SHORT_DATETIME_FORMAT")
    if isinstance(value, date):
        return date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def _customer_ref(pk: Any, public_ids: dict[int, uuid.UUID]) -> str:
    public_id = public_ids.get(pk) if pk is not None else None
    return str(public_id) if public_id is not None else _shown(pk)


def _changes(
    entry: TimelineEntry, labels: dict[str, str], public_ids: dict[int, uuid.UUID],
    names: dict[str, str] | None = None,
) -> list[Change]:
    changes = []
    for name, before, after in entry.changes:
        label = attribute_label(name, labels)
        if name in ("customer_id", "merged_into"):
            before_pk = getattr(before, "pk", before)
            after_pk = getattr(after, "pk", after)
            changes.append(
                Change(label, _customer_ref(before_pk, public_ids), _customer_ref(after_pk, public_ids))
            )
        elif isinstance(before, dict) or isinstance(after, dict):
            before, after = before or {}, after or {}
            for key in sorted(set(before) | set(after), key=str):
                if before.get(key) != after.get(key):
                    # Raw payload keys are the source's own field names: shown as sent.
                    key_label = str(key) if name == "raw" else attribute_label(str(key), labels)
                    field = "" if name == "raw" else str(key)
                    changes.append(Change(
                        f"{label} · {key_label}", _shown(before.get(key), field, names),
                        _shown(after.get(key), field, names),
                    ))
        else:
            changes.append(Change(label, _shown(before, name, names), _shown(after, name, names)))
    return changes


def _timeline(customer: Customer, records: list[SourceRecord], labels, names) -> list[TimelineItem]:
    by_subject = {f"{r.source.code}:{r.external_id}": r for r in records}
    entries = customer_timeline(customer=customer, records=records)
    linked_ids = {
        getattr(value, "pk", value)
        for entry in entries
        for name, before, after in entry.changes
        if name in ("customer_id", "merged_into")
        for value in (before, after)
        if value is not None
    }
    public_ids = customer_public_ids(linked_ids)
    items = []
    for entry in entries:
        record = by_subject.get(entry.subject)
        if record is not None:
            subject_label = f"{record.source.name} · {record.external_id}"
        else:
            subject_label = attribute_label(entry.subject)
        items.append(
            TimelineItem(
                entry=entry,
                subject_label=subject_label,
                record_id=record.pk if record is not None else None,
                changes=_changes(entry, labels, public_ids, names),
            )
        )
    return items


@login_required
@require_GET
def customer_detail(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """A golden customer: its values and why, its visible records, its history."""
    try:
        customer = customer_get_for_user(user=request.user, public_id=public_id)
    except CustomerErased:
        return render(request, "rcu/customer_erased.html", status=410)
    if customer.public_id != public_id:
        return redirect("customer_detail", public_id=customer.public_id)
    records, hidden_count = customer_records_for_user(user=request.user, customer=customer)
    hooks.personal_data_read(user=request.user, customers=[customer], purpose="customer_page")

    labels = extra_identifier_labels()
    names = source_names_by_code()
    visible = {(r.source.code, r.external_id): r for r in records}
    provenance = provenance_for_user(customer.provenance, visible_records=records)
    users = correctors_by_id(provenance)
    context = {
        "customer": customer,
        "golden_rows": _golden_rows(customer, provenance=provenance, names=names, visible=visible,
                                    users=users),
        "extra_rows": _extra_rows(
            customer, provenance=provenance, labels=labels, names=names, visible=visible,
            users=users,
        ),
        "custom_rows": _custom_rows(
            customer, provenance=provenance, labels=labels, names=names, visible=visible,
            users=users,
        ),
        "cards": [_record_card(r, labels) for r in records],
        "hidden_count": hidden_count,
        "timeline": _timeline(customer, records, labels, names),
        "absorbed_ids": list(customer.absorbed.values_list("public_id", flat=True)),
        "may_restrict": request.user.has_perm(RESTRICT_PERMISSION),
    }
    return render(request, "rcu/customer_detail.html", context)


RESTRICT_PERMISSION = "rcu.restrict_customer"


@login_required
@require_POST
def customer_restriction(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    """The DPO (or an admin) restricts a customer's processing (GDPR art. 18), or lifts it,
    with a reason; a subject request's page does the same for its scope."""
    if not request.user.has_perm(RESTRICT_PERMISSION):
        raise PermissionDenied
    customer = customer_get_for_user(user=request.user, public_id=public_id)
    form = RestrictionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why."))
        return redirect("customer_detail", public_id=customer.public_id)
    action = customer_restrict if form.cleaned_data["action"] == "restrict" else customer_restriction_lift
    try:
        action(customer=customer, reason=form.cleaned_data["reason"], acting_user=request.user)
    except RestrictionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Processing restricted: no export, no marketing, no merge until lifted.")
                         if form.cleaned_data["action"] == "restrict" else _("Restriction lifted."))
    return redirect("customer_detail", public_id=customer.public_id)
