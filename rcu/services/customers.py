"""Golden customers: creating them and recomputing their values by survivorship."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

import orjson
from django.db import transaction
from django.db.models import TextField
from django.db.models.functions import Cast

from rcu.attributes import CANONICAL_NAMES
from rcu.db import driver_rows
from rcu.models import Customer, SourceRecord
from rcu.selectors.attributes import custom_attribute_names
from rcu.selectors.survivorship import survivorship_rules_current
from rcu.services.changes import Actor, rows_update
from rcu.services.locks import customers_lock_queryset
from rcu.survivorship import Golden, RecordView, golden_values

GOLDEN_FIELDS = [
    *CANONICAL_NAMES,
    "extra_identifiers",
    "custom_attributes",
    "provenance",
    "first_name_key",
    "last_name_key",
]


def golden_as_fields(golden: Golden, custom: frozenset[str] | None = None) -> dict[str, Any]:
    """The customer's column values for these golden values: the values of custom
    attributes (`custom`, by default the ones defined) in `custom_attributes`, other
    values beyond the canonical ones (extra identifiers) in `extra_identifiers`."""
    if custom is None:
        custom = custom_attribute_names()
    fields: dict[str, Any] = {}
    for name in CANONICAL_NAMES:
        value: Any = golden.values.get(name, "")
        if name == "birth_date":
            value = date.fromisoformat(value) if value else None
        fields[name] = value
    fields["extra_identifiers"] = {
        k: v for k, v in golden.values.items() if k not in CANONICAL_NAMES and k not in custom
    }
    fields["custom_attributes"] = {k: v for k, v in golden.values.items() if k in custom}
    fields["provenance"] = golden.provenance
    fields["first_name_key"] = golden.keys.get("first_name", "")
    fields["last_name_key"] = golden.keys.get("last_name", "")
    return fields


def customer_apply_golden(customer: Customer, golden: Golden) -> bool:
    """Copy golden values onto the customer; True when anything changed."""
    changed = False
    for name, value in golden_as_fields(golden).items():
        if getattr(customer, name) != value:
            setattr(customer, name, value)
            changed = True
    return changed


def record_views_by_customer(customer_ids: Iterable[int]) -> dict[int, list[RecordView]]:
    """The linked records of these customers, as survivorship sees them (one query).

    Records deleted at their source are left out, unless a customer has no other.

    JSON columns are read as text and decoded with orjson: the driver's own decoding
    costs more than everything else here.
    """
    views: dict[int, list[RecordView]] = defaultdict(list)
    ids = list(customer_ids)
    if not ids:
        return views
    query = SourceRecord.objects.filter(customer_id__any_of=ids).annotate(
        attributes_text=Cast("attributes", TextField()), keys_text=Cast("keys", TextField()),
        flags_text=Cast("quality_flags", TextField()),
    ).values_list(
        "customer_id", "source__code", "external_id", "source__trust_rank", "business_ts",
        "attributes_text", "keys_text", "deleted_at_source", "flags_text",
    )
    loads = orjson.loads
    deleted: dict[int, list[RecordView]] = defaultdict(list)
    for customer_id, source, external_id, trust_rank, business_ts, attributes, keys, gone, flags in (
        driver_rows(query)
    ):
        view = RecordView(
            source, external_id, trust_rank, business_ts, loads(attributes), loads(keys),
            frozenset(loads(flags) or ()) if flags else frozenset(),
        )
        (views if gone is None else deleted)[customer_id].append(view)
    # Records deleted at their source give no golden value, except to a customer that has
    # nothing else: it keeps showing what was last known of the person.
    for customer_id, gone_views in deleted.items():
        if customer_id not in views:
            views[customer_id] = gone_views
    return views


_JSON_GOLDEN = ("extra_identifiers", "custom_attributes", "provenance")


def _golden_rows_locked(ids: list[int]) -> dict[int, tuple[dict, dict[str, Any], Any]]:
    """Each customer's pinned choices, golden column values and public id, rows locked
    in id order.

    Plain values, JSON read as text and decoded by orjson: no model instances."""
    casts = {name: Cast(name, TextField()) for name in (*_JSON_GOLDEN, "pinned")}
    rows = customers_lock_queryset(ids, lambda locked: list(driver_rows(
        locked.annotate(**{f"{name}_text": cast for name, cast in casts.items()})
        .values_list("pk", "public_id", "pinned_text", *[
            f"{name}_text" if name in _JSON_GOLDEN else name for name in GOLDEN_FIELDS
        ])
    )))
    loads = orjson.loads
    result = {}
    for pk, public_id, pinned, *values in rows:
        fields = dict(zip(GOLDEN_FIELDS, values, strict=True))
        for name in _JSON_GOLDEN:
            fields[name] = loads(fields[name]) if fields[name] is not None else {}
        result[pk] = (loads(pinned) if pinned else {}, fields, public_id)
    return result


# Runs in the caller's transaction without a savepoint: no caller goes on after its errors.
@transaction.atomic(savepoint=False)
def customers_recompute(
    *, customer_ids: Iterable[int], acting_user: Actor, reason: str = "survivorship",
    update_event: str | None = None,
) -> int:
    """Recompute golden values of these customers from their linked records.

    Honours each customer's pinned choices. Returns how many customers changed;
    only those get a history row. Their events are `customer.updated`, or
    `update_event` when given (a rectification's `customer.rectified`).
    """
    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    current = _golden_rows_locked(ids)
    views = record_views_by_customer(ids)
    rules = survivorship_rules_current()
    custom = custom_attribute_names()
    changed: dict[int, dict[str, Any]] = {}
    before: dict[int, dict[str, Any]] = {}
    for pk, (pinned, values, public_id) in current.items():
        golden = golden_as_fields(golden_values(views.get(pk, []), pinned=pinned, rules=rules), custom)
        if golden != values:
            changed[pk] = golden
            before[pk] = {**values, "public_id": public_id}
    if changed:
        rows_update(model=Customer, values=changed, fields=GOLDEN_FIELDS,
                    acting_user=acting_user, reason=reason, update_event=update_event,
                    current=before)
    return len(changed)
