from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.gdpr.builders import access_request, person_with_history


@pytest.fixture
def scenario(crm, service_client_source, eshop, steward_everywhere, settings):
    return person_with_history(
        crm=crm, service_client_source=service_client_source, eshop=eshop,
        steward=steward_everywhere, settings=settings,
    )


@pytest.fixture
def subject_request(dpo, scenario):
    return access_request(dpo=dpo)


@pytest.fixture
def dpo_api(dpo) -> APIClient:
    client = APIClient()
    client.force_authenticate(dpo)
    return client
