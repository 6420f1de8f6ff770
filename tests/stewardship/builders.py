"""Builders of merge candidates for the workspace tests: real records, a stored candidate."""

from __future__ import annotations

from rcu.models import SourceRecord
from stewardship.models import MergeCandidate
from tests.factories import ingest

EXPLANATION = {
    "link_guard": "no_identifying_evidence",
    "probability": 0.83,
    "total_weight": 2.3,
    "prior_weight": -9.0,
    "contributions": [
        {"comparison": "first_name", "level": "exact", "weight": 3.1},
        {"comparison": "last_name", "level": "jaro_winkler_high", "weight": 4.0},
        {"comparison": "birth_date", "level": None, "weight": 0.0},
        {"comparison": "email", "level": "exact", "weight": 7.2},
        {"comparison": "address", "level": "different", "weight": -3.0},
    ],
}


def person(external_id: str, **values) -> dict:
    row = {
        "id": external_id, "first_name": "Hélène", "last_name": "Lefèvre",
        "birth_date": "", "email": "helene.lefevre@orange.fr", "phone": "",
        "mobile": "", "address_line1": "12 rue de la Paix", "address_line2": "",
        "postcode": "75002", "city": "Paris", "country": "FR",
    }
    row.update(values)
    return row


def candidate_between(source_a, row_a: dict, source_b, row_b: dict, *,
                      probability: float = 0.83) -> MergeCandidate:
    """Two records in two customers and an open candidate between them, in the
    departments of both sources."""
    (a,) = ingest(source_a, [row_a])
    (b,) = ingest(source_b, [row_b])
    a, b = sorted([a, b], key=lambda r: r.pk)
    candidate = MergeCandidate.objects.create(
        record_a=a, record_b=b, probability=probability, weight=2.3, levels="",
        explanation=EXPLANATION,
    )
    candidate.departments.set(
        {r.source.department_id for r in SourceRecord.objects.filter(pk__in=[a.pk, b.pk])
         .select_related("source")}
    )
    return candidate
