"""Reads of the access log, with their one access rule: the DPO reads it, nobody else
(admins neither: the log traces what they read too)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from gdpr.models import AccessLogEntry
from rcu.models import Customer
from rcu.selectors.customers import customer_resolve, customer_search

VIEW_ACCESS_LOG = "gdpr.view_accesslogentry"
# A search by name or e-mail matches at most this many people.
PERSON_MATCH_LIMIT = 50


def user_reads_access_log(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm(VIEW_ACCESS_LOG))


def require_access_log_reader(user: Any) -> None:
    if not user_reads_access_log(user):
        raise PermissionDenied


@dataclass(frozen=True)
class AccessLogFilters:
    """What the DPO searches the log by; every criterion given must hold."""

    public_ids: frozenset[uuid.UUID] | None = None  # None: any customer
    username: str = ""
    since: date | None = None
    until: date | None = None  # inclusive
    purpose: str = ""
    channel: str = ""


@dataclass(frozen=True)
class PersonFound:
    """A customer matching the DPO's search, with every public id the log may name them
    by (their own, and those of the customers merged into them)."""

    customer: Customer
    public_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)


def _with_merged(customers: Sequence[Customer]) -> list[PersonFound]:
    merged: dict[int, set[uuid.UUID]] = {c.pk: {c.public_id} for c in customers}
    frontier = [c.pk for c in customers]
    root_of = {c.pk: c.pk for c in customers}
    for _depth in range(20):  # a chain of merges, followed backwards
        if not frontier:
            break
        rows = list(Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", "public_id", "merged_into_id"))
        frontier = []
        for pk, public_id, into in rows:
            root_of[pk] = root_of[into]
            merged[root_of[pk]].add(public_id)
            frontier.append(pk)
    return [PersonFound(customer=c, public_ids=frozenset(merged[c.pk])) for c in customers]


def access_log_people_find(*, user: Any, text: str) -> list[PersonFound]:
    """The people a DPO's search names: a public id (resolved to its survivor when merged),
    or a name, e-mail, phone or postcode as the customer search reads them."""
    require_access_log_reader(user)
    text = text.strip()
    if not text:
        return []
    try:
        public_id = uuid.UUID(text)
    except ValueError:
        found = list(customer_search(user=user, q=text)[:PERSON_MATCH_LIMIT])
        return _with_merged(found)
    customer = customer_resolve(public_id)
    if customer is None:  # no such customer (any more): the id alone may still be in the log
        return []
    (person,) = _with_merged([customer])
    return [PersonFound(customer=customer, public_ids=person.public_ids | {public_id})]


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def access_log_entries_for_user(*, user: Any, filters: AccessLogFilters) -> QuerySet[AccessLogEntry]:
    """The entries matching the filters, newest first (403 for anyone but the DPO)."""
    require_access_log_reader(user)
    entries = AccessLogEntry.objects.select_related("user")
    if filters.public_ids is not None:
        entries = entries.filter(customer_public_id__in=sorted(filters.public_ids))
    if filters.username:
        entries = entries.filter(user__username=filters.username)
    if filters.since:
        entries = entries.filter(at__gte=_start(filters.since))
    if filters.until:
        entries = entries.filter(at__lt=_start(filters.until + timedelta(days=1)))
    if filters.purpose:
        entries = entries.filter(purpose=filters.purpose)
    if filters.channel:
        entries = entries.filter(channel=filters.channel)
    return entries.order_by("-at", "-id")


def access_log_rows(entries: QuerySet[AccessLogEntry], *, chunk: int = 2000) -> Iterator[AccessLogEntry]:
    """Every entry of the queryset, streamed (an export of a long period)."""
    return entries.iterator(chunk_size=chunk)
