"""Sign-in lockout (django-axes): per username and address, lifted by an admin or the cool-off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from rcu.security.addresses import client_ip

HOME = "/"
LOGIN = "/accounts/login/"
ADDRESS = "203.0.113.7"
OTHER_ADDRESS = "198.51.100.9"


@pytest.fixture(autouse=True)
def lockout_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = 0.25  # 15 minutes


def sign_in(username: str, password: str, *, address: str = ADDRESS) -> tuple[Client, object]:
    client = Client(REMOTE_ADDR=address)
    response = client.post(LOGIN, {"username": username, "password": password})
    return client, response


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def fail(username: str, times: int, *, address: str = ADDRESS) -> list:
    return [sign_in(username, "wrong-password", address=address)[1] for _ in range(times)]


def test_five_wrong_passwords_lock_the_account_from_that_address(steward_marketing, password):
    responses = fail(steward_marketing.username, 5)

    assert [r.status_code for r in responses[:4]] == [200] * 4  # the form again, with its error
    assert responses[4].status_code == 429
    client, response = sign_in(steward_marketing.username, password)
    assert response.status_code == 429
    assert not is_signed_in(client)
    body = response.content.decode()
    assert "data-lockout" in body
    assert "15" in body  # the cool-off, in minutes


def test_the_lock_holds_for_that_username_and_address_only(
    steward_marketing, steward_service_client, password
):
    fail(steward_marketing.username, 5)

    other_user_same_address, response = sign_in(steward_service_client.username, password)
    assert response.status_code == 302 and is_signed_in(other_user_same_address)
    other_user_other_address, response = sign_in(
        steward_service_client.username, password, address=OTHER_ADDRESS
    )
    assert response.status_code == 302 and is_signed_in(other_user_other_address)
    same_user_other_address, response = sign_in(
        steward_marketing.username, password, address=OTHER_ADDRESS
    )
    assert response.status_code == 302 and is_signed_in(same_user_other_address)


def test_a_success_before_the_limit_starts_the_count_again(steward_marketing, password):
    fail(steward_marketing.username, 4)
    sign_in(steward_marketing.username, password)
    fail(steward_marketing.username, 4)

    client, response = sign_in(steward_marketing.username, password)
    assert response.status_code == 302 and is_signed_in(client)


def test_the_lock_lifts_after_the_cool_off(steward_marketing, password):
    fail(steward_marketing.username, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    client, response = sign_in(steward_marketing.username, password)
    assert response.status_code == 302 and is_signed_in(client)


def test_an_admin_unlocks_and_the_right_password_works_again(
    client, admin_user, steward_marketing, password
):
    fail(steward_marketing.username, 5)
    client.force_login(admin_user)

    page = client.get("/administration/lockouts/")
    assert page.status_code == 200
    attempt = AccessAttempt.objects.get(username=steward_marketing.username)
    assert f'data-attempt="{attempt.pk}"' in page.content.decode()
    response = client.post(f"/administration/lockouts/{attempt.pk}/unlock/")

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username=steward_marketing.username).exists()
    signed_in, response = sign_in(steward_marketing.username, password)
    assert response.status_code == 302 and is_signed_in(signed_in)


@pytest.mark.parametrize(
    "persona, expected",
    [("admin_user", 200), ("steward_marketing", 403), ("dpo", 403), ("auditor", 403),
     ("outsider", 403), ("anonymous", 302)],
)
def test_who_sees_and_unlocks_locked_sign_ins(request, client, persona, expected, steward_marketing):
    fail(steward_marketing.username, 5)
    attempt = AccessAttempt.objects.get()
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))

    listed = client.get("/administration/lockouts/")
    unlocked = client.post(f"/administration/lockouts/{attempt.pk}/unlock/")

    assert listed.status_code == expected
    if expected == 302:
        assert listed["Location"].startswith(LOGIN)
    assert AccessAttempt.objects.exists() == (persona != "admin_user")
    assert unlocked.status_code == (302 if persona in ("admin_user", "anonymous") else 403)


def test_the_client_address_behind_trusted_proxies(settings, rf):
    request = rf.get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.1")

    settings.RCU_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"  # no proxy trusted: the header is the client's word
    settings.RCU_TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.7"  # the address the outer proxy saw
