"""Correcting golden values from the customer page: the form in the stewardship panel,
who sees it and may post it, and how the corrected value reads on the page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from stewardship.services.corrections import CorrectionOrigin, customer_values_correct

pytestmark = pytest.mark.django_db

PERSONAS = ["steward_marketing", "steward_service_client", "dpo", "admin", "auditor", "outsider"]


def form_of(customer, **changes) -> dict:
    """The correction form as the page fills it, with these fields changed."""
    data = {"reason": "she called us"}
    for name in ("first_name", "last_name", "email", "mobile", "address_line1", "address_line2",
                 "postcode", "city", "country"):
        value = getattr(customer, name)
        data[name] = value or ""
    data["birth_date"] = customer.birth_date.isoformat() if customer.birth_date else ""
    data.update(changes)
    return data


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_correction_form_shows_to_the_stewards_who_decide_only(client, personas, persona,
                                                                   crm_customer):
    client.force_login(personas[persona])
    response = client.get(reverse("stewardship:customer_decisions",
                                  args=[crm_customer.public_id]))
    shown = response.status_code == 200 and 'id="correct-form"' in response.content.decode()
    assert shown == (persona == "steward_marketing")


@pytest.mark.parametrize("persona", PERSONAS)
def test_who_may_post_a_correction(client, personas, persona, crm_customer):
    client.force_login(personas[persona])
    response = client.post(reverse("stewardship:correct", args=[crm_customer.public_id]),
                           form_of(crm_customer, email="helene.martin@gmail.com"))
    crm_customer.refresh_from_db()
    if persona == "steward_marketing":
        assert response.status_code == 302
        assert crm_customer.email == "helene.martin@gmail.com"
    else:
        assert response.status_code in (403, 404)
        assert crm_customer.email == "helene.lefevre@orange.fr"


def test_only_the_changed_fields_are_corrected(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    client.post(reverse("stewardship:correct", args=[crm_customer.public_id]),
                form_of(crm_customer, email="helene.martin@gmail.com"))
    crm_customer.refresh_from_db()
    assert set(crm_customer.pinned) == {"email"}


def test_changing_the_city_pins_the_whole_address(client, steward_marketing, crm_customer):
    client.force_login(steward_marketing)
    client.post(reverse("stewardship:correct", args=[crm_customer.public_id]),
                form_of(crm_customer, city="Boulogne-Billancourt", postcode="92100"))
    crm_customer.refresh_from_db()
    assert {"address_line1", "address_line2", "postcode", "city", "country"} <= set(
        crm_customer.pinned)
    assert crm_customer.city == "Boulogne-Billancourt"


def test_a_bad_value_is_refused_in_french_naming_the_field(client, steward_marketing,
                                                           crm_customer):
    client.force_login(steward_marketing)
    with translation.override("fr"):
        response = client.post(
            reverse("stewardship:correct", args=[crm_customer.public_id]),
            form_of(crm_customer, email="pas-une-adresse"), follow=True,
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    page = response.content.decode()
    assert "E-mail" in page and "pas-une-adresse" in page
    crm_customer.refresh_from_db()
    assert crm_customer.email == "helene.lefevre@orange.fr" and not crm_customer.pinned


def test_the_page_says_who_corrected_a_value_and_why(client, steward_marketing, crm_customer):
    customer_values_correct(customer_id=crm_customer.pk, values={"email": "h.m@gmail.com"},
                            reason="appel du 3 mai", acting_user=steward_marketing)
    client.force_login(steward_marketing)
    page = client.get(reverse("customer_detail", args=[crm_customer.public_id]),
                      HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Corrigée par un gestionnaire" in page
    assert "steward_marketing" in page and "appel du 3 mai" in page


def test_unpinning_from_the_form(client, steward_marketing, crm_customer):
    customer_values_correct(customer_id=crm_customer.pk, values={"email": "h.m@gmail.com"},
                            reason="appel", acting_user=steward_marketing)
    crm_customer.refresh_from_db()
    client.force_login(steward_marketing)
    client.post(reverse("stewardship:correct", args=[crm_customer.public_id]),
                {**form_of(crm_customer), "unpin": ["email"], "reason": "wrong"})
    crm_customer.refresh_from_db()
    assert crm_customer.email == "helene.lefevre@orange.fr" and not crm_customer.pinned


def test_a_rectified_value_is_not_offered_to_the_steward(client, steward_marketing, dpo,
                                                         crm_customer):
    customer_values_correct(customer_id=crm_customer.pk, values={"email": "h.m@gmail.com"},
                            reason="art. 16", origin=CorrectionOrigin.RECTIFICATION,
                            acting_user=dpo)
    client.force_login(steward_marketing)
    panel = client.get(reverse("stewardship:customer_decisions",
                               args=[crm_customer.public_id])).content.decode()
    assert 'name="email"' not in panel and 'name="first_name"' in panel


def test_a_rectification_offers_no_undo_to_the_steward(client, steward_marketing, dpo,
                                                       crm_customer):
    rectified = customer_values_correct(
        customer_id=crm_customer.pk, values={"email": "h.m@gmail.com"}, reason="art. 16",
        origin=CorrectionOrigin.RECTIFICATION, acting_user=dpo)
    mine = customer_values_correct(customer_id=crm_customer.pk, values={"first_name": "Helena"},
                                   reason="typo", acting_user=steward_marketing)
    client.force_login(steward_marketing)
    panel = client.get(reverse("stewardship:customer_decisions",
                               args=[crm_customer.public_id])).content.decode()
    assert f'data-undo="{mine.pk}"' in panel and f'data-undo="{rectified.pk}"' not in panel
    response = client.post(reverse("stewardship:undo", args=[rectified.pk]))
    assert response.status_code == 403
