"""Survivorship rules per attribute: the pure rules, saving (versioned, recomputed in
the background, the version in provenance), the API and the editor."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from rcu.models import AdminEvent, Customer, SourceRecord
from rcu.survivorship import RecordView, RuleSpec, RulesRefused, SurvivorshipRules, golden_values


def _view(source, rank, ts, flags=(), **attributes):
    return RecordView(source, f"{source}-1", rank, datetime(2024, 1, ts, tzinfo=UTC),
                      attributes, {}, frozenset(flags))


CRM = _view("crm", 1, 1, email="old@crm.fr", city="Paris", address_line1="1 rue A", postcode="75001")
ESHOP = _view("eshop", 3, 20, email="new@shop.fr", city="Lyon", address_line1="2 rue B", postcode="69003")


def test_each_attribute_follows_its_own_source_order():
    rules = SurvivorshipRules(version=4, attributes={
        "email": (RuleSpec("source_priority", ("eshop", "crm")),),
    })
    golden = golden_values([CRM, ESHOP], rules=rules)
    assert golden.values["email"] == "new@shop.fr"
    assert golden.provenance["email"]["rule"] == "source_priority"
    assert golden.provenance["email"]["rules_version"] == 4
    # The address keeps the default (CRM most trusted) and carries no version.
    assert golden.values["city"] == "Paris" and "rules_version" not in golden.provenance["city"]


def test_validated_frequent_and_longest():
    flagged = _view("crm", 1, 5, flags=("email.invalid",), email="bad@crm")
    rules = SurvivorshipRules(version=1, attributes={"email": (RuleSpec("validated_first"),)})
    assert golden_values([flagged, ESHOP], rules=rules).values["email"] == "new@shop.fr"
    third = _view("caisse", 4, 2, email="NEW@shop.fr")
    frequent = SurvivorshipRules(version=1, attributes={"email": (RuleSpec("most_frequent"),)})
    assert golden_values([CRM, ESHOP, third], rules=frequent).values["email"].lower() == "new@shop.fr"
    longest = SurvivorshipRules(version=1, attributes={"address": (RuleSpec("longest"),)})
    long_address = _view("caisse", 4, 2, address_line1="Résidence Les Pins, 2 rue B", postcode="69003")
    assert golden_values([CRM, long_address], rules=longest).values["address_line1"].startswith("Résidence")


def test_rules_are_checked_naming_every_problem():
    with pytest.raises(RulesRefused) as refused:
        SurvivorshipRules.from_json(
            {"attributes": {"city": [{"rule": "most_recent"}], "nope": [{"rule": "longest"}],
                            "email": [{"rule": "coin_toss"}]}},
            known_sources=frozenset({"crm"}),
        )
    assert len(refused.value.errors) == 3
    assert any("address" in e for e in refused.value.errors)


@pytest.mark.django_db
def test_saving_rules_recomputes_customers_and_records_the_version(
    client, crm, eshop, admin_user, steward_marketing, django_capture_on_commit_callbacks
):
    from tests.factories import TEST_ACTOR, ingest
    from tests.stewardship.builders import person

    (a,) = ingest(crm, [person("C-1", email="crm@exemple.fr")])
    (b,) = ingest(eshop, [person("E-1", email="shop@exemple.fr")])
    SourceRecord.objects.filter(pk=b.pk).update(customer_id=a.customer_id)
    from rcu.services.customers import customers_recompute

    customers_recompute(customer_ids=[a.customer_id], acting_user=TEST_ACTOR)
    assert Customer.objects.get(pk=a.customer_id).email == "crm@exemple.fr"  # CRM ranks first

    # Readers may read the rules; only admins change them.
    client.force_login(steward_marketing)
    assert client.get("/api/v1/survivorship/").status_code == 403
    client.force_login(admin_user)
    assert client.get("/api/v1/survivorship/").json()["version"] == 0
    body = {"version": 0, "attributes": {"email": [
        {"rule": "source_priority", "sources": ["eshop", "crm"]}, {"rule": "most_recent"}]}}
    preview = client.post(reverse("admin_survivorship"), {
        "action": "preview", "email-rule-0": "source_priority", "email-sources": "eshop, crm",
        "email-rule-1": "most_recent"})
    assert "shop@exemple.fr" in preview.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.put("/api/v1/survivorship/", body, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["version"] == 1
    customer = Customer.objects.get(pk=a.customer_id)
    assert customer.email == "shop@exemple.fr"
    assert customer.provenance["email"]["rules_version"] == 1
    stale = client.put("/api/v1/survivorship/", body, content_type="application/json")
    assert stale.status_code == 400  # version 0 was read; it is 1 now
    refused = client.put("/api/v1/survivorship/", {"attributes": {"email": [{"rule": "x"}]}},
                         content_type="application/json")
    assert refused.status_code == 400
    assert AdminEvent.objects.filter(action="survivorship_changed").count() == 1
