"""Sessions end after an idle period and after an absolute lifetime, whatever the activity."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client

from rcu.security import sessions

MINUTE = 60


class Clock:
    def __init__(self, start: float = 1_800_000_000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * MINUTE


@pytest.fixture
def clock(monkeypatch, settings):
    settings.RCU_SESSION_IDLE_MINUTES = 30
    settings.RCU_SESSION_MAX_HOURS = 12
    fake = Clock()
    monkeypatch.setattr(sessions, "clock", fake)
    return fake


def signed_in(user, password) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.post("/accounts/login/", {"username": user.username, "password": password}).status_code == 302
    return client


def is_signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_the_defaults(settings):
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600


def test_activity_keeps_a_session_open_past_the_idle_limit(clock, steward_marketing, password):
    client = signed_in(steward_marketing, password)

    for _ in range(4):  # two hours, a page every 29 minutes
        clock.advance(29)
        assert client.get("/customers/").status_code == 200
    assert is_signed_in(client)


def test_thirty_minutes_without_a_request_sign_out(clock, steward_marketing, password):
    client = signed_in(steward_marketing, password)
    clock.advance(29)
    client.get("/")

    clock.advance(31)
    response = client.get("/customers/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert not is_signed_in(client)
    page = client.get(response["Location"])
    assert "signed out after 30 minutes without activity" in page.content.decode()


def test_the_absolute_lifetime_ends_even_an_active_session(clock, steward_marketing, password):
    client = signed_in(steward_marketing, password)

    for _ in range(12 * 60 // 20):  # a page every 20 minutes for 12 hours
        clock.advance(20)
        assert client.get("/").status_code == 200
    clock.advance(20)
    response = client.get("/")

    assert response.status_code == 302
    assert not is_signed_in(client)


def test_the_api_session_times_out_too(clock, steward_marketing, password, crm):
    client = signed_in(steward_marketing, password)
    assert client.get("/api/v1/sources/").status_code == 200

    clock.advance(31)

    assert client.get("/api/v1/sources/").status_code in (401, 403)
