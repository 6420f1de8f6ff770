"""API throttling: past the rate, a 429 with Retry-After; ingest counts apart from reads."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture
def low_rates(settings):
    settings.RCU_API_THROTTLE_RATES = {"anon": "2/min", "user": "3/min", "ingest": "2/min"}
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api(steward_marketing) -> APIClient:
    client = APIClient()
    client.force_authenticate(steward_marketing)
    return client


def test_past_the_user_rate_the_api_answers_429_with_retry_after(low_rates, api, crm):
    answers = [api.get("/api/v1/sources/").status_code for _ in range(3)]
    refused = api.get("/api/v1/customers/")

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60


def test_ingest_has_its_own_rate(low_rates, api, crm):
    for _ in range(3):
        api.get("/api/v1/sources/")
    assert api.get("/api/v1/sources/").status_code == 429

    sent = [
        api.post("/api/v1/sources/crm/records/", {"id": f"T-{n}", "last_name": "Roux"}, format="json")
        for n in range(3)
    ]

    assert [r.status_code for r in sent] == [201, 201, 429]


def test_each_user_has_their_own_count(low_rates, api, steward_service_client, service_client_source, crm):
    for _ in range(4):
        api.get("/api/v1/sources/")
    other = APIClient()
    other.force_authenticate(steward_service_client)

    assert other.get("/api/v1/sources/").status_code == 200


def test_the_documented_defaults():
    from rcu import settings as project_settings

    assert project_settings.RCU_API_THROTTLE_RATES == {
        "anon": "60/min", "user": "600/min", "ingest": "3000/min",
    }
