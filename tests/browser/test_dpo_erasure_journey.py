"""The DPO's erasure journey in Chromium: the demo `dpo` records an erasure request,
verifies the identity, finds the person and confirms the scope, sees the preview, asks
for the execution; a second DPO (in their own browser) approves; the DPO executes, sees
the CRM's subscription acknowledge by delivery (a receiver on 127.0.0.1) and records the
two other sources' acknowledgements by hand with a note; the request closes and the
receipt downloads, naming no one (screenshots in $RCU_TEST_ARTEFACTS)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from gdpr.models import SubjectRequest
from gdpr.views.packs import pdf_available
from rcu.models import Customer, Subscription
from rcu.roles import Role
from rcu.services.demo import DEMO_PASSWORD, demo_users_ensure
from rcu.services.subscriptions import subscription_create
from tests.browser.journeys import record_request_for_helene, screenshot, sign_in
from tests.factories import PASSWORD, TEST_ACTOR, make_user
from tests.gdpr.builders import person_with_history
from tests.gdpr.test_erasure_workflow import PERSON_VALUES
from tests.webhook_receiver import Receiver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def crm_receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def test_the_dpo_erases_a_person_with_a_second_dpo_and_downloads_the_receipt(
    page, browser, live_server, crm, service_client_source, eshop, steward_everywhere, settings,
    crm_receiver,
):
    scenario = person_with_history(crm=crm, service_client_source=service_client_source,
                                   eshop=eshop, steward=steward_everywhere, settings=settings)
    Subscription.objects.filter(pk=scenario.subscription.pk).update(active=False)
    crm_receiver.secret = subscription_create(
        name="crm-feed", target_url=crm_receiver.url, purpose="operations", source=crm,
        event_types=["customer.erased"], acting_user=TEST_ACTOR,
    ).secret
    demo_users_ensure()
    dpo = get_user_model().objects.get(username="dpo")
    make_user("dpo2", roles=[Role.DPO])
    page.set_viewport_size({"width": 1366, "height": 900})

    sign_in(page, dpo, DEMO_PASSWORD)

    # Record the request, verify the identity, find the person.
    record_request_for_helene(page, "erasure")
    request = SubjectRequest.objects.get()
    page.click("#request-identity button[type=submit]")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "in_progress")
    panel = page.locator("#gdpr-scope-panel")
    expect(panel.locator(f'tr[data-customer="{scenario.person.public_id}"] input[name=customers]')).to_be_checked()
    panel.get_by_role("button", name="Confirmer le périmètre").click()
    expect(page.locator("#gdpr-scope-panel")).to_contain_text("Hélène")

    # The preview, then ask for the execution.
    page.click("#erasure-link")
    expect(page.locator('#erasure-preview tr[data-store="rcu.SourceRecord"][data-action="deleted"] td.num')).to_have_text("3")
    expect(page.locator(f'#erasure-preview li[data-source="{crm.code}"]')).to_be_visible()
    screenshot(page, "dpo-erasure-preview")
    page.click("#erasure-ask button[type=submit]")
    expect(page.locator("#erasure-status")).to_have_attribute("data-erasure-status", "asked")
    expect(page.locator("#erasure-approve")).to_have_count(0)  # not by who asked

    # A second DPO, in their own browser, approves.
    other = browser.new_context(base_url=live_server.url, locale="fr-FR")
    second = other.new_page()
    sign_in(second, get_user_model().objects.get(username="dpo2"), PASSWORD)
    second.goto(f"/gdpr/requests/{request.pk}/erasure/")
    expect(second.locator("#erasure-preview")).to_be_visible()
    second.click("#erasure-approve button[type=submit]")
    expect(second.locator("#erasure-status")).to_have_attribute("data-erasure-status", "approved")
    other.close()

    # The DPO executes; the CRM's subscription acknowledges by delivery.
    page.reload()
    page.click("#erasure-execute button[type=submit]")
    expect(page.locator("#erasure-status")).to_have_attribute("data-erasure-status", "executed")
    assert not Customer.objects.filter(pk=scenario.person.pk).exists()
    expect(page.locator('tr[data-ack="crm-feed"]')).to_have_attribute("data-ack-state", "delivered")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "waiting_for_sources")
    screenshot(page, "dpo-erasure-waiting")
    for source in (service_client_source, eshop):
        form = page.locator(f'form[data-ack-form="{source.code}"]')
        form.locator("input[name=note]").fill("Effacé dans la source, ticket 4411")
        form.locator("button[type=submit]").click()
        expect(page.locator(f'tr[data-ack="{source.code}"]')).to_have_attribute("data-ack-state", "by-hand")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "done")
    screenshot(page, "dpo-erasure-acknowledged")

    with page.expect_download() as download:
        page.click('a[data-receipt="json"]')
    receipt_text = Path(download.value.path()).read_text(encoding="utf-8")
    receipt = json.loads(receipt_text)
    assert receipt["request"]["reference"] == request.reference
    assert {a["name"]: a["how"] for a in receipt["acknowledgements"]} == {
        "crm-feed": "delivery", service_client_source.code: "by_hand", eshop.code: "by_hand",
    }
    for value in (*PERSON_VALUES, str(scenario.person.public_id)):
        assert value.lower() not in receipt_text.lower(), value
    if pdf_available():
        with page.expect_download() as pdf:
            page.click('a[data-receipt="pdf"]')
        assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    page.click("#erasure-receipt-links a >> nth=0")
    expect(page.locator("#erasure-receipt")).to_contain_text(request.reference)
    screenshot(page, "dpo-erasure-receipt")
