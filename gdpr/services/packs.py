"""Access (art. 15) and portability (art. 20) packs: built once per execution, stored as
one JSON document (schema `gdpr/schemas/access_pack.v1.json`), downloadable until they
expire (RCU_GDPR_PACK_DAYS), then their file is deleted (the row stays as proof).

The stored JSON is the truth; the printable page, the PDF and the portability CSV are
renderings of it. Other people's data is redacted as the pack is built (art. 15(4)):
staff are named by their role, free-text reasons become "[redacted]".
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from gdpr.models import AccessPack, PackKind, RequestKind, SubjectRequest
from gdpr.selectors import pack_sources
from gdpr.selectors.consents import PackConsents, consents_for_pack
from gdpr.services.access_log import access_log_record
from gdpr.services.requests import request_step_record
from rcu.attributes import CANONICAL_ATTRIBUTES
from rcu.csv_safe import machine_csv_writer
from rcu.models import Customer

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "access_pack.v1.json"
REDACTED = "[redacted]"
SYSTEM = "RCU"
PACK_KINDS = (RequestKind.ACCESS, RequestKind.PORTABILITY)

# Customer history columns that are not the person's data.
_CUSTOMER_VALUE_FIELDS = tuple(a.name for a in CANONICAL_ATTRIBUTES)


class PackRefused(Exception):
    """The request cannot have a pack now (its kind, or nothing in scope): a 409."""


@dataclass(frozen=True)
class ExecuteOutcome:
    pack: AccessPack | None  # None: queued, built by `access_pack_build_task`
    queued: bool


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat()


def _redacted(text: str) -> str:
    return REDACTED if text else ""


def _by(user_id: int | None, roles: dict[int, str]) -> str:
    return SYSTEM if user_id is None else roles.get(user_id, "a member of staff")


def _history_entry(row: Any, roles: dict[int, str], values: dict[str, Any]) -> dict[str, Any]:
    by_person = row.history_user_id is not None
    return {
        "at": _iso(row.history_date),
        "change": {"+": "created", "~": "changed", "-": "deleted"}.get(row.history_type, "changed"),
        "by": _by(row.history_user_id, roles),
        # RCU's own reasons name a job ("import #12"); a person's may name anyone.
        "reason": _redacted(row.history_change_reason or "") if by_person
        else (row.history_change_reason or ""),
        "values": values,
    }


def pack_document(*, request: SubjectRequest, kind: str, now: datetime) -> dict[str, Any]:
    """The pack as a JSON-ready document (schema_version 1)."""
    scope = pack_sources.request_scope(request=request)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "request": {
            "reference": request.reference, "kind": request.kind,
            "received_on": request.received_on.isoformat(),
        },
        "generated_at": now.isoformat(),
        "customers": [],
        "records": [],
    }
    access = kind == PackKind.ACCESS
    customer_rows = pack_sources.customer_history(scope.own_customer_ids) if access else []
    record_rows = pack_sources.record_history([r.pk for r in scope.records]) if access else []
    decisions = pack_sources.customer_decisions(scope.related_customer_ids) if access else []
    roles = pack_sources.staff_roles(
        {r.history_user_id for r in [*customer_rows, *record_rows] if r.history_user_id}
        | {d.decided_by_id for d in decisions if d.decided_by_id}
    )
    public_ids = dict(
        Customer.objects.filter(pk__in=scope.own_customer_ids).values_list("pk", "public_id")
    )
    own_public_ids = {str(p) for p in public_ids.values()}

    for customer in scope.customers:
        values = {}
        for name in _CUSTOMER_VALUE_FIELDS:
            value = getattr(customer, name)
            if value in ("", None):
                continue
            provenance = dict(customer.provenance.get(name) or {})
            values[name] = {
                "value": value.isoformat() if hasattr(value, "isoformat") else str(value),
                "provenance": {
                    "source": provenance.get("source", ""),
                    "external_id": provenance.get("external_id", ""),
                    "rule": provenance.get("rule", ""),
                    "business_ts": provenance.get("business_ts"),
                    "pinned": name in (customer.pinned or {}),
                },
            }
        entry: dict[str, Any] = {
            "public_id": str(customer.public_id),
            "created_at": _iso(customer.created_at),
            "values": values,
        }
        if customer.extra_identifiers:
            entry["extra_identifiers"] = customer.extra_identifiers
        if customer.custom_attributes:
            entry["custom_attributes"] = customer.custom_attributes
        if access:
            absorbed = sorted(
                str(public_id) for pk, public_id in public_ids.items() if pk != customer.pk
            )
            entry["merged_from"] = absorbed
            entry["history"] = [
                {**_history_entry(row, roles, {
                    n: _plain(getattr(row, n)) for n in _CUSTOMER_VALUE_FIELDS
                    if getattr(row, n) not in ("", None)
                }), "customer": str(row.public_id)}
                for row in customer_rows
            ]
        document["customers"].append(entry)

    history_of: dict[int, list[Any]] = {}
    for row in record_rows:
        history_of.setdefault(row.id, []).append(row)
    for record in scope.records:
        item: dict[str, Any] = {
            "id": record.pk,
            "source": {"code": record.source.code, "name": record.source.name},
            "external_id": record.external_id,
            "customer": str(record.customer.public_id) if record.customer is not None else None,
            "received_at": _iso(record.created_at),
            "updated_at": _iso(record.updated_at),
            "business_ts": _iso(record.business_ts),
            "deleted_at_source": _iso(record.deleted_at_source),
            "raw": record.raw,
        }
        if access:
            item["attributes"] = record.attributes
            item["history"] = [
                _history_entry(row, roles, {"raw": row.raw}) for row in history_of.get(record.pk, [])
            ]
        document["records"].append(item)

    if access:
        document["decisions"] = [
            {
                "kind": d.kind, "at": _iso(d.decided_at), "by": _by(d.decided_by_id, roles),
                "reason": _redacted(d.reason),
                # Only the person's own files: another customer named is someone else's.
                "customers": [p for p in d.customer_public_ids if p in own_public_ids],
                "values_chosen": list(d.attributes_chosen), "undone_at": _iso(d.undone_at),
            }
            for d in decisions
        ]
        source_ids = sorted({r.source_id for r in scope.records})
        document["processing"] = [
            p.to_json() for p in pack_sources.processing_for_sources(source_ids)
        ]
        document["consents"] = _pack_consents(
            consents_for_pack(customer_ids=scope.own_customer_ids, record_ids=[r.pk for r in scope.records]),
            roles=pack_sources.staff_roles(set()),
        )
        document["recipients"] = [
            {
                "name": r.name, "purpose": r.purpose, "events": r.events,
                "delivered": r.delivered, "first_sent_at": _iso(r.first_sent_at),
                "last_sent_at": _iso(r.last_sent_at),
            }
            for r in pack_sources.recipients_for_customers(scope.related_customer_ids)
        ]
    return document


def _pack_consents(found: PackConsents, *, roles: dict[int, str]) -> dict[str, Any]:
    """The person's consents: in force per customer, every statement with its proof, and
    their objections (staff by their role; an objection's reason is the person's own)."""
    return {
        "in_force": [
            {"customer": str(c.customer.public_id), "purpose": c.purpose.code, "channel": c.channel,
             "granted": c.granted, "stated_at": _iso(c.stated_at)}
            for c in found.in_force
        ],
        "statements": [
            {"purpose": s.purpose.code, "purpose_label": s.purpose.label, "channel": s.channel,
             "granted": s.granted, "stated_at": _iso(s.stated_at), "recorded_at": _iso(s.recorded_at),
             "origin": s.origin,
             "source": s.record.source.code if s.record else None,
             "external_id": s.record.external_id if s.record else None,
             "wording": s.wording, "request": s.request.reference if s.request else None,
             "by": SYSTEM if s.recorded_by_id is None else "a member of staff"}
            for s in found.statements
        ],
        "objections": [
            {"reason": o.reason, "request": o.request.reference if o.request else None,
             "recorded_at": _iso(o.recorded_at), "lifted_at": _iso(o.lifted_at)}
            for o in found.objections
        ],
    }


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def pack_bytes(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=False).encode()


def pack_read(pack: AccessPack) -> dict[str, Any]:
    with pack.file.open("rb") as handle:
        return json.loads(handle.read())


def pack_csv(document: dict[str, Any]) -> str:
    """Portability as one flat table: each golden value and each field received, one
    row each (RFC 4180)."""
    out = io.StringIO()
    writer = machine_csv_writer(out)
    writer.writerow(["kind", "customer", "source", "external_id", "received_at", "field", "value"])
    for customer in document["customers"]:
        for name, entry in customer["values"].items():
            writer.writerow(["golden", customer["public_id"], entry["provenance"]["source"],
                             entry["provenance"]["external_id"], "", name, entry["value"]])
    for record in document["records"]:
        for name, value in _flatten(record["raw"]):
            writer.writerow(["record", record["customer"] or "", record["source"]["code"],
                             record["external_id"], record["received_at"], name,
                             value if isinstance(value, str) else json.dumps(value)])
    return out.getvalue()


def _flatten(payload: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(payload, dict):
        rows: list[tuple[str, Any]] = []
        for key, value in payload.items():
            rows.extend(_flatten(value, f"{prefix}{key}." if isinstance(value, dict) else f"{prefix}{key}"))
        return rows
    return [(prefix.rstrip("."), payload)]


def pack_customers(pack: AccessPack) -> list[Customer]:
    """The customers a pack is about, for the access log (one row each)."""
    scope = pack_sources.request_scope(request=pack.request)
    ids = {c.pk for c in scope.customers} | {r.customer_id for r in scope.records if r.customer_id}
    return list(Customer.objects.filter(pk__in=ids).order_by("pk"))


def pack_days() -> int:
    return int(getattr(settings, "RCU_GDPR_PACK_DAYS", 30))


@transaction.atomic
def access_pack_build(*, request: SubjectRequest, acting_user: Any) -> AccessPack:
    """Build the request's pack now, store it, mark the request executed, log the read."""
    if request.kind not in PACK_KINDS:
        raise PackRefused(f"a {request.kind} request has no access pack")
    if not request.scope.filter(in_scope=True).exists():
        raise PackRefused("nothing is in scope: confirm the scope first")
    now = timezone.now()
    document = pack_document(request=request, kind=request.kind, now=now)
    content = pack_bytes(document)
    pack = AccessPack(
        request=request, kind=request.kind, schema_version=SCHEMA_VERSION,
        sha256=hashlib.sha256(content).hexdigest(), size=len(content),
        built_by=acting_user, expires_at=now + timedelta(days=pack_days()),
    )
    pack.file.save(f"{request.reference}-{request.kind}-{now:%Y%m%d%H%M%S}.json",
                   ContentFile(content), save=False)
    pack.save()
    state_before = request.state
    request.executed_at = now
    request.save(update_fields=["executed_at", "updated_at"])
    request_step_record(
        request=request, action="executed", acting_user=acting_user, state_before=state_before,
        detail=f"{request.kind} pack #{pack.pk}: {len(document['customers'])} customers, "
               f"{len(document['records'])} records, {pack.size} bytes",
    )
    access_log_record(user=acting_user, customers=pack_customers(pack), purpose="gdpr_pack_build")
    return pack


def inline_max_records() -> int:
    return int(getattr(settings, "RCU_GDPR_PACK_INLINE_MAX_RECORDS", 500))


def request_execute(*, request: SubjectRequest, acting_user: Any) -> ExecuteOutcome:
    """Build the pack inline, or queue it when the scope is large (the task is idempotent:
    a pack built since the scope was last decided is not built again)."""
    if request.kind not in PACK_KINDS:
        raise PackRefused(f"a {request.kind} request has no access pack")
    scope = pack_sources.request_scope(request=request)
    if not scope.customers and not scope.records:
        raise PackRefused("nothing is in scope: confirm the scope first")
    if len(scope.records) <= inline_max_records():
        return ExecuteOutcome(pack=access_pack_build(request=request, acting_user=acting_user),
                              queued=False)
    from gdpr.tasks import access_pack_build_task  # here: the task module imports this one

    with transaction.atomic():
        request_step_record(request=request, action="pack_queued", acting_user=acting_user,
                            state_before=request.state,
                            detail=f"{len(scope.records)} records in scope")
        transaction.on_commit(
            lambda: access_pack_build_task.delay(request.pk, acting_user.pk)
        )
    return ExecuteOutcome(pack=None, queued=True)


def access_pack_build_queued(*, request_id: int, user_id: int) -> AccessPack | None:
    """The task's work: build unless a pack was built since the last scope decision or
    queueing (a task delivered twice builds once)."""
    from django.contrib.auth import get_user_model

    request = SubjectRequest.objects.get(pk=request_id)
    queued_at = request.steps.filter(action="pack_queued").order_by("-at").values_list(
        "at", flat=True
    ).first()
    latest = request.packs.order_by("-built_at").first()
    if latest is not None and queued_at is not None and latest.built_at >= queued_at:
        return latest
    user = get_user_model().objects.get(pk=user_id)
    return access_pack_build(request=request, acting_user=user)


def pack_download_log(*, pack: AccessPack, user: Any) -> None:
    access_log_record(user=user, customers=pack_customers(pack), purpose="gdpr_pack_download")


def access_packs_purge(*, now: datetime | None = None, limit: int | None = None) -> int:
    """Delete the files of packs past their expiry; their rows stay (deleted_at). With
    `limit`, at most that many packs, in one transaction (a chunk of the nightly
    purge); the files go once it commits. Safe to run again."""
    now = now or timezone.now()
    purged = 0
    with transaction.atomic():
        packs = AccessPack.objects.filter(deleted_at__isnull=True, expires_at__lte=now).order_by("expires_at", "pk")
        for pack in packs[:limit] if limit else packs:
            name, storage = pack.file.name, pack.file.storage
            pack.file = ""
            pack.deleted_at = now
            pack.save(update_fields=["file", "deleted_at"])
            if name:
                transaction.on_commit(partial(storage.delete, name))
            purged += 1
    return purged
