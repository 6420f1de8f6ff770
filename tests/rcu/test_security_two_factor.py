"""Two-factor sign-in (TOTP): required for admins and the DPO, optional for everybody else."""

from __future__ import annotations

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from rcu.services.tokens import api_token_create
from tests.factories import TEST_ACTOR
from tests.rcu.security_helpers import confirmed_device, current_code

SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"


@pytest.fixture(autouse=True)
def required_for_admin_and_dpo(settings):
    settings.RCU_OTP_REQUIRED_ROLES = ["admin", "dpo"]


def password_sign_in(user, password) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": password})
    assert response.status_code == 302
    return client


@pytest.mark.parametrize("persona", ["admin_user", "dpo"])
def test_a_required_role_without_a_device_must_enrol_before_anything_else(
    request, settings, persona, password
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then the right one at once
    user = request.getfixturevalue(persona)
    client = password_sign_in(user, password)

    for path in ["/", "/customers/", "/administration/tokens/", "/accounts/security/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{SETUP}?next="), path
    page = client.get(f"{SETUP}?next=/customers/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "otpauth://totp/" in body
    wrong = client.post(SETUP, {"code": "000000", "next": "/customers/"})
    assert wrong.status_code == 200 and client.get("/").status_code == 302
    right = client.post(SETUP, {"code": current_code(device), "next": "/customers/"})

    assert right.status_code == 302 and right["Location"] == "/customers/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/customers/").status_code == 200


@pytest.mark.parametrize("persona", ["admin_user", "dpo"])
def test_a_required_role_with_a_device_enters_a_code_after_the_password(
    request, settings, persona, password
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # a wrong code, then the right one at once
    user = request.getfixturevalue(persona)
    device = confirmed_device(user)
    client = password_sign_in(user, password)

    blocked = client.get("/customers/")
    assert blocked.status_code == 302 and blocked["Location"].startswith(f"{VERIFY}?next=")
    assert client.post(VERIFY, {"code": "123456", "next": "/"}).status_code == 200
    assert client.get("/").status_code == 302
    verified = client.post(VERIFY, {"code": current_code(device), "next": "/customers/"})

    assert verified.status_code == 302 and verified["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200


def test_wrong_codes_make_the_next_try_wait(admin_user, password):
    device = confirmed_device(admin_user)
    client = password_sign_in(admin_user, password)

    client.post(VERIFY, {"code": "000000", "next": "/"})
    too_soon = client.post(VERIFY, {"code": current_code(device), "next": "/"})

    assert too_soon.status_code == 200
    assert client.get("/").status_code == 302


def test_a_password_alone_cannot_enrol_a_second_device(admin_user, password):
    confirmed_device(admin_user)
    client = password_sign_in(admin_user, password)

    response = client.get(SETUP)

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=admin_user, confirmed=False).exists()


def test_the_django_admin_is_behind_the_second_factor_too(admin_user, password):
    confirmed_device(admin_user)
    client = password_sign_in(admin_user, password)

    response = client.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_an_unverified_session_is_refused_by_the_api_but_a_token_is_not(
    admin_user, password, crm
):
    device = confirmed_device(admin_user)
    client = password_sign_in(admin_user, password)
    key = api_token_create(user=admin_user, acting_user=TEST_ACTOR).key
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    refused = client.get("/api/v1/sources/", HTTP_ACCEPT_LANGUAGE="en")
    client.post(VERIFY, {"code": current_code(device), "next": "/"})

    assert refused.status_code == 401
    assert "Two-factor" in refused.json()["detail"]
    assert client.get("/api/v1/sources/").status_code == 200
    assert token_client.get("/api/v1/sources/").status_code == 200


def test_other_roles_sign_in_with_a_password_and_may_turn_two_factor_on_and_off(
    steward_marketing, password
):
    client = password_sign_in(steward_marketing, password)
    assert client.get("/customers/").status_code == 200
    assert 'action="/accounts/two-factor/remove/"' not in client.get(
        "/accounts/security/"
    ).content.decode()

    client.get(SETUP)
    device = TOTPDevice.objects.get(user=steward_marketing)
    client.post(SETUP, {"code": current_code(device), "next": "/"})
    device.refresh_from_db()
    assert device.confirmed

    assert 'action="/accounts/two-factor/remove/"' in client.get(
        "/accounts/security/"
    ).content.decode()
    next_time = password_sign_in(steward_marketing, password)
    asked = next_time.get("/customers/")  # a device once on is asked for
    assert asked.status_code == 302 and asked["Location"].startswith(VERIFY)
    removed = client.post("/accounts/two-factor/remove/")
    assert removed.status_code == 302
    assert not TOTPDevice.objects.filter(user=steward_marketing).exists()


def test_a_required_role_cannot_turn_two_factor_off(admin_user, password):
    device = confirmed_device(admin_user)
    client = password_sign_in(admin_user, password)
    client.post(VERIFY, {"code": current_code(device), "next": "/"})

    client.post("/accounts/two-factor/remove/")

    assert TOTPDevice.objects.filter(user=admin_user, confirmed=True).exists()


def test_superusers_count_as_admins(db, password):
    from tests.factories import make_user

    root = make_user("root", is_staff=True)
    root.is_superuser = True
    root.save()
    client = password_sign_in(root, password)

    assert client.get("/").status_code == 302


def test_with_no_required_role_nobody_is_held(settings, admin_user, password):
    settings.RCU_OTP_REQUIRED_ROLES = []
    client = password_sign_in(admin_user, password)

    assert client.get("/customers/").status_code == 200


def test_an_admin_resets_a_lost_device_in_the_django_admin(
    settings, client, admin_user, dpo, steward_marketing
):
    settings.RCU_OTP_REQUIRED_ROLES = []  # the admin's own second factor is another test
    lost = confirmed_device(dpo)
    client.force_login(admin_user)

    listed = client.get("/admin/otp_totp/totpdevice/")
    deleted = client.post(f"/admin/otp_totp/totpdevice/{lost.pk}/delete/", {"post": "yes"})

    assert listed.status_code == 200
    assert deleted.status_code == 302
    assert not TOTPDevice.objects.filter(user=dpo).exists()
    client.force_login(steward_marketing)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 302  # not staff
