"""Who is restricted (GDPR art. 18), for the channels that must leave them out.

One rule, read by every channel: the admins' exports (links, change files, the API's
bulk list), and the subscribers that must not hear about a restricted customer
(marketing: `honours_restriction`). A restricted customer's own `customer.restricted`
event always leaves (recipients are told to stop, art. 19), and so does its
`customer.erased`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet

from rcu.db import id_chunks
from rcu.models import ChangeEvent, Customer, Subscription

# The events that leave for a restricted customer: the notice to stop, and the erasure.
RESTRICTION_NOTICES = frozenset({ChangeEvent.Type.RESTRICTED.value, ChangeEvent.Type.ERASED.value})


# Above this many customers asked about, every restricted customer is read at once (few:
# one per request granted) rather than the asked ones chunk by chunk: a full matching
# run asks about every customer of the base.
ALL_RESTRICTED_FROM = 50_000


def restricted_among(customer_ids: Iterable[int]) -> set[int]:
    """The restricted customers among these (one query per `id_chunks` chunk, or every
    restricted customer read at once for very many)."""
    ids = set(customer_ids)
    if len(ids) >= ALL_RESTRICTED_FROM:
        return ids.intersection(
            Customer.objects.filter(restricted_at__isnull=False).values_list("pk", flat=True)
        )
    found: set[int] = set()
    for chunk in id_chunks(sorted(ids)):
        found.update(Customer.objects.filter(pk__any_of=chunk, restricted_at__isnull=False)
                     .order_by().values_list("pk", flat=True))
    return found


def honours_restriction(subscription: Subscription) -> bool:
    """Does this subscriber lose a restricted customer's events? Marketing does (the CNIL:
    a restricted person is not prospected); so does an unsaved subscription, the admins'
    own change file (an export). Other purposes keep them: see docs/gdpr.md."""
    return subscription.pk is None or subscription.purpose == Subscription.Purpose.MARKETING


def restricted_silenced(subscription: Subscription, events: Iterable[tuple[str, int]]) -> set[int]:
    """Of these (event type, customer id), the customers whose events this subscriber
    must not receive now (beyond the notices)."""
    if not honours_restriction(subscription):
        return set()
    return restricted_among(customer_id for kind, customer_id in events if kind not in RESTRICTION_NOTICES)


def unrestricted(customers: QuerySet[Customer]) -> QuerySet[Customer]:
    return customers.filter(restricted_at__isnull=True)
