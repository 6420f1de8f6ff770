"""A person known to three sources, edited and merged, and a look-alike: the access
pack's specification scenario."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gdpr.models import SubjectRequest
from gdpr.services.requests import subject_request_create
from rcu.models import Customer, SourceRecord, Subscription
from rcu.services.deliveries import deliveries_fan_out
from rcu.services.subscriptions import subscription_create
from stewardship.models import Decision
from stewardship.services.merge import customers_merge
from tests.factories import TEST_ACTOR, ingest

STEWARD_REASON = "Mme Durand at the Lyon desk says she is the same person"

# Each row as first received, then as re-sent with changes (the edits).
HELENE_CRM = {
    "id": "CRM-1001", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
    "birth_date": "1984-03-12", "email": "helene.lefevre@orange.fr", "phone": "01 42 11 22 33",
    "mobile": "", "address_line1": "12 bis avenue Victor Hugo", "address_line2": "",
    "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2024-05-03 10:00",
}
HELENE_CRM_EDITED = {**HELENE_CRM, "address_line1": "4 rue de Passy", "updated": "2024-09-01 08:00"}
HELENE_SC = {
    "id": "SC-2002", "civility": "Madame", "first_name": "Helene", "last_name": "LEFEVRE",
    "birth_date": "1984-03-12", "email": "", "phone": "", "mobile": "06 12 34 56 78",
    "address_line1": "12 bis av. Victor Hugo", "address_line2": "Bâtiment B",
    "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2023-11-20 14:30",
}
HELENE_SC_EDITED = {**HELENE_SC, "mobile": "06 98 76 54 32", "updated": "2024-02-02 09:15"}
HELENE_ESHOP = {
    "id": "ES-3003", "civility": "", "first_name": "Hélène", "last_name": "Lefèvre",
    "birth_date": "", "email": "h.lefevre84@gmail.com", "phone": "", "mobile": "0612345678",
    "address_line1": "12 bis avenue Victor-Hugo", "address_line2": "",
    "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2024-06-15 18:45",
}
# Same surname and town, another person: another first name, another birth date.
LOOKALIKE = {
    "id": "CRM-4004", "civility": "Mme", "first_name": "Sophie", "last_name": "Lefèvre",
    "birth_date": "1991-07-23", "email": "sophie.lefevre91@laposte.net", "phone": "01 45 67 89 10",
    "mobile": "07 11 22 33 44", "address_line1": "88 rue de la Pompe", "address_line2": "",
    "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2024-04-04 12:00",
}
LOOKALIKE_VALUES = (
    "Sophie", "1991-07-23", "sophie.lefevre91@laposte.net", "01 45 67 89 10", "07 11 22 33 44",
    "88 rue de la Pompe", "CRM-4004", "+33145678910", "+33711223344",
)


@dataclass
class Scenario:
    person: Customer
    lookalike: Customer
    records: list[SourceRecord]
    decision: Decision
    subscription: Subscription


def seeded_rows() -> list[dict]:
    return [HELENE_CRM, HELENE_CRM_EDITED, HELENE_SC, HELENE_SC_EDITED, HELENE_ESHOP]


def person_with_history(*, crm, service_client_source, eshop, steward, settings) -> Scenario:
    """Three records in three sources, two of them re-sent with changes, merged by a
    steward (a value chosen, a free-text reason), sent to a subscriber; a look-alike."""
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    subscription = subscription_create(
        name="loyalty", target_url="http://127.0.0.1:9/hooks", purpose="marketing",
        attributes=["first_name", "last_name", "email", "city"], acting_user=TEST_ACTOR,
    ).subscription
    (crm_record,) = ingest(crm, [HELENE_CRM])
    (sc_record,) = ingest(service_client_source, [HELENE_SC])
    (eshop_record,) = ingest(eshop, [HELENE_ESHOP])
    ingest(crm, [HELENE_CRM_EDITED])
    ingest(service_client_source, [HELENE_SC_EDITED])
    (lookalike_record,) = ingest(crm, [LOOKALIKE])
    records = [crm_record, sc_record, eshop_record]
    decision = customers_merge(
        customer_ids=[r.customer_id for r in records], acting_user=steward,
        choices={"email": crm_record.pk}, reason=STEWARD_REASON,
    )
    deliveries_fan_out(subscription_id=subscription.pk)
    person = Customer.objects.get(pk=decision.survivor_id)
    for record in records:
        record.refresh_from_db()
    return Scenario(
        person=person, lookalike=lookalike_record.customer, records=records,
        decision=decision, subscription=subscription,
    )


def access_request(*, dpo, kind: str = "access", **subject) -> SubjectRequest:
    subject = subject or {
        "first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
        "email": "helene.lefevre@orange.fr", "city": "Paris", "postcode": "75016",
    }
    return subject_request_create(
        kind=kind, received_on=date(2026, 11, 20), subject=subject, acting_user=dpo,
    )
