"""Restriction of processing (GDPR art. 18): a customer's data kept, used for nothing else.

While `Customer.restricted_at` is set, the customer's data stays where it is (history,
records, matching keys) but:
- it leaves in no export: the admins' change files and the links export skip it, the
  API's bulk list (`updated_since`) leaves it out (`rcu.selectors.restriction`);
- marketing subscribers receive its `customer.restricted` event and nothing else about
  it (`rcu.services.deliveries.deliveries_fan_out`); subscribers of other purposes keep
  receiving its changes (art. 19 tells them; they hold and restrict the data themselves);
- no steward merge and no automatic link takes it (stewardship refuses, matching sends
  its pairs to review).
Lifting writes `customer.restriction_lifted` carrying the golden values as they stand, so a
marketing subscriber that missed the changes meanwhile catches up. docs/gdpr.md.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from rcu.models import Customer
from rcu.services.changes import Actor, change_save
from rcu.services.locks import customers_lock, retrying

RESTRICTION_FIELDS = ["restricted_at", "restriction_reason"]
RESTRICTED_REASON = "restricted (GDPR art. 18)"
LIFTED_REASON = "restriction lifted (GDPR art. 18)"


class RestrictionRefused(ValueError):
    """The restriction cannot be set or lifted as asked (the message says why)."""


def _locked(customer: Customer) -> Customer:
    customers_lock([customer.pk], fields=())
    fresh = Customer.objects.get(pk=customer.pk)
    if fresh.merged_into_id is not None:
        raise RestrictionRefused(f"customer {fresh.public_id} was merged into another: restrict its survivor")
    return fresh


@retrying
@transaction.atomic
def customer_restrict(*, customer: Customer, reason: str, acting_user: Actor) -> Customer:
    """Restrict processing of this customer's data (art. 18) until lifted: one history row,
    one `customer.restricted` event (ids and the date only: the reason stays here)."""
    reason = reason.strip()
    if not reason:
        raise RestrictionRefused("say why the customer is restricted")
    customer = _locked(customer)
    if customer.restricted_at is not None:
        raise RestrictionRefused(f"customer {customer.public_id} is already restricted")
    customer.restricted_at = timezone.now()
    customer.restriction_reason = reason
    # History says what happened; the why stays in the DPO's field (stewards read history).
    change_save(customer, acting_user=acting_user, reason=RESTRICTED_REASON,
                update_fields=RESTRICTION_FIELDS)
    return customer


@retrying
@transaction.atomic
def customer_restriction_lift(*, customer: Customer, reason: str, acting_user: Actor) -> Customer:
    """Lift the restriction: the customer is processed again (exports, marketing
    subscribers, merges); one history row, one `customer.restriction_lifted` event."""
    reason = reason.strip()
    if not reason:
        raise RestrictionRefused("say why the restriction is lifted")
    customer = _locked(customer)
    if customer.restricted_at is None:
        raise RestrictionRefused(f"customer {customer.public_id} is not restricted")
    customer.restricted_at = None
    customer.restriction_reason = ""
    change_save(customer, acting_user=acting_user, reason=LIFTED_REASON,
                update_fields=RESTRICTION_FIELDS)
    return customer
