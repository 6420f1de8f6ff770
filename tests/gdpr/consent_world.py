"""Sources with consent columns, and helpers to read consents, for the consent tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from gdpr.models import Channel, Consent, ConsentPurpose
from rcu.models import Customer, SourceSystem
from tests.factories import PLAIN_FIELDS, make_source

NEWSLETTER_EMAIL = "consent:newsletter:email"
OFFERS_SMS = "consent:offers:sms"


def consent_source(code: str, *, department: str, trust_rank: int = 5) -> SourceSystem:
    """A source with the plain columns, plus `optin_email` (newsletter by e-mail, dated by
    `optin_date` in dd/mm/yyyy) and `optin_sms` (offers by SMS, undated)."""
    fields: list[dict[str, Any]] = [
        {"source": f, "attribute": f, **({"format": "%Y-%m-%d"} if f == "birth_date" else {})}
        for f in PLAIN_FIELDS
    ]
    fields += [
        {"source": "optin_email", "attribute": NEWSLETTER_EMAIL, "date": "optin_date", "format": "%d/%m/%Y"},
        {"source": "optin_sms", "attribute": OFFERS_SMS},
    ]
    return make_source(code, department=department, trust_rank=trust_rank, extra={"fields": fields})


def helene_with_an_email_optin() -> Customer:
    """One CRM customer who opted in to e-mail (the consent pages' and objection's person)."""
    from tests.factories import ingest

    crm = consent_source("crm", department="marketing", trust_rank=1)
    (record,) = ingest(crm, [{"id": "C1", "first_name": "Hélène", "last_name": "Lefèvre",
                              "updated": "2024-05-03 10:00", "optin_email": "oui", "optin_date": "01/02/2024"}])
    return record.customer


def in_force(customer: Customer | int) -> dict[tuple[str, str], bool]:
    """(purpose code, channel) → granted, for the consents in force of this customer."""
    pk = customer if isinstance(customer, int) else customer.pk
    return {
        (code, channel): granted
        for code, channel, granted in Consent.objects.filter(customer_id=pk)
        .values_list("purpose__code", "channel", "granted")
    }


def purpose(code: str = "newsletter") -> ConsentPurpose:
    return ConsentPurpose.objects.get(code=code)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


EMAIL = Channel.EMAIL


def tomorrow() -> str:
    """Tomorrow here, as a source writes a consent date: later than anything stated now,
    and not yet a date in the future an import refuses."""
    return (timezone.localdate() + timedelta(days=1)).strftime("%d/%m/%Y")


def a_no_copied_then_unmerged(crm: SourceSystem, shop: SourceSystem, *, undone_by: Any) -> tuple[Customer, Customer]:
    """A CRM and a shop customer merged (the CRM one surviving), a "no" to the newsletter
    by e-mail stated on the survivor (copied onto the shop customer), then the merge
    undone: the survivor, and the restored shop customer whose "no" in force is the copy
    ("Désabonnement, formulaire v3")."""
    from gdpr.services.consents import consent_record
    from stewardship.services.merge import customers_merge
    from stewardship.services.unmerge import decision_undo
    from tests.factories import TEST_ACTOR, ingest

    (a,) = ingest(crm, [{"id": "C1", "first_name": "Hélène", "last_name": "Lefèvre", "updated": "2024-05-03 10:00",
                         "optin_email": "oui", "optin_date": "01/01/2024"}])
    (b,) = ingest(shop, [{"id": "S1", "first_name": "Hélène", "last_name": "Lefèvre", "updated": "2024-05-03 10:00",
                          "optin_email": "oui", "optin_date": "01/01/2024"}])
    decision = customers_merge(customer_ids=[a.customer_id, b.customer_id], survivor_id=a.customer_id,
                               acting_user=TEST_ACTOR)
    consent_record(customer=Customer.objects.get(pk=a.customer_id), purpose=purpose(), channel=EMAIL,
                   granted=False, wording="Désabonnement, formulaire v3", acting_user=TEST_ACTOR)
    decision_undo(decision_id=decision.pk, acting_user=undone_by)
    return Customer.objects.get(pk=a.customer_id), Customer.objects.get(pk=b.customer_id)


def objection_lifter_of(department: str) -> Any:
    """An account of one department holding the DPO's right to record and lift objections,
    and nothing that lets it see every customer."""
    from django.contrib.auth.models import Permission

    from tests.factories import make_user

    user = make_user(f"lifter_{department}", departments=[department])
    user.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="gdpr", codename__in=["add_objection", "change_objection"]))
    return user
