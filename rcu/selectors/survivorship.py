"""The survivorship rules in force, and what new rules would change."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count

from rcu.models import Customer, SourceRecord, SurvivorshipSettings
from rcu.selectors.attributes import custom_attributes_current
from rcu.survivorship import SurvivorshipRules, rules_with_defaults

CACHE_KEY = "rcu:survivorship-rules"
# How long a process may go on with rules it read: the background recomputation waits
# this long before it starts, so that no process recomputes with the rules replaced.
CACHE_SECONDS = 5


def survivorship_rules_current() -> SurvivorshipRules:
    """The rules every golden recomputation applies, read through the cache for at most
    CACHE_SECONDS: recomputation runs at every write and should not cost a query."""
    data = cache.get(CACHE_KEY)
    if data is None:
        row = SurvivorshipSettings.objects.filter(pk=1).values("version", "rules").first()
        data = {"version": row["version"], "attributes": row["rules"]} if row else {}
        cache.set(CACHE_KEY, data, timeout=CACHE_SECONDS)
    stored = (
        SurvivorshipRules.from_json(data, extra_units=frozenset(data.get("attributes") or ()))
        if data else SurvivorshipRules()
    )
    defaults = {a.name: a.survivorship for a in custom_attributes_current() if a.survivorship}
    return rules_with_defaults(stored, defaults)


def survivorship_rules_forget() -> None:
    cache.delete(CACHE_KEY)


def customers_with_several_records(*, limit: int | None = None):
    """Only customers with several records depend on the rules."""
    ids = (SourceRecord.objects.filter(customer__merged_into__isnull=True)
           .values("customer_id").annotate(n=Count("pk")).filter(n__gt=1)
           .order_by("customer_id").values_list("customer_id", flat=True))
    return ids[:limit] if limit else ids


@dataclass(frozen=True)
class GoldenChange:
    customer: Customer
    attribute: str
    before: str
    after: str
    before_source: str
    after_source: str


def survivorship_preview(*, rules: SurvivorshipRules, sample: int = 300) -> tuple[int, list[GoldenChange]]:
    """On a sample of customers with several records: the golden values these rules
    would change (nothing is stored). Returns the sample's size and the changes."""
    from rcu.services.customers import record_views_by_customer
    from rcu.survivorship import golden_values

    ids = list(customers_with_several_records(limit=sample))
    customers = {c.pk: c for c in Customer.objects.filter(pk__in=ids)}
    views = record_views_by_customer(ids)
    current = survivorship_rules_current()
    changes = []
    for pk in ids:
        customer = customers.get(pk)
        if customer is None:
            continue
        pinned = customer.pinned or {}
        before = golden_values(views.get(pk, []), pinned=pinned, rules=current)
        after = golden_values(views.get(pk, []), pinned=pinned, rules=rules)
        for name in sorted(set(before.values) | set(after.values)):
            if before.values.get(name) != after.values.get(name):
                changes.append(GoldenChange(
                    customer=customer, attribute=name,
                    before=before.values.get(name, ""), after=after.values.get(name, ""),
                    before_source=str((before.provenance.get(name) or {}).get("source") or ""),
                    after_source=str((after.provenance.get(name) or {}).get("source") or ""),
                ))
    return len(ids), changes
