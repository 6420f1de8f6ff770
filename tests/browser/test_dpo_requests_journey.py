"""The DPO records a request in Chromium, extends it, drafts and sends a letter, and
finds it on the dashboard (screenshots in $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from gdpr.models import SubjectRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def _screenshot(page, name: str) -> None:
    folder = Path(os.environ.get("RCU_TEST_ARTEFACTS") or ROOT / "var" / "artefacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


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
    _screenshot(page, "gdpr-request")

    page.click('a[data-nav="gdpr"]')
    expect(page.locator(f'#requests tr[data-request="{request.pk}"]')).to_be_visible()
    _screenshot(page, "gdpr-requests")
