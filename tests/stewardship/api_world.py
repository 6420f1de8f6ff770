"""Builders shared by the stewardship API tests: real records, candidates stored the way
matching stores them (through `candidates_sync`), and API clients per persona."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_framework.test import APIClient

from rcu.hooks import ReviewPair
from rcu.models import SourceRecord
from stewardship.models import MergeCandidate
from stewardship.services.sync import candidates_sync
from tests.factories import TEST_ACTOR, ingest

CANDIDATES = "/api/v1/candidates/"

HELENE = {
    "civility": "Mme", "first_name": "Hélène", "last_name": "Lefèvre", "birth_date": "1984-03-12",
    "email": "helene.lefevre@orange.fr", "phone": "", "mobile": "06 12 34 56 78",
    "address_line1": "12 bis av. Victor Hugo", "address_line2": "", "postcode": "75016",
    "city": "Paris", "country": "FR",
}
# Hélène as the e-shop knows her: a typo in the name, another e-mail and address.
HELENE_ESHOP = {
    **HELENE, "last_name": "Lefevbre", "email": "h.lefevre@gmail.com",
    "address_line1": "3 rue des Lilas", "postcode": "69003", "city": "Lyon",
}
JEAN_PIERRE = {
    "civility": "M.", "first_name": "Jean-Pierre", "last_name": "Martin",
    "birth_date": "1971-11-02", "email": "jp.martin@free.fr", "phone": "",
    "mobile": "+33 7 81 22 33 44", "address_line1": "3 rue des Lilas", "address_line2": "",
    "postcode": "69003", "city": "Lyon", "country": "FR",
}
JEAN_PIERRE_ESHOP = {**JEAN_PIERRE, "first_name": "J.-Pierre", "email": "jpm@laposte.net"}

EXPLANATION = {
    "link_guard": None,
    "probability": 0.8,
    "total_weight": 2.0,
    "prior_weight": -11.0,  # + the contributions = total_weight
    "contributions": [
        {"comparison": "first_name", "level": "exact", "weight": 4.0},
        {"comparison": "last_name", "level": "jaro_winkler_high", "weight": 3.5},
        {"comparison": "birth_date", "level": "exact", "weight": 9.0},
        {"comparison": "email", "level": "different", "weight": -2.5},
        {"comparison": "phone", "level": None, "weight": 0.0},
        {"comparison": "address", "level": "different", "weight": -1.0},
    ],
}
SENTENCE_EN = (
    "Same birth date, same first name, close last name, different e-mails, different addresses"
)


def record(source, external_id: str, values: Mapping[str, Any]) -> SourceRecord:
    """One record through the real ingestion path: a new customer of its own."""
    (stored,) = ingest(source, [{"id": external_id, "updated": "2024-05-03 10:00", **values}])
    return stored


def open_candidate(a: SourceRecord, b: SourceRecord, *, probability: float = 0.8) -> MergeCandidate:
    """The candidate matching would store for this grey-zone pair, in the departments of
    the sources of both customers."""
    first, second = sorted((a, b), key=lambda r: r.pk)
    customers = SourceRecord.objects.filter(pk__in=(a.pk, b.pk)).values("customer_id")
    source_ids = frozenset(
        SourceRecord.objects.filter(customer_id__in=customers).values_list("source_id", flat=True)
    )
    candidates_sync(
        record_ids=[first.pk, second.pk],
        review_pairs=[ReviewPair(
            record_a=first.pk, record_b=second.pk, probability=probability,
            weight=EXPLANATION["total_weight"], levels="f3,l2,b3,e0,a0",
            explanation={**EXPLANATION, "probability": probability}, source_ids=source_ids,
        )],
        acting_user=TEST_ACTOR,
    )
    return MergeCandidate.objects.get(record_a=first, record_b=second)


def client_as(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@dataclass
class World:
    """Hélène in the CRM and the e-shop (candidate `marketing`: marketing + ecommerce),
    Jean-Pierre in customer service and the e-shop (candidate `service`:
    service-client + ecommerce)."""

    records: dict[str, SourceRecord]
    candidates: dict[str, MergeCandidate]


def build_world(sources: Mapping[str, Any]) -> World:
    records = {
        "crm": record(sources["crm"], "CRM-1", HELENE),
        "eshop_helene": record(sources["eshop"], "E-1", HELENE_ESHOP),
        "service_client": record(sources["service_client"], "SC-1", JEAN_PIERRE),
        "eshop_jean_pierre": record(sources["eshop"], "E-2", JEAN_PIERRE_ESHOP),
    }
    return World(
        records=records,
        candidates={
            "marketing": open_candidate(records["crm"], records["eshop_helene"], probability=0.82),
            "service": open_candidate(
                records["service_client"], records["eshop_jean_pierre"], probability=0.74
            ),
        },
    )
