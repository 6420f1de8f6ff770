"""The issue's DPO journey in Chromium: the demo `dpo` signs in (password and two
factors), records an access request, finds the person (the look-alike proposed but left
out), confirms the scope, builds and downloads the pack, and finds the download in the
access log (screenshots in $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from gdpr.models import AccessLogEntry, SubjectRequest
from rcu.services.demo import DEMO_PASSWORD, demo_users_ensure
from tests.browser.journeys import record_request_for_helene, screenshot, sign_in
from tests.gdpr.builders import person_with_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_dpo_answers_an_access_request_from_finding_to_the_logged_download(
    page, crm, service_client_source, eshop, steward_everywhere, settings, tmp_path
):
    scenario = person_with_history(crm=crm, service_client_source=service_client_source,
                                   eshop=eshop, steward=steward_everywhere, settings=settings)
    demo_users_ensure()
    dpo = get_user_model().objects.get(username="dpo")
    page.set_viewport_size({"width": 1366, "height": 768})

    sign_in(page, dpo, DEMO_PASSWORD)
    record_request_for_helene(page, "access")
    request = SubjectRequest.objects.get()

    panel = page.locator("#gdpr-scope-panel")
    person = panel.locator(f'tr[data-customer="{scenario.person.public_id}"] input[name=customers]')
    lookalike = panel.locator(f'tr[data-customer="{scenario.lookalike.public_id}"] input[name=customers]')
    expect(person).to_be_checked()
    expect(lookalike).not_to_be_checked()  # proposed, with its contradictions, but left out
    screenshot(page, "dpo-finding-the-person")
    panel.get_by_role("button", name="Confirmer le périmètre").click()
    panel = page.locator("#gdpr-scope-panel")
    panel.get_by_role("button", name="Constituer le dossier d\u2019accès").click()

    download_link = page.locator("#gdpr-scope-panel").get_by_role("link", name="JSON")
    with page.expect_download() as download:
        download_link.click()
    pack = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    text = json.dumps(pack, ensure_ascii=False)
    assert "helene.lefevre@orange.fr" in text
    assert "Sophie" not in text and "sophie.lefevre91@laposte.net" not in text
    screenshot(page, "dpo-pack-built")

    page.goto("/gdpr/access-log/?user=dpo")
    assert AccessLogEntry.objects.filter(
        user=dpo, purpose="gdpr_pack_download", customer_public_id=scenario.person.public_id
    ).exists()
    expect(page.locator("body")).to_contain_text("dossier d\u2019accès téléchargé")
    screenshot(page, "dpo-access-log")
    assert request.steps.filter(action="scope_confirmed").exists()
