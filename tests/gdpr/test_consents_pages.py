"""The consent panel of the customer page: who sees it, who records a statement, who
records and lifts an objection; and the mapping editor offers consent columns."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gdpr.models import ConsentStatement, Objection, StatementOrigin
from gdpr.services.consents import objection_record
from tests.factories import TEST_ACTOR
from tests.gdpr.consent_world import (
    a_no_copied_then_unmerged,
    consent_source,
    helene_with_an_email_optin,
    in_force,
    objection_lifter_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(db):
    return helene_with_an_email_optin()


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


PANEL = {"steward_marketing": 200, "steward_service_client": 404, "dpo": 200, "admin": 200,
         "auditor": 200, "outsider": 403}
STATEMENT = {"steward_marketing": 302, "steward_service_client": 404, "dpo": 302, "admin": 403,
             "auditor": 403, "outsider": 403}
OBJECTION = {"steward_marketing": 403, "steward_service_client": 403, "dpo": 302, "admin": 403,
             "auditor": 403, "outsider": 403}


@pytest.mark.parametrize("persona", sorted(PANEL))
def test_permission_matrix_of_the_consent_panel(customer, personas, persona):
    client = client_for(personas[persona])
    assert client.get(reverse("gdpr:customer_consents", args=[customer.public_id])).status_code == PANEL[persona]
    posted = client.post(reverse("gdpr:consent_statement_add", args=[customer.public_id]), {
        "purpose": "offers", "channel": "post", "granted": "no", "wording": "Appel du 3 mars"})
    assert posted.status_code == STATEMENT[persona]
    objected = client.post(reverse("gdpr:objection_add", args=[customer.public_id]), {"reason": "lettre"})
    assert objected.status_code == OBJECTION[persona]
    objection = Objection.objects.filter(lifted_at__isnull=True).first() or objection_record(
        customer=customer, reason="courrier", acting_user=TEST_ACTOR)  # the DPO's, if recorded above
    lifted = client.post(reverse("gdpr:objection_lift", args=[objection.pk]), {"reason": "retirée"})
    assert lifted.status_code == OBJECTION[persona]


def test_anonymous_visitors_are_sent_to_sign_in(customer):
    response = Client().get(reverse("gdpr:customer_consents", args=[customer.public_id]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_steward_records_what_the_person_says_and_the_panel_shows_it_with_its_proof(customer, steward_marketing):
    client = client_for(steward_marketing)
    client.post(reverse("gdpr:consent_statement_add", args=[customer.public_id]), {
        "purpose": "newsletter", "channel": "email", "granted": "no", "wording": "Appel du 3 mars"})
    statement = ConsentStatement.objects.get(origin=StatementOrigin.FORM)
    assert statement.recorded_by == steward_marketing and statement.wording == "Appel du 3 mars"
    assert in_force(customer)[("newsletter", "email")] is False
    page = client.get(reverse("gdpr:customer_consents", args=[customer.public_id])).content.decode()
    assert 'data-purpose="newsletter"' in page and 'data-granted="no"' in page
    assert "Appel du 3 mars" in page and "CRM · C1" in page
    # The customer page loads the panel.
    assert reverse("gdpr:customer_consents", args=[customer.public_id]) in client.get(
        reverse("customer_detail", args=[customer.public_id])).content.decode()


def test_the_dpo_records_an_objection_then_lifts_it(customer, dpo):
    client = client_for(dpo)
    client.post(reverse("gdpr:objection_add", args=[customer.public_id]), {"reason": "Lettre du 3 mars"})
    objection = Objection.objects.get()
    assert "data-objecting" in client.get(reverse("gdpr:customer_consents", args=[customer.public_id])).content.decode()
    client.post(reverse("gdpr:objection_lift", args=[objection.pk]), {"reason": "Retirée par téléphone"})
    objection.refresh_from_db()
    assert objection.lifted_by == dpo and objection.lift_reason == "Retirée par téléphone"


def test_lifting_an_objection_on_a_customer_the_user_does_not_see_is_a_404(customer, dpo):
    objection = objection_record(customer=customer, reason="courrier", acting_user=TEST_ACTOR)
    lift = reverse("gdpr:objection_lift", args=[objection.pk])
    assert client_for(objection_lifter_of("service-client")).post(lift, {"reason": "retirée"}).status_code == 404
    assert Objection.objects.get().lifted_at is None
    assert client_for(dpo).post(lift, {"reason": "retirée"}).status_code == 302
    assert Objection.objects.get().lifted_by == dpo
    # The same rights in the customer's department lift it: the 404 was the department's.
    again = objection_record(customer=customer, reason="appel", acting_user=TEST_ACTOR)
    marketing = objection_lifter_of("marketing")
    assert client_for(marketing).post(reverse("gdpr:objection_lift", args=[again.pk]),
                                      {"reason": "retirée"}).status_code == 302
    assert Objection.objects.get(pk=again.pk).lifted_by == marketing


def test_after_an_unmerge_the_restored_customers_panel_shows_the_proof_of_its_no(dpo, steward_everywhere):
    crm = consent_source("crm", department="marketing", trust_rank=1)
    shop = consent_source("shop", department="ecommerce", trust_rank=2)
    _survivor, restored = a_no_copied_then_unmerged(crm, shop, undone_by=steward_everywhere)
    page = client_for(dpo).get(reverse("gdpr:customer_consents", args=[restored.public_id])).content.decode()
    assert 'data-granted="no"' in page
    assert "Désabonnement, formulaire v3" in page


def test_a_second_objection_is_refused_with_a_message_not_an_error_page(customer, dpo):
    client = client_for(dpo)
    add = reverse("gdpr:objection_add", args=[customer.public_id])
    client.post(add, {"reason": "Lettre du 3 mars"})
    answer = client.post(add, {"reason": "Appel du 9 avril"}, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 200
    assert "This person already objects: lift the objection in force first." in answer.content.decode()
    assert list(Objection.objects.values_list("reason", flat=True)) == ["Lettre du 3 mars"]


def test_the_mapping_editor_offers_consent_columns(admin_user, customer):
    page = client_for(admin_user).get(reverse("admin_source_mapping", args=["crm"])).content.decode()
    assert 'value="consent:newsletter:email"' in page
    assert 'value="optin_date"' in page  # the date field of the consent column, shown back
