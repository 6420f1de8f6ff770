"""An admin signs in with two factors: password, then the code from their phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.rcu.security_helpers import current_code

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def two_factor_required(settings):
    settings.RCU_OTP_REQUIRED_ROLES = ["admin", "dpo"]


def test_admin_enrols_then_signs_in_with_a_code(page, log_in, admin_user, password):
    page.goto("/accounts/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", password)
    page.press("#id_password", "Enter")

    # No device yet: the enrolment page, with a QR code and the secret.
    page.wait_for_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.locator(".otp-qr svg")).to_be_visible()
    device = admin_user.totpdevice_set.get(confirmed=False)
    page.fill("#id_code", current_code(device))
    page.press("#id_code", "Enter")
    page.wait_for_url(lambda url: "/accounts/two-factor/" not in url)
    expect(page.locator("main")).to_be_visible()

    # Next time: the password, then a code (log_in reads it from the device).
    page.context.clear_cookies()
    device.refresh_from_db()
    device.last_t = -1  # the test reuses this 30-second step; a phone would show the next
    device.save()
    log_in(admin_user)
    page.goto("/administration/tokens/")
    expect(page.locator("h1")).to_have_text("Jetons d\u2019API")


def test_stewards_are_not_asked_for_a_code_unless_they_enrolled(page, log_in, steward_marketing):
    log_in(steward_marketing)
    expect(page).not_to_have_url(re.compile(r"two-factor"))
