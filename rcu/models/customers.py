from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from rcu.attributes import ATTRIBUTES_BY_NAME


def _max(attribute: str) -> int:
    # The width of each column is the attribute's documented limit (docs/limits.md).
    return ATTRIBUTES_BY_NAME[attribute].max_length


# A customer not merged into another: the only ones search and lists show.
ACTIVE = models.Q(merged_into__isnull=True)


class CustomerQuerySet(models.QuerySet["Customer"]):
    def active(self) -> CustomerQuerySet:
        return self.filter(ACTIVE)


class Customer(models.Model):
    """The golden record: the surviving value of each attribute, with its provenance.

    `provenance` maps each attribute to where its value came from:
    ``{"email": {"source": "crm", "external_id": "C12", "rule": "trust_rank",
    "business_ts": "2024-05-01T10:00:00+00:00"}}``. The `*_key` columns are
    comparison forms used by search. `public_id` is never reused; a customer merged
    away keeps it and points to its survivor through `merged_into`.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="absorbed",
        verbose_name=_("merged into"), db_index=False,  # indexed for retired customers only
    )

    civility = models.CharField(_("civility"), max_length=_max("civility"), blank=True)
    first_name = models.CharField(_("first name"), max_length=_max("first_name"), blank=True)
    last_name = models.CharField(_("last name"), max_length=_max("last_name"), blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    email = models.CharField(_("e-mail"), max_length=_max("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=_max("phone"), blank=True)
    mobile = models.CharField(_("mobile"), max_length=_max("mobile"), blank=True)
    address_line1 = models.CharField(_("address line 1"), max_length=_max("address_line1"), blank=True)
    address_line2 = models.CharField(_("address line 2"), max_length=_max("address_line2"), blank=True)
    postcode = models.CharField(_("postcode"), max_length=_max("postcode"), blank=True)
    city = models.CharField(_("city"), max_length=_max("city"), blank=True)
    country = models.CharField(_("country"), max_length=_max("country"), blank=True)
    extra_identifiers = models.JSONField(_("extra identifiers"), default=dict, blank=True)
    # The golden values of the administrators' custom attributes (`AttributeDefinition`),
    # by name: one column for all of them, no migration per attribute.
    custom_attributes = models.JSONField(_("custom attributes"), default=dict, blank=True)
    provenance = models.JSONField(_("provenance"), default=dict, blank=True)
    pinned = models.JSONField(
        _("pinned choices"), default=dict, blank=True,
        help_text=_("Attribute → source record chosen by a steward; survivorship honours it."),
    )

    # Art. 18 GDPR: a restricted customer's data is kept but leaves no channel (exports,
    # marketing subscribers) and takes part in no merge until the restriction is lifted.
    restricted_at = models.DateTimeField(_("restricted since"), null=True, blank=True, editable=False)
    restriction_reason = models.TextField(_("why restricted"), blank=True, editable=False)

    first_name_key = models.CharField(max_length=_max("first_name"), blank=True, editable=False)
    last_name_key = models.CharField(max_length=_max("last_name"), blank=True, editable=False)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # History is read by customer id; indexes on its other keys would only slow imports.
    history = HistoricalRecords(no_db_index=["public_id", "merged_into"])

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["last_name_key", "first_name_key", "id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("restrict_customer", _("Can restrict processing of a customer (GDPR art. 18)"))]
        # Search only ever looks at active customers (`customers_visible_to`): the search
        # indexes hold only them. A merge that retires customers then touches three
        # indexes per retired row instead of eight (measured at 100k on PostgreSQL,
        # retiring 50,000 customers: 3.1 s with all eight, 1.1 s with three).
        indexes = [
            # Customer search: name prefix (pattern ops so LIKE 'x%' uses it on PostgreSQL).
            models.Index(
                fields=["last_name_key", "first_name_key"],
                name="customer_name_key_idx",
                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"],
                condition=ACTIVE,
            ),
            # Customer search by e-mail, phone, mobile and postcode (exact match on normalised forms).
            models.Index(fields=["email"], name="customer_email_idx", condition=ACTIVE),
            models.Index(fields=["phone"], name="customer_phone_idx", condition=ACTIVE),
            models.Index(fields=["mobile"], name="customer_mobile_idx", condition=ACTIVE),
            models.Index(
                fields=["postcode", "last_name_key"], name="customer_postcode_idx", condition=ACTIVE
            ),
            # Who was merged into a customer: only retired customers have an entry, so
            # recomputing an active customer's golden values leaves this index alone.
            models.Index(
                fields=["merged_into"], name="customer_merged_into_idx",
                condition=models.Q(merged_into__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or str(self.public_id)

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None

    @property
    def is_retired(self) -> bool:
        return self.merged_into_id is not None
