"""What an access pack reads: the request's scope, the history of each row, the steward
decisions (through `rcu.hooks.customer_decisions`: gdpr does not import stewardship),
the register's processing activities, and the subscribers the data was sent to.

No access rule here: these are read only by the pack services, for a request the DPO
handles (resolved by `subject_request_get_for_user`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, Q
from django.utils.translation import gettext as _

from gdpr.models import ProcessingActivity, ScopeItem, SubjectRequest
from rcu import hooks
from rcu.models import Customer, SourceRecord
from rcu.models.subscriptions import Delivery
from rcu.roles import Role


@dataclass(frozen=True)
class Scope:
    customers: list[Customer]  # active golden customers in scope
    records: list[SourceRecord]  # every record in scope (a customer's own ones included)
    own_customer_ids: set[int]  # in scope (or holding a record in scope), and merged into them
    related_customer_ids: set[int]  # those, and the customers that once held a record


@dataclass(frozen=True)
class ProcessingEntry:
    """One processing activity of the register (art. 30) that applies to the sources."""

    name: str
    purpose: str
    legal_basis: str
    categories_of_data: tuple[str, ...]
    recipients: tuple[str, ...]
    transfers_outside_eu: str
    retention: str
    sources: tuple[str, ...]  # source codes

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "purpose": self.purpose, "legal_basis": self.legal_basis,
            "categories_of_data": list(self.categories_of_data),
            "recipients": list(self.recipients),
            "transfers_outside_eu": self.transfers_outside_eu, "retention": self.retention,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class Recipient:
    """A subscriber that was sent changes of the person's customers."""

    name: str
    purpose: str
    events: int
    delivered: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip(" -•\t") for line in text.splitlines() if line.strip(" -•\t"))


def processing_for_sources(source_ids: Iterable[int]) -> list[ProcessingEntry]:
    """The register's active activities concerning any of these sources, or every source
    (an activity with no source listed applies to all), by name. Two queries."""
    ids = sorted(set(source_ids))
    activities = (
        ProcessingActivity.objects.filter(active=True)
        .annotate(source_count=Count("sources"))
        .filter(Q(source_count=0) | Q(pk__in=ProcessingActivity.sources.through.objects.filter(
            sourcesystem_id__in=ids).values("processingactivity_id")))
        .prefetch_related("sources")
        .order_by("name")
    )
    return [
        ProcessingEntry(
            name=a.name, purpose=a.purpose, legal_basis=a.legal_basis,
            categories_of_data=_lines(a.data_categories), recipients=_lines(a.recipients),
            transfers_outside_eu="\n".join(
                t for t in (a.transfers_outside_eu, a.transfer_safeguards) if t),
            retention=a.retention,
            sources=tuple(sorted(s.code for s in a.sources.all())),
        )
        for a in activities
    ]


def request_scope(*, request: SubjectRequest) -> Scope:
    """The customers and records the DPO confirmed for this request."""
    items = list(ScopeItem.objects.filter(request=request, in_scope=True))
    customer_ids = {i.customer_id for i in items if i.customer_id}
    customers = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk"))
    record_ids = {i.record_id for i in items if i.record_id}
    records = list(
        SourceRecord.objects.filter(Q(pk__in=record_ids) | Q(customer_id__in=customer_ids))
        .select_related("source", "customer")
        .order_by("source__trust_rank", "source__code", "external_id")
    )
    own = set(customer_ids) | {r.customer_id for r in records if r.customer_id}
    # Customers merged into these ones, however long ago: their history is the person's.
    frontier = set(own)
    while frontier:
        frontier = set(
            Customer.objects.filter(merged_into_id__in=frontier).values_list("pk", flat=True)
        ) - own
        own |= frontier
    # A customer that once held one of the records (before a detach) may be someone
    # else's: its decisions and recipients count, never its history.
    record_history = SourceRecord.history.model.objects
    related = own | set(
        record_history.filter(id__in=[r.pk for r in records])
        .exclude(customer_id=None).values_list("customer_id", flat=True).distinct()
    )
    return Scope(customers=customers, records=records, own_customer_ids=own,
                 related_customer_ids=related)


def customer_history(customer_ids: Iterable[int]) -> list[Any]:
    """Simple-history rows of these customers, oldest first (their user loaded)."""
    return list(
        Customer.history.model.objects.filter(id__in=list(customer_ids))
        .select_related("history_user").order_by("history_date", "history_id")
    )


def record_history(record_ids: Iterable[int]) -> list[Any]:
    return list(
        SourceRecord.history.model.objects.filter(id__in=list(record_ids))
        .select_related("history_user").order_by("history_date", "history_id")
    )


def customer_decisions(customer_ids: Iterable[int]) -> list[hooks.CustomerDecision]:
    return hooks.customer_decisions(customer_ids=customer_ids)


def recipients_for_customers(customer_ids: Iterable[int]) -> list[Recipient]:
    """Subscribers that were sent (or are to be sent) these customers' change events."""
    rows = (
        Delivery.objects.filter(customer_id__in=list(customer_ids))
        .values("subscription__name", "subscription__purpose")
        .annotate(
            events=Count("id"),
            delivered=Count("id", filter=Q(status=Delivery.Status.DELIVERED)),
            first_sent_at=Min("delivered_at"), last_sent_at=Max("delivered_at"),
        )
        .order_by("subscription__name")
    )
    return [
        Recipient(
            name=row["subscription__name"], purpose=row["subscription__purpose"],
            events=row["events"], delivered=row["delivered"],
            first_sent_at=row["first_sent_at"], last_sent_at=row["last_sent_at"],
        )
        for row in rows
    ]


ROLE_WORDS = {
    Role.STEWARD: "a data steward",
    Role.DPO: "the data protection officer",
    Role.ADMIN: "an administrator",
    Role.AUDITOR: "an auditor",
}


def staff_roles(user_ids: Iterable[int]) -> dict[int, str]:
    """Each member of staff as a role, never a name (art. 15(4): other people's data).
    English words: the pack is a machine-readable document; its page translates them."""
    users = get_user_model().objects.filter(pk__in=set(user_ids)).prefetch_related("groups")
    roles: dict[int, str] = {}
    for user in users:
        names = {g.name for g in user.groups.all()}
        roles[user.pk] = next(
            (word for role, word in ROLE_WORDS.items() if role.value in names), "a member of staff"
        )
    return roles


def role_label(role: str) -> str:
    """The role's words in the reader's language (for the printable page)."""
    labels = {
        "a data steward": _("a data steward"),
        "the data protection officer": _("the data protection officer"),
        "an administrator": _("an administrator"),
        "an auditor": _("an auditor"),
        "a member of staff": _("a member of staff"),
        "RCU": _("RCU (automatic)"),
    }
    return labels.get(role, role)
