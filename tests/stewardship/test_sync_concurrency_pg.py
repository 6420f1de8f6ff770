"""Two writers proposing the same new pair at once (two real-time ingests whose
records share a block): the later one refreshes the candidate the first created
instead of failing on the unique pair."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from rcu.hooks import ReviewPair
from rcu.services.changes import REALTIME_MATCHING
from stewardship.models import MergeCandidate
from stewardship.services.sync import candidates_sync
from tests.stewardship.ledger import one

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="concurrent connections need PostgreSQL (DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]


def proposal(a: int, b: int, *, probability: float, sources: frozenset[int]) -> ReviewPair:
    return ReviewPair(record_a=a, record_b=b, probability=probability, weight=1.0,
                      levels="3", explanation={"total": 1.0}, source_ids=sources)


@pytest.mark.parametrize("many", [False, True], ids=["values", "copy"])
def test_a_pair_created_meanwhile_by_another_writer_is_refreshed_not_inserted_twice(
    crm, eshop, many, settings
):
    if many:  # the staging-table path of large batches
        settings.RCU_COPY_MIN_ROWS = 1
    a = one(crm, "C1", {"first_name": "Hélène", "last_name": "Lefèvre"})
    b = one(eshop, "E1", {"first_name": "Helene", "last_name": "Lefevre"})
    sources = frozenset({crm.pk, eshop.pk})
    first_inserted, second_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                candidates_sync(record_ids=[a.pk], review_pairs=[
                    proposal(a.pk, b.pk, probability=0.6, sources=sources)],
                    acting_user=REALTIME_MATCHING)
                first_inserted.set()
                # The second writer looked already and now waits on our uncommitted row.
                second_done.wait(2)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_inserted.wait(10)
            candidates_sync(record_ids=[b.pk], review_pairs=[
                proposal(a.pk, b.pk, probability=0.7, sources=sources)],
                acting_user=REALTIME_MATCHING)
        except BaseException as error:
            errors.append(error)
        finally:
            second_done.set()
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    close_old_connections()

    assert errors == []
    candidate = MergeCandidate.objects.get(record_a=a, record_b=b)
    assert candidate.status == MergeCandidate.Status.OPEN
    assert candidate.probability == 0.7  # the later proposal wins
    assert sorted(candidate.departments.values_list("pk", flat=True)) == sorted(
        {crm.department_id, eshop.department_id})
    assert [h.history_type for h in candidate.history.order_by("history_id")] == ["+", "~"]
