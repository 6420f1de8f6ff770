"""Consents read: one customer's (panel, API, pack) and the contactable list, with the
access rules of each.

- A customer's consents: whoever may see the customer (`customer_get_for_user`) and
  holds `gdpr.view_consent` (stewards, the DPO, admins, auditors).
- Recording a statement: `gdpr.add_consentstatement` (stewards and the DPO); objections:
  `gdpr.add_objection` / `gdpr.change_objection` (the DPO), on a customer the user sees
  (`objection_get_for_user` for a lift).
- The contactable list: `gdpr.list_contactable` (the DPO and admins: a marketing tool
  reads it with an API token of such an account).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.http import Http404

from gdpr.models import (
    Channel,
    Consent,
    ConsentPurpose,
    ConsentStatement,
    Objection,
    SubjectRequest,
)
from rcu.models import Customer
from rcu.selectors.customers import customers_visible_to

# The golden values a marketing tool needs to reach the person on each channel.
CHANNEL_FIELDS: dict[str, tuple[str, ...]] = {
    Channel.EMAIL: ("email",),
    Channel.SMS: ("mobile",),
    Channel.PHONE: ("phone", "mobile"),
    Channel.POST: ("address_line1", "address_line2", "postcode", "city", "country"),
}
CONTACT_NAME_FIELDS = ("civility", "first_name", "last_name")


def require_consent_reader(user: Any) -> None:
    if not user.has_perm("gdpr.view_consent"):
        raise PermissionDenied("Reading consents needs the steward, DPO, admin or auditor role.")


def require_consent_writer(user: Any) -> None:
    if not user.has_perm("gdpr.add_consentstatement"):
        raise PermissionDenied("Recording a consent needs the steward or DPO role.")


def require_objection_writer(user: Any) -> None:
    if not user_may_object(user):
        raise PermissionDenied("Objections are recorded and lifted by the DPO.")


def require_contactable_reader(user: Any) -> None:
    if not user.has_perm("gdpr.list_contactable"):
        raise PermissionDenied("The contactable list needs the DPO or admin role.")


@dataclass(frozen=True)
class CustomerConsents:
    customer: Customer
    in_force: list[Consent]  # purpose, channel, granted, the deciding statement
    statements: list[ConsentStatement]  # every statement the customer holds, newest first
    objections: list[Objection]  # in force first, then lifted ones

    @property
    def objecting(self) -> bool:
        return any(o.lifted_at is None for o in self.objections)


def customer_consents(*, customer: Customer) -> CustomerConsents:
    """The customer's consents in force, their proofs and its objections (four queries)."""
    in_force = list(
        Consent.objects.filter(customer=customer)
        .select_related("purpose", "statement", "statement__record__source")
        .order_by("purpose__position", "purpose__code", "channel")
    )
    # A copy of a "no" counts for the same customer as its original until an unmerge
    # parts them; parted, it is the proof of the "no" its customer keeps.
    statements = list(
        ConsentStatement.objects.filter(holder=customer).exclude(copy_of__holder=F("holder"))
        .select_related("purpose", "record__source", "recorded_by", "request", "stated_on")
        .order_by("-stated_at", "-pk")
    )
    objections = list(
        Objection.objects.filter(holder=customer).select_related("request", "recorded_by", "lifted_by")
        .order_by("lifted_at", "-recorded_at")
    )
    return CustomerConsents(customer=customer, in_force=in_force, statements=statements,
                            objections=objections)


def consent_purposes() -> QuerySet[ConsentPurpose]:
    return ConsentPurpose.objects.filter(active=True).order_by("position", "code")


@dataclass(frozen=True)
class ContactRow:
    customer_public_id: str
    granted_at: datetime
    values: dict[str, str]  # the name and the channel's contact fields

    def to_json(self) -> dict[str, Any]:
        return {"customer": self.customer_public_id, "granted_at": self.granted_at.isoformat(),
                **self.values}


def consent_columns() -> dict[str, list[tuple[str, ...]]]:
    """`rcu.hooks.projection_columns`: a CSV change file's consent columns, one per purpose
    (retired ones too: their consents may still be in force) and channel, in the order
    of the purposes, "consents.newsletter.email"."""
    codes = ConsentPurpose.objects.order_by("position", "code").values_list("code", flat=True)
    return {"consents": [(code, channel) for code in codes for channel in Channel.values]}


def request_objections(*, request: SubjectRequest) -> list[Objection]:
    """The objections an objection request recorded, oldest first (its page's panel)."""
    return list(Objection.objects.filter(request=request).select_related("holder", "recorded_by", "lifted_by")
                .order_by("recorded_at", "pk"))


def objection_get_for_user(*, pk: int, user: Any) -> Objection:
    """The objection `pk` for lifting: 403 for whoever may not lift objections, 404 when
    it does not exist or its customer is not one the user sees (`customers_visible_to`;
    a customer merged away counts when its survivor is seen: the lift then finds the move)."""
    require_objection_writer(user)
    visible = customers_visible_to(user, retired=True).filter(pk=OuterRef("holder_id"))
    objection = (Objection.objects.filter(pk=pk).filter(Exists(visible))
                 .select_related("holder", "request").first())
    if objection is None:
        raise Http404("No such objection")
    return objection


def user_may_object(user: Any) -> bool:
    return user.has_perm("gdpr.add_objection") and user.has_perm("gdpr.change_objection")


def contactable_fields(channel: str) -> tuple[str, ...]:
    return (*CONTACT_NAME_FIELDS, *CHANNEL_FIELDS[channel])


def consents_contactable(*, purpose: ConsentPurpose, channel: str, after: int = 0) -> QuerySet[Consent]:
    """Who may be contacted for this purpose on this channel, in customer id order: a
    consent in force granted, the customer not restricted (art. 18) and not objecting
    (art. 21). One query shape, read a page at a time (`after` a customer id): the partial
    index `gdpr_consent_granted_idx` (purpose, channel, customer) WHERE granted walks the
    rows in order; the customers (primary key) and the objections (their `holder` index)
    are read from the same id on, the cursor being repeated on each side so that the
    planner starts every index there rather than at the first customer (a page deep in
    the list cost 840 ms at 1M customers without it). No count, no offset: the cost of a
    page does not grow with the base nor with its depth."""
    objecting = Objection.objects.filter(holder_id=OuterRef("customer_id"), holder_id__gt=after,
                                         lifted_at__isnull=True)
    return (
        Consent.objects.filter(purpose=purpose, channel=channel, granted=True, customer_id__gt=after,
                               customer__restricted_at__isnull=True)
        .exclude(Exists(objecting))
        # The cursor on the customers' side too: the ORM would fold `customer__pk__gt` into
        # the consent's own column, and the customers' index would be read from the start.
        .extra(where=[f'"{Customer._meta.db_table}"."id" > %s'], params=[after])
        .order_by("customer_id")
    )


def contactable_page(
    *, purpose: ConsentPurpose, channel: str, after: int, limit: int
) -> tuple[list[ContactRow], int | None]:
    """One page of the contactable list after customer id `after`; the next cursor."""
    fields = contactable_fields(channel)
    rows = list(
        consents_contactable(purpose=purpose, channel=channel, after=after)
        .values_list("customer_id", "customer__public_id", "stated_at",
                     *[f"customer__{name}" for name in fields])[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    page = [
        ContactRow(customer_public_id=str(public_id), granted_at=stated_at,
                   values={name: value or "" for name, value in zip(fields, values, strict=True)})
        for _pk, public_id, stated_at, *values in rows
    ]
    return page, (rows[-1][0] if more and rows else None)


@dataclass(frozen=True)
class PackConsents:
    in_force: list[Consent]
    statements: list[ConsentStatement]
    objections: list[Objection]


def consents_for_pack(*, customer_ids: Iterable[int], record_ids: Iterable[int]) -> PackConsents:
    """What an access pack shows of the person's consents: those in force on their
    customers, every statement of their records or stated on or held by their customers
    (a copy of a "no" left out when its original is there too, kept when it is the only
    proof: an unmerge gave it to this person, the original staying with the other side),
    and their objections."""
    customer_ids, record_ids = sorted(set(customer_ids)), sorted(set(record_ids))
    statements = list(
        ConsentStatement.objects.filter(
            Q(record_id__in=record_ids) | Q(stated_on_id__in=customer_ids) | Q(holder_id__in=customer_ids),
        ).exclude(
            Q(copy_of__record_id__in=record_ids) | Q(copy_of__stated_on_id__in=customer_ids)
            | Q(copy_of__holder_id__in=customer_ids),
        ).select_related("purpose", "record__source", "request", "holder").order_by("stated_at", "pk")
    )
    return PackConsents(
        in_force=list(Consent.objects.filter(customer_id__in=customer_ids)
                      .select_related("purpose", "customer").order_by("customer_id", "purpose__position",
                                                                      "channel")),
        statements=statements,
        objections=list(Objection.objects.filter(Q(stated_on_id__in=customer_ids) | Q(holder_id__in=customer_ids))
                        .select_related("request", "holder").order_by("recorded_at")),
    )
