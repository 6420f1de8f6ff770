"""Incremental matching: whatever came before, a pending run leaves what a full run would."""

from __future__ import annotations

import pytest

from rcu.models import MatchPair, PendingMatch
from tests.factories import ingest
from tests.rcu.matching_db.conftest import partition
from tests.rcu.matching_db.people import JEANNE, JEANNE_ESHOP, JEANNE_LANDLINE, MARC, PAUL

pytestmark = pytest.mark.django_db


def stored_pairs() -> set[tuple[int, int, float]]:
    return {(a, b, round(p, 9)) for a, b, p in MatchPair.objects.values_list(
        "record_a_id", "record_b_id", "probability")}


def test_a_second_import_into_a_matched_base_matches_without_error(crm, eshop, run_match):
    """Jeanne's two records already share blocks; her third record joins them."""
    first = ingest(crm, [{"id": "C1", **JEANNE}, {"id": "C2", **PAUL}]) + ingest(
        eshop, [{"id": "E1", **JEANNE_ESHOP}, {"id": "E2", **MARC}])
    run_match(full=True)
    second = ingest(eshop, [{"id": "E9", **JEANNE_LANDLINE}])
    run = run_match()
    assert not PendingMatch.objects.exists()
    after_pending = (partition(first + second), stored_pairs())
    run_match(full=True)
    assert (partition(first + second), stored_pairs()) == after_pending
    assert run.records == 1
