"""Rectification (art. 16): the DPO's corrected values reach every golden customer in
the request's scope as rectified values, survive the sources sending the old value
again, leave as `customer.rectified` events, and the request shows who acknowledged."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from gdpr.selectors.rectification import rectification_acknowledgements
from gdpr.services.rectification import RectificationRefused, request_rectify
from gdpr.services.scope import request_scope_set
from rcu.models import ChangeEvent, Customer
from rcu.services.deliveries import deliveries_fan_out
from stewardship.services.corrections import customer_values_correct
from stewardship.services.errors import DecisionForbidden
from tests.factories import ingest
from tests.gdpr.builders import HELENE_CRM_EDITED, access_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def rectification(dpo, scenario):
    request = access_request(dpo=dpo, kind="rectification")
    request_scope_set(request=request, customer_public_ids=[scenario.person.public_id],
                      record_ids=[], acting_user=dpo)
    return request


def test_a_rectified_value_is_kept_whatever_the_sources_send_again(
    dpo, scenario, rectification, crm
):
    outcome = request_rectify(request=rectification, corrections={"email": "helene.l@exemple.fr"},
                              acting_user=dpo)
    assert outcome.customer_public_ids == [str(scenario.person.public_id)]
    person = Customer.objects.get(pk=scenario.person.pk)
    assert person.email == "helene.l@exemple.fr"
    assert person.provenance["email"]["origin"] == "rectification"
    assert person.provenance["email"]["request"] == rectification.pk
    ingest(crm, [{**HELENE_CRM_EDITED, "updated": "2025-01-01 08:00"}])  # the old e-mail again
    assert Customer.objects.get(pk=scenario.person.pk).email == "helene.l@exemple.fr"
    rectification.refresh_from_db()
    assert rectification.executed_at is not None
    assert rectification.steps.filter(action="rectified", detail="email on 1 customer(s)").exists()
    assert scenario.lookalike.email == Customer.objects.get(pk=scenario.lookalike.pk).email


def test_a_rectification_leaves_as_rectified_events_and_shows_who_acknowledged(
    dpo, scenario, rectification
):
    request_rectify(request=rectification, corrections={"city": "Lyon", "postcode": "69003"},
                    acting_user=dpo)
    event = ChangeEvent.objects.filter(customer_id=scenario.person.pk).latest("pk")
    assert event.type == ChangeEvent.Type.RECTIFIED
    assert event.changes["city"] == "Lyon"
    rectification.refresh_from_db()
    (before,) = rectification_acknowledgements(rectification)
    assert (before.subscription, before.delivered, before.acknowledged) == ("loyalty", 0, False)
    deliveries_fan_out(subscription_id=scenario.subscription.pk)
    scenario.subscription.deliveries.filter(event=event).update(status="delivered")
    (after,) = rectification_acknowledgements(rectification)
    assert after.acknowledged and after.delivered == after.events == 1


def test_only_the_dpo_changes_a_rectified_value(dpo, scenario, rectification, steward_everywhere):
    request_rectify(request=rectification, corrections={"email": "helene.l@exemple.fr"},
                    acting_user=dpo)
    with pytest.raises(DecisionForbidden):
        customer_values_correct(customer_id=scenario.person.pk, values={"email": "x@exemple.fr"},
                                reason="typo", acting_user=steward_everywhere)


def test_a_bad_value_or_an_empty_scope_is_refused_and_nothing_is_written(dpo, scenario):
    request = access_request(dpo=dpo, kind="rectification")
    with pytest.raises(RectificationRefused, match="scope"):
        request_rectify(request=request, corrections={"email": "a@exemple.fr"}, acting_user=dpo)
    request_scope_set(request=request, customer_public_ids=[scenario.person.public_id],
                      record_ids=[], acting_user=dpo)
    before = Customer.objects.get(pk=scenario.person.pk).email
    with pytest.raises(RectificationRefused) as refused:
        request_rectify(request=request, corrections={"email": "not-an-address"}, acting_user=dpo)
    assert refused.value.field == "corrections.email"
    assert Customer.objects.get(pk=scenario.person.pk).email == before
    request.refresh_from_db()
    assert request.executed_at is None


def test_the_api_executes_a_rectification_for_the_dpo_only(
    dpo_api, scenario, rectification, steward_everywhere
):
    url = f"/api/v1/gdpr/requests/{rectification.pk}/execute/"
    refused = dpo_api.post(url, {"corrections": {"email": "nope"}}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "corrections.email"
    done = dpo_api.post(url, {"corrections": {"email": "helene.l@exemple.fr"}}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "rectified"
    assert done.json()["customers"] == [str(scenario.person.public_id)]
    steward = APIClient()
    steward.force_authenticate(steward_everywhere)
    assert steward.post(url, {"corrections": {"email": "a@exemple.fr"}},
                        format="json").status_code == 403


def test_the_dpo_rectifies_from_the_request_page_and_sees_the_systems_told(
    client, dpo, scenario, rectification
):
    client.force_login(dpo)
    page = client.get(f"/gdpr/requests/{rectification.pk}/")
    assert b"data-rectify" in page.content
    answer = client.post(f"/gdpr/requests/{rectification.pk}/rectify/", {"city": "Lyon",
                                                                       "postcode": "69003"})
    assert answer.status_code == 302
    assert Customer.objects.get(pk=scenario.person.pk).city == "Lyon"
    page = client.get(f"/gdpr/requests/{rectification.pk}/")
    assert b'data-subscriber="loyalty"' in page.content
    assert b"0 / 1" in page.content


def test_a_steward_cannot_rectify_from_the_page(client, steward_everywhere, scenario, rectification):
    client.force_login(steward_everywhere)
    answer = client.post(f"/gdpr/requests/{rectification.pk}/rectify/", {"city": "Lyon"})
    assert answer.status_code == 403
    assert Customer.objects.get(pk=scenario.person.pk).city != "Lyon"


def test_a_second_rectification_is_acknowledged_by_its_own_events_only(dpo, scenario, rectification):
    request_rectify(request=rectification, corrections={"city": "Lyon", "postcode": "69003"},
                    acting_user=dpo)
    request_rectify(request=rectification, corrections={"email": "helene.l@exemple.fr"},
                    acting_user=dpo)
    rectification.refresh_from_db()
    (ack,) = rectification_acknowledgements(rectification)
    latest = ChangeEvent.objects.filter(customer_id=scenario.person.pk).latest("pk")
    assert ack.events == 1 and latest.changes == {"email": "helene.l@exemple.fr"}
