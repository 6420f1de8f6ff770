from __future__ import annotations

import re
import uuid

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from rcu.models import Customer, ErasedCustomer, SourceRecord
from rcu.normalisation.custom import normalise_custom
from rcu.normalisation.emails import normalise_email
from rcu.normalisation.phones import normalise_phone
from rcu.normalisation.text import word_key
from rcu.selectors.attributes import custom_attributes_current, custom_key_name
from rcu.selectors.sources import sources_for_user

VIEW_ALL = "rcu.view_customer"
_POSTCODE = re.compile(r"^\d{5}$")
_PHONEISH = re.compile(r"^[\d\s.+()\-/]{6,}$")
_MAX_CHAIN = 50


def customers_visible_to(user, *, retired: bool = False) -> QuerySet[Customer]:
    """Golden customers the person may see: all (a role), or those with a record
    in one of their departments' sources. With `retired`, also the customers merged
    away, visible when their survivor is (their records moved to it)."""
    if not user.is_authenticated:
        return Customer.objects.none()
    customers = Customer.objects.all() if retired else Customer.objects.active()
    if user.has_perm(VIEW_ALL):
        return customers
    visible = sources_for_user(user)
    own = Exists(SourceRecord.objects.filter(customer_id=OuterRef("pk"), source__in=visible))
    if not retired:
        return customers.filter(own)
    survivors = Exists(SourceRecord.objects.filter(customer_id=OuterRef("merged_into_id"),
                                                   source__in=visible))
    return customers.filter(own | survivors)


def customer_resolve(public_id: uuid.UUID | str) -> Customer | None:
    """The customer with this id, or the survivor it was merged into, however long the
    chain of merges: one recursive query, then the customer."""
    try:
        value = Customer._meta.get_field("public_id").get_db_prep_value(
            uuid.UUID(str(public_id)), connection
        )
    except ValueError:
        return None
    table = connection.ops.quote_name(Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE chain(id, merged_into_id, depth) AS (
                SELECT id, merged_into_id, 0 FROM {table} WHERE public_id = %s
                UNION ALL
                SELECT c.id, c.merged_into_id, chain.depth + 1
                FROM {table} AS c JOIN chain ON c.id = chain.merged_into_id
                WHERE chain.depth < %s
            )
            SELECT id FROM chain ORDER BY depth DESC LIMIT 1
            """,
            [value, _MAX_CHAIN],
        )
        row = cursor.fetchone()
    return Customer.objects.filter(pk=row[0]).first() if row else None


class CustomerErased(Http404):
    """The public id belonged to a customer who was erased (GDPR art. 17): the detail
    pages answer 410 Gone; any other caller sees a plain 404."""


def customer_get_for_user(*, user, public_id: uuid.UUID | str) -> Customer:
    try:
        uuid.UUID(str(public_id))
    except ValueError as exc:
        raise Http404("No such customer") from exc
    customer = customer_resolve(public_id)
    if customer is None and ErasedCustomer.holds(public_id):
        raise CustomerErased("This customer was erased")
    if customer is None or not customers_visible_to(user).filter(pk=customer.pk).exists():
        raise Http404("No such customer")
    return customer


def _name_clause(text: str) -> Q:
    tokens = word_key(text).split()  # the same comparison form as the stored name keys
    if not tokens:
        return Q(pk__in=[])
    clause = Q(last_name_key__startswith=" ".join(tokens))
    for i in range(1, len(tokens)):
        first, last = " ".join(tokens[:i]), " ".join(tokens[i:])
        clause |= Q(first_name_key__startswith=first, last_name_key__startswith=last)
        clause |= Q(last_name_key__startswith=first, first_name_key__startswith=last)
    return clause


def _phone_clause(text: str) -> Q | None:
    number = normalise_phone(text, region="FR").value
    return Q(phone=number) | Q(mobile=number) if number else None


def _email_clause(text: str) -> Q | None:
    email = normalise_email(text).key
    return Q(email=email) if email else None


def _custom_clause(attribute: str, text: str) -> Q:
    """Customers holding this value of a custom attribute: as their golden value (case
    aside), or in one of their records (compared on the attribute's comparison form,
    "12345 67890" finding "1234567890"). Not indexed: a scan of the JSON columns."""
    definition = next((a for a in custom_attributes_current() if a.name == attribute), None)
    if definition is None:
        return Q(pk__in=[])
    normalised = normalise_custom(text, definition.type)
    if normalised.value is None:
        return Q(pk__in=[])
    clause = Q(**{f"custom_attributes__{attribute}__iexact": normalised.value})
    if normalised.key:
        holders = SourceRecord.objects.filter(
            **{f"keys__{custom_key_name(definition)}": normalised.key}
        ).values("customer_id")
        clause |= Q(pk__in=holders)
    return clause


def customer_search(
    *, user, q: str = "", name: str = "", email: str = "", phone: str = "", postcode: str = "",
    attribute: str = "", attribute_value: str = "",
) -> QuerySet[Customer]:
    """Search by name, e-mail, phone, postcode or a custom attribute's value; `q`
    guesses which of the first four it is.

    Every criterion but the custom attribute compares normalised forms through an
    index, so the search stays fast on a large base. A criterion that cannot be read
    matches nothing.
    """
    clauses: list[Q] = []
    q = q.strip()
    if q:
        if "@" in q:
            clauses.append(_email_clause(q) or Q(pk__in=[]))
        elif _POSTCODE.match(q):
            clauses.append(Q(postcode=q))
        elif _PHONEISH.match(q):
            clauses.append(_phone_clause(q) or Q(pk__in=[]))
        else:
            clauses.append(_name_clause(q))
    if name.strip():
        clauses.append(_name_clause(name))
    if email.strip():
        clauses.append(_email_clause(email) or Q(pk__in=[]))
    if phone.strip():
        clauses.append(_phone_clause(phone) or Q(pk__in=[]))
    if postcode.strip():
        clauses.append(Q(postcode=postcode.strip().replace(" ", "")))
    if attribute.strip() and attribute_value.strip():
        clauses.append(_custom_clause(attribute.strip(), attribute_value))
    customers = customers_visible_to(user)
    for clause in clauses:
        customers = customers.filter(clause)
    return customers.order_by("last_name_key", "first_name_key", "pk")
