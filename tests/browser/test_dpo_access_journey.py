"""The issue's DPO journey in Chromium: the demo `dpo` signs in (password and two
factors), records an access request, finds the person (the look-alike proposed but left
out), confirms the scope, builds and downloads the pack, and finds the download in the
access log (screenshots in $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from gdpr.models import AccessLogEntry, SubjectRequest
from rcu.services.demo import DEMO_PASSWORD, demo_users_ensure
from tests.gdpr.builders import person_with_history
from tests.rcu.security_helpers import current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _screenshot(page, name: str) -> None:
    folder = Path(os.environ.get("RCU_TEST_ARTEFACTS") or ROOT / "var" / "artefacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_demo_dpo_answers_an_access_request_from_finding_to_the_logged_download(
    page, crm, service_client_source, eshop, steward_everywhere, settings, tmp_path
):
    scenario = person_with_history(crm=crm, service_client_source=service_client_source,
                                   eshop=eshop, steward=steward_everywhere, settings=settings)
    demo_users_ensure()
    dpo = get_user_model().objects.get(username="dpo")
    page.set_viewport_size({"width": 1366, "height": 768})

    page.goto("/accounts/login/")
    page.fill("#id_username", "dpo")
    page.fill("#id_password", DEMO_PASSWORD)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/two-factor/verify/" in url)
    page.fill("#id_code", current_code(dpo.totpdevice_set.get(confirmed=True)))
    page.press("#id_code", "Enter")
    page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)

    page.click('a[data-nav="gdpr"]')
    page.click("a[data-new-request]")
    page.select_option("#id_kind", "access")
    page.fill("#id_first_name", "Hélène")
    page.fill("#id_last_name", "Lefèvre")
    page.fill("#id_email", "helene.lefevre@orange.fr")
    page.fill("#id_birth_date", "1984-03-12")
    page.fill("#id_postcode", "75016")
    page.fill("#id_city", "Paris")
    page.click("#request-new button[type=submit]")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "received")
    request = SubjectRequest.objects.get()

    panel = page.locator("#gdpr-scope-panel")
    person = panel.locator(f'tr[data-customer="{scenario.person.public_id}"] input[name=customers]')
    lookalike = panel.locator(f'tr[data-customer="{scenario.lookalike.public_id}"] input[name=customers]')
    expect(person).to_be_checked()
    expect(lookalike).not_to_be_checked()  # proposed, with its contradictions, but left out
    _screenshot(page, "dpo-finding-the-person")
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
    _screenshot(page, "dpo-pack-built")

    page.goto("/gdpr/access-log/?user=dpo")
    assert AccessLogEntry.objects.filter(
        user=dpo, purpose="gdpr_pack_download", customer_public_id=scenario.person.public_id
    ).exists()
    expect(page.locator("body")).to_contain_text("dossier d\u2019accès téléchargé")
    _screenshot(page, "dpo-access-log")
    assert request.steps.filter(action="scope_confirmed").exists()
