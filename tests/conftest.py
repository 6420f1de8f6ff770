"""Personas and sources shared by every test.

Departments: marketing owns the CRM, service-client owns the customer-service
base, ecommerce owns the e-shop. Personas: a steward of marketing, a steward of
service client, the DPO, an admin, a read-only auditor and an outsider with no
rights at all.
"""

from __future__ import annotations

import pytest

from rcu.roles import Role
from tests.celery_worker import (  # noqa: F401  (fixtures for every package)
    celery_broker_app,
    celery_worker_app,
)
from tests.factories import PASSWORD, ingest, make_source, make_user


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files and rejects files go to a scratch folder in tests."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def account_security_for_tests(settings):
    """Most tests are about something else: they sign in with `force_login` or
    `client.login` (no request, which django-axes refuses) and call the API more often
    than a person would. The account-security tests (tests/rcu/test_security_*.py)
    switch each of these back on."""
    settings.AXES_ENABLED = False
    settings.RCU_OTP_REQUIRED_ROLES = []
    settings.RCU_API_THROTTLE_RATES = {"anon": None, "user": None, "ingest": None}


@pytest.fixture(autouse=True)
def survivorship_rules_default():
    """Each test starts with the default survivorship rules known to the cache (the
    database rolls back between tests; the in-process cache would not)."""
    from django.core.cache import cache

    from rcu.selectors.survivorship import CACHE_KEY

    cache.set(CACHE_KEY, {}, timeout=None)
    yield
    cache.delete(CACHE_KEY)


@pytest.fixture(autouse=True)
def custom_attributes_none():
    """Each test starts with no custom attribute known to the process (the database rolls
    back between tests; the in-process copy of the definitions would not)."""
    from rcu.selectors.attributes import custom_attributes_forget, custom_attributes_known

    custom_attributes_known(())
    yield
    custom_attributes_forget()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def crm(db):
    return make_source("crm", department="marketing", trust_rank=1)


@pytest.fixture
def service_client_source(db):
    return make_source("service_client", department="service-client", trust_rank=2)


@pytest.fixture
def eshop(db):
    return make_source("eshop", department="ecommerce", trust_rank=3)


@pytest.fixture
def sources(crm, service_client_source, eshop):
    return {"crm": crm, "service_client": service_client_source, "eshop": eshop}


@pytest.fixture
def steward_marketing(db):
    return make_user("steward_marketing", roles=[Role.STEWARD], departments=["marketing"])


@pytest.fixture
def steward_service_client(db):
    return make_user("steward_sc", roles=[Role.STEWARD], departments=["service-client"])


@pytest.fixture
def steward_everywhere(db):
    """A steward of every department: may undo what touched any of their customers."""
    return make_user(
        "steward_everywhere", roles=[Role.STEWARD],
        departments=["marketing", "service-client", "ecommerce"],
    )


@pytest.fixture
def dpo(db):
    return make_user("dpo", roles=[Role.DPO])


@pytest.fixture
def admin_user(db):
    return make_user("admin", roles=[Role.ADMIN], is_staff=True)


@pytest.fixture
def auditor(db):
    return make_user("auditor", roles=[Role.AUDITOR])


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def personas(steward_marketing, steward_service_client, dpo, admin_user, auditor, outsider):
    return {
        "steward_marketing": steward_marketing,
        "steward_service_client": steward_service_client,
        "dpo": dpo,
        "admin": admin_user,
        "auditor": auditor,
        "outsider": outsider,
    }


@pytest.fixture
def crm_customer(crm):
    """A customer known only to the CRM (marketing)."""
    (record,) = ingest(crm, [{
        "id": "CRM-1", "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre",
        "birth_date": "1984-03-12", "email": "Helene.Lefevre@Orange.fr", "phone": "01 42 11 22 33",
        "mobile": "06 12 34 56 78", "address_line1": "12 bis av. Victor Hugo", "address_line2": "",
        "postcode": "75016", "city": "Paris", "country": "FR", "updated": "2024-05-03 10:00",
    }])
    return record.customer


@pytest.fixture
def service_client_customer(service_client_source):
    """A customer known only to customer service."""
    (record,) = ingest(service_client_source, [{
        "id": "SC-1", "civility": "M.", "first_name": "Jean-Pierre", "last_name": "Martin",
        "birth_date": "1971-11-02", "email": "jp.martin@free.fr", "phone": "",
        "mobile": "+33 7 81 22 33 44", "address_line1": "3 rue des Lilas", "address_line2": "",
        "postcode": "69003", "city": "Lyon", "country": "FR", "updated": "2023-01-15 09:30",
    }])
    return record.customer
