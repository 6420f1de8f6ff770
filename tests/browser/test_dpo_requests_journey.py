"""The DPO records a request in Chromium, extends it, drafts and sends a letter, and
finds it on the dashboard (screenshots in $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from gdpr.models import SubjectRequest
from tests.browser.journeys import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dpo_records_extends_and_answers_a_request(page, log_in, dpo):
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(dpo)
    page.click('a[data-nav="gdpr"]')
    expect(page.locator("h1")).to_have_text("Demandes d'exercice de droits")
    page.click("a[data-new-request]")
    page.select_option("#id_kind", "access")
    page.fill("#id_email", "helene.lefevre@orange.fr")
    page.fill("#id_last_name", "Lefèvre")
    page.click("#request-new button[type=submit]")

    expect(page.locator("#request-state")).to_have_attribute("data-state", "received")
    request = SubjectRequest.objects.get()
    expect(page.locator("h1")).to_contain_text(request.reference)
    page.fill("#extend-reason", "Quatre sources à interroger.")
    page.click("#request-extend button[type=submit]")
    expect(page.locator("[data-extended-due-on]")).to_be_visible()
    expect(page.locator('#request-letters [data-letter="extension"]')).to_be_visible()
    page.click('#request-letters [data-letter="extension"] button[type=submit]')
    expect(page.locator('#request-letters [data-letter="extension"] [data-sent-on]')).to_be_visible()
    screenshot(page, "gdpr-request")

    page.click('a[data-nav="gdpr"]')
    expect(page.locator(f'#requests tr[data-request="{request.pk}"]')).to_be_visible()
    screenshot(page, "gdpr-requests")


def test_the_dpo_executes_an_objection_request_then_lifts_it_from_its_page(page, log_in, dpo):
    from gdpr.models import Objection
    from gdpr.services.scope import request_scope_set
    from tests.factories import ingest, make_source
    from tests.gdpr.builders import access_request

    crm = make_source("crm", department="marketing")
    (record,) = ingest(crm, [{"id": "C1", "first_name": "Hélène", "last_name": "Lefèvre"}])
    request = access_request(dpo=dpo, kind="objection")
    request_scope_set(request=request, customer_public_ids=[record.customer.public_id], record_ids=[],
                      acting_user=dpo)
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(dpo)
    page.goto(f"{page.url.split('/', 3)[0]}//{page.url.split('/', 3)[2]}/gdpr/requests/{request.pk}/")
    page.fill("#objection-reason", "Lettre du 3 mars : ne plus être sollicitée.")
    page.click("#request-objection [data-execute-objection] button[type=submit]")
    objection = Objection.objects.get()
    expect(page.locator(f'#request-objection [data-objection="{objection.pk}"]')).to_be_visible()
    expect(page.locator('#request-trail [data-step="objection_recorded"]')).to_contain_text("Lettre du 3 mars")
    page.fill(f"#lift-{objection.pk}", "Retirée par téléphone.")
    page.click(f'#request-objection [data-objection="{objection.pk}"] button[type=submit]')
    expect(page.locator('#request-trail [data-step="objection_lifted"]')).to_contain_text("Retirée par téléphone")
    screenshot(page, "gdpr-request-objection")
