"""Steps the browser journeys share: signing in, recording the demo person's request,
screenshots (in $RCU_TEST_ARTEFACTS, default var/artefacts/)."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import expect

from tests.rcu.security_helpers import current_code

ROOT = Path(__file__).resolve().parents[2]

# The person the DPO journeys look for (tests.gdpr.builders.person_with_history).
HELENE_REQUEST = {
    "#id_first_name": "Hélène", "#id_last_name": "Lefèvre", "#id_email": "helene.lefevre@orange.fr",
    "#id_birth_date": "1984-03-12", "#id_postcode": "75016", "#id_city": "Paris",
}


def sign_in(page, user, password: str) -> None:
    """Password, then the two-factor code when the account is asked for one (computed
    from its device, as the person's authenticator app would)."""
    page.goto("/accounts/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    if "/accounts/two-factor/verify/" in page.url:
        page.fill("#id_code", current_code(user.totpdevice_set.get(confirmed=True)))
        page.press("#id_code", "Enter")
        page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)


def record_request_for_helene(page, kind: str) -> None:
    """From the GDPR workspace, a new request of `kind` for the demo person, recorded."""
    page.click('a[data-nav="gdpr"]')
    page.click("a[data-new-request]")
    page.select_option("#id_kind", kind)
    for field, value in HELENE_REQUEST.items():
        page.fill(field, value)
    page.click("#request-new button[type=submit]")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "received")


def screenshot(page, name: str) -> None:
    folder = Path(os.environ.get("RCU_TEST_ARTEFACTS") or ROOT / "var" / "artefacts") / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
