"""Change files carry the consents as webhooks do: in JSON Lines as the webhook body, in
CSV one column per purpose and channel (yes / no / none), for a flat-file marketing tool."""

from __future__ import annotations

import csv
import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gdpr.services.consents import consent_record
from rcu.models import Customer
from rcu.services.restriction import customer_restrict
from rcu.services.subscriptions import subscription_create
from tests.factories import TEST_ACTOR, ingest
from tests.gdpr.consent_world import EMAIL, consent_source, purpose

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(db):
    return consent_source("crm", department="marketing", trust_rank=1)


@pytest.fixture
def mkt(settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    return subscription_create(name="mkt", target_url="http://127.0.0.1:9/hooks", purpose="marketing",
                               attributes=["email", "consents"], acting_user=TEST_ACTOR, from_now=False).subscription


def person(external_id: str, **values) -> dict:
    return {"id": external_id, "first_name": "Hélène", "last_name": f"Lefèvre{external_id}",
            "email": f"{external_id.lower()}@orange.fr", "updated": "2024-05-03 10:00", **values}


def export(tmp_path, *args) -> str:
    call_command("export_changes", str(tmp_path / "changes.out"), *args, stdout=StringIO())
    return (tmp_path / "changes.out").read_text(encoding="utf-8")


def csv_rows(tmp_path, *args) -> list[dict[str, str]]:
    return list(csv.DictReader(StringIO(export(tmp_path, "--format", "csv", *args))))


def withdraw(customer: Customer) -> None:
    consent_record(customer=customer, purpose=purpose(), channel=EMAIL, granted=False,
                   wording="désinscription v2", acting_user=TEST_ACTOR)


def test_a_consent_granted_then_withdrawn_shows_in_a_subscribers_csv_one_column_per_purpose_and_channel(
    tmp_path, crm, mkt
):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/02/2024")])
    withdraw(record.customer)
    rows = csv_rows(tmp_path, "--subscriber", "mkt")
    assert {"consents.newsletter.email", "consents.offers.sms", "consents.surveys.post"} <= set(rows[0])
    assert "consents" not in rows[0]  # spread, not one JSON cell
    created, granted, withdrawn = rows
    assert created["type"] == "customer.created" and created["consents.newsletter.email"] == ""
    assert granted["consents.newsletter.email"] == "yes"
    assert granted["consents.newsletter.sms"] == "none"  # nothing stated: neither yes nor no
    assert granted["email"] == ""  # the event changed consents only
    assert withdrawn["consents.newsletter.email"] == "no"
    assert int(withdrawn["cursor"]) > int(granted["cursor"])


def test_the_jsonl_file_and_the_admins_own_file_carry_the_consents_as_the_webhook_does(tmp_path, crm, mkt):
    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/02/2024")])
    withdraw(record.customer)
    for args in (("--subscriber", "mkt"), ()):  # the subscriber's file, and everything
        lines = [json.loads(line) for line in export(tmp_path, "--format", "jsonl", *args).splitlines()]
        carried = [line["data"]["attributes"]["consents"] for line in lines
                   if "consents" in line["data"]["attributes"]]
        assert carried == [{"newsletter": {"email": True}}, {"newsletter": {"email": False}}]
    everything = csv_rows(tmp_path)
    assert [r["consents.newsletter.email"] for r in everything] == ["", "yes", "no"]


def test_a_subscriber_without_consents_gets_no_consent_column(tmp_path, crm, settings):
    settings.RCU_WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    subscription_create(name="crm-sync", target_url="http://127.0.0.1:9/hooks", purpose="marketing",
                        attributes=["email"], acting_user=TEST_ACTOR, from_now=False)
    ingest(crm, [person("C1", optin_email="oui", optin_date="01/02/2024")])
    rows = csv_rows(tmp_path, "--subscriber", "crm-sync")
    assert not [c for c in rows[0] if c.startswith("consents")]


def test_a_restricted_customers_consents_stay_out_of_a_marketing_file(tmp_path, crm, mkt):
    kept, restricted = ingest(crm, [person("C1", optin_email="oui", optin_date="01/02/2024"),
                                    person("C2", optin_email="oui", optin_date="01/02/2024")])
    customer_restrict(customer=restricted.customer, reason="exactitude contestée", acting_user=TEST_ACTOR)
    withdraw(restricted.customer)
    rows = csv_rows(tmp_path, "--subscriber", "mkt")
    public = str(restricted.customer.public_id)
    assert [r["type"] for r in rows if r["customer_id"] == public] == ["customer.restricted"]
    assert [r["consents.newsletter.email"] for r in rows if r["customer_id"] == str(kept.customer.public_id)
            ] == ["", "yes"]


def test_writing_the_csv_costs_the_same_queries_for_two_or_ten_customers(tmp_path, crm, mkt):
    def queries(first: int, count: int) -> int:
        ingest(crm, [person(f"C{i}", optin_email="oui", optin_date="01/02/2024") for i in range(first, count)])
        with CaptureQueriesContext(connection) as captured:
            rows = csv_rows(tmp_path, "--subscriber", "mkt")
        assert sum(r["consents.newsletter.email"] == "yes" for r in rows) == count
        return len(captured)

    assert queries(0, 2) == queries(2, 10)


def test_a_consent_withdrawn_while_restricted_reaches_marketing_when_the_restriction_is_lifted(tmp_path, crm, mkt):
    from rcu.models import ChangeEvent, Delivery
    from rcu.services.deliveries import deliveries_fan_out
    from rcu.services.restriction import customer_restriction_lift

    (record,) = ingest(crm, [person("C1", optin_email="oui", optin_date="01/02/2024")])
    customer_restrict(customer=record.customer, reason="exactitude contestée", acting_user=TEST_ACTOR)
    withdraw(record.customer)
    deliveries_fan_out(subscription_id=mkt.pk)
    customer_restriction_lift(customer=Customer.objects.get(pk=record.customer_id), reason="vérifiée",
                              acting_user=TEST_ACTOR)
    deliveries_fan_out(subscription_id=mkt.pk)
    given = list(Delivery.objects.filter(subscription=mkt).order_by("event_id")
                 .values_list("event__type", "status", "event__changes__consents"))
    assert given[-2:] == [  # the withdrawal was kept from marketing while restricted…
        ("customer.updated", "skipped", {"newsletter": {"email": False}}),
        ("customer.restriction_lifted", "pending", {"newsletter": {"email": False}}),  # …and told once lifted
    ]
    lifted = ChangeEvent.objects.get(type="customer.restriction_lifted")
    assert lifted.changes["email"] == "c1@orange.fr"
    assert csv_rows(tmp_path, "--subscriber", "mkt")[-1]["consents.newsletter.email"] == "no"
