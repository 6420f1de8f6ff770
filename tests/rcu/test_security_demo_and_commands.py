"""The demo's two-factor devices and the account-security commands."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from rcu.models import ApiToken, api_token_digest
from rcu.services.demo import DEMO_TOTP_SECRET, demo_users_ensure


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue().strip()


def test_the_demo_admin_and_dpo_get_the_documented_secret_and_its_codes_verify(db, settings):
    settings.DEBUG = True
    demo_users_ensure()
    demo_users_ensure()  # run again: still one device each

    for username in ("admin", "dpo"):
        (device,) = TOTPDevice.objects.filter(user__username=username)
        assert device.confirmed
        assert device.config_url.split("secret=")[1].startswith(DEMO_TOTP_SECRET)
        assert device.verify_token(run("totp_code", username))
    assert not TOTPDevice.objects.filter(user__username="steward.marketing").exists()


def test_totp_code_is_refused_outside_development(db, settings):
    settings.DEBUG = False
    demo_users_ensure()

    with pytest.raises(CommandError, match="DEBUG is off"):
        run("totp_code", "admin")


def test_create_api_token_prints_a_working_key(steward_marketing, crm):
    key = run("create_api_token", steward_marketing.username, "--days", "7", "--source", "crm")

    token = ApiToken.objects.get()
    assert token.key_digest == api_token_digest(key) and token.source == crm
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    sent = client.post("/api/v1/sources/crm/records/", {"id": "C-1", "last_name": "Roux"}, format="json")
    assert sent.status_code == 201
