"""Matching against the database, with a fixed model so that scores are known.

The default model (m = 0.90 and u = 0.001 on exact agreement, prior 1e-4) is frozen:
two exact identifiers make a link (p > 0.99), a name and a town alone only a
candidate. Batch runs still detect generic values.
"""

from __future__ import annotations

import pytest

from rcu.services.matching.batch import match_run_create
from rcu.services.matching.realtime import records_match
from tests.factories import TEST_ACTOR, frozen_default_model


@pytest.fixture(autouse=True)
def default_model_frozen(db):
    frozen_default_model()


@pytest.fixture
def run_match(django_capture_on_commit_callbacks):
    """Run a batch match to the end: its tasks are queued on commit, run eagerly here."""

    def run(*, full: bool = False, partitions: int | None = 4):
        with django_capture_on_commit_callbacks(execute=True):
            run = match_run_create(full=full, partitions=partitions, acting_user=TEST_ACTOR)
        run.refresh_from_db()
        assert run.status == "succeeded", run.message
        return run

    return run


def match_now(records):
    return records_match(record_ids=[r.pk for r in records])


def partition(records) -> set[frozenset[str]]:
    """The golden customers as sets of "source:external id"."""
    from collections import defaultdict

    from rcu.models import SourceRecord

    groups = defaultdict(set)
    for code, external_id, customer_id in SourceRecord.objects.filter(
        pk__in=[r.pk for r in records]
    ).values_list("source__code", "external_id", "customer_id"):
        groups[customer_id].add(f"{code}:{external_id}")
    return {frozenset(g) for g in groups.values()}
