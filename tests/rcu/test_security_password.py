"""People change their own password, in the application's layout, in French and English."""

from __future__ import annotations

import pytest
from django.test import Client

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def signed_in(steward_marketing, password) -> Client:
    client = Client()
    client.post("/accounts/login/", {"username": steward_marketing.username, "password": password})
    return client


@pytest.mark.parametrize(
    "language, title",
    [("fr", "Changer mon mot de passe"), ("en", "Change my password")],
)
def test_the_user_menu_leads_to_the_password_page(signed_in, language, title):
    home = signed_in.get("/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    page = signed_in.get("/accounts/password/", HTTP_ACCEPT_LANGUAGE=language)

    assert 'href="/accounts/password/"' in home
    assert page.status_code == 200
    body = page.content.decode()
    assert f"<h1>{title}</h1>" in body
    assert 'class="topbar"' in body  # the application's layout, not the Django admin's


def test_changing_the_password_keeps_the_session_and_the_new_one_works(
    signed_in, steward_marketing, password
):
    response = signed_in.post("/accounts/password/", {
        "old_password": password, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })

    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert signed_in.get("/customers/").status_code == 200
    steward_marketing.refresh_from_db()
    assert steward_marketing.check_password(NEW_PASSWORD)


def test_a_wrong_old_password_changes_nothing(signed_in, steward_marketing, password):
    response = signed_in.post("/accounts/password/", {
        "old_password": "not-it", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD,
    })

    assert response.status_code == 200
    steward_marketing.refresh_from_db()
    assert steward_marketing.check_password(password)


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get("/accounts/password/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
