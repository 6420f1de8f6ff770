"""Any sequence of imports, ingests, runs and steward decisions leaves what a full run
would: the stored pairs and the golden customers are those `match --full` gives on the
same records and decisions, every record is in exactly one active customer, and a run
leaves nothing pending.

Hypothesis drives sequences of real operations through the services: file imports
(which queue a pending run), re-imports with changed and unchanged rows from several
sources, single-record ingests matched at once, pending and full batch runs, merges,
rejects, undos and deletions at the source.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import TestCase
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from rcu.models import MatchSettings, PendingMatch
from rcu.roles import Role
from rcu.services.imports import import_job_submit
from rcu.services.ingestion import record_ingest
from rcu.services.matching.batch import match_run_create
from rcu.services.source_deletions import records_delete_at_source
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict, DecisionInvalid
from stewardship.services.merge import candidate_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo
from tests.factories import PLAIN_FIELDS, make_source, make_user
from tests.rcu.matching_db.invariants import (
    assert_every_record_in_one_active_customer,
    matching_state,
    matching_state_after_full_run,
)

pytestmark = pytest.mark.django_db(transaction=False)

# People as several systems know them: exact copies, typos, missing contacts, another
# address; a household sharing an address and a landline; namesakes in other towns.
PEOPLE = [
    {"first_name": "Jeanne", "last_name": "Lefèvre", "birth_date": "1980-04-03",
     "email": "jeanne.lefevre@orange.fr", "mobile": "06 12 34 56 78",
     "address_line1": "12 rue de la Paix", "postcode": "75002", "city": "Paris"},
    {"first_name": "Paul", "last_name": "Lefèvre", "birth_date": "1978-11-21",
     "phone": "01 42 00 00 01", "address_line1": "12 rue de la Paix", "postcode": "75002",
     "city": "Paris"},
    {"first_name": "Marc", "last_name": "Dubois", "birth_date": "1965-07-14",
     "email": "marc.dubois@free.fr", "postcode": "33000", "city": "Bordeaux"},
    {"first_name": "Marc", "last_name": "Dubois", "birth_date": "1971-02-02",
     "postcode": "69003", "city": "Lyon", "mobile": "07 70 11 22 33"},
    {"first_name": "Aïcha", "last_name": "Benali", "birth_date": "1990-12-30",
     "email": "a.benali@gmail.com", "address_line1": "3 avenue Jean Jaurès",
     "postcode": "13001", "city": "Marseille"},
]


def variant(person: dict, kind: int) -> dict:
    """One way a system may hold this person."""
    row = dict(person)
    if kind == 1:  # typo in the last name, accents lost
        row["last_name"] = row["last_name"].replace("è", "e").replace("ï", "i")[:-1] + "x"
    elif kind == 2:  # no contact fields at all
        for field in ("email", "mobile", "phone"):
            row.pop(field, None)
    elif kind == 3:  # names swapped and upper case, another town
        row["first_name"], row["last_name"] = row["last_name"].upper(), row["first_name"].upper()
        row.update(postcode="59000", city="Lille", address_line1="")
    elif kind == 4:  # only a name and a town
        row = {k: row[k] for k in ("first_name", "last_name", "postcode", "city")}
    return row


SOURCES = ("crm", "eshop", "store")
rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 7),  # external id: few, so that rows come back changed or not
        st.integers(0, len(PEOPLE) - 1),
        st.integers(0, 4),
    ),
    min_size=1, max_size=4,
)


def csv_file(rows: list[tuple[int, int, int]]) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", *PLAIN_FIELDS, "updated"], extrasaction="ignore")
    writer.writeheader()
    seen = set()
    for external, person, kind in rows:
        if external in seen:  # one row per id in a file
            continue
        seen.add(external)
        writer.writerow({"id": f"R{external}", **variant(PEOPLE[person], kind), "updated": ""})
    return SimpleUploadedFile("rows.csv", out.getvalue().encode(), content_type="text/csv")


class LivingHub(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        from rcu.services.matching.context import _cache

        _cache.clear()
        self.sources = {
            code: make_source(code, department=f"dept-{code}", trust_rank=i + 1)
            for i, code in enumerate(SOURCES)
        }
        self.admin = make_user("admin", roles=[Role.ADMIN], is_staff=True)

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def _run(self, *, full: bool):
        with TestCase.captureOnCommitCallbacks(execute=True):
            run = match_run_create(full=full, partitions=3, acting_user=self.admin)
        run.refresh_from_db()
        assert run.status == "succeeded", run.message
        assert not PendingMatch.objects.exists(), "a run left records pending"

    @initialize(rows=rows_strategy, small_blocks=st.booleans())
    def first_import(self, rows, small_blocks):
        """With small blocks, blocks become oversized and come back as records come and go."""
        if small_blocks:
            MatchSettings.objects.filter(pk=1).update(max_block_size=3)
        self.import_file(source="crm", rows=rows)

    @rule(source=st.sampled_from(SOURCES), rows=rows_strategy)
    def import_file(self, source, rows):
        """The upload path: a file, then the pending run it queues."""
        with TestCase.captureOnCommitCallbacks(execute=True):
            job = import_job_submit(
                source=self.sources[source], acting_user=self.admin, upload=csv_file(rows)
            )
        job.refresh_from_db()
        assert job.status == "succeeded", job.message
        assert not PendingMatch.objects.exists(), "the import's run left records pending"
        self.check_full_run_changes_nothing()

    @rule(source=st.sampled_from(SOURCES), row=rows_strategy.map(lambda rows: rows[0]))
    def ingest_one(self, source, row):
        """The API path: one record, matched at once."""
        external, person, kind = row
        record_ingest(
            source=self.sources[source], acting_user=self.admin,
            payload={"id": f"R{external}", **variant(PEOPLE[person], kind), "updated": ""},
        )
        self.check_full_run_changes_nothing()

    @rule(full=st.booleans())
    def batch_run(self, full):
        self._run(full=full)
        self.check_full_run_changes_nothing()

    @precondition(lambda self: MergeCandidate.objects.open().exists())
    @rule(data=st.data(), merge=st.booleans())
    def decide_a_candidate(self, data, merge):
        candidates = list(MergeCandidate.objects.open().order_by("pk").values_list("pk", flat=True))
        candidate_id = data.draw(st.sampled_from(candidates))
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):  # the run it asks for
                if merge:
                    candidate_merge(candidate_id=candidate_id, acting_user=self.admin)
                else:
                    candidate_reject(candidate_id=candidate_id, acting_user=self.admin)
        except (DecisionConflict, DecisionInvalid):
            return  # refused with a reason (e.g. a cannot-link inside): nothing changed
        self.check_full_run_changes_nothing()

    @precondition(lambda self: Decision.objects.in_effect().exists())
    @rule()
    def undo_the_last_decision(self):
        decision = Decision.objects.in_effect().order_by("-decided_at", "-pk").first()
        try:
            with TestCase.captureOnCommitCallbacks(execute=True):
                decision_undo(decision_id=decision.pk, acting_user=self.admin)
        except (DecisionConflict, DecisionInvalid):
            return
        self.check_full_run_changes_nothing()

    @rule(source=st.sampled_from(SOURCES), external=st.integers(0, 7))
    def delete_at_source(self, source, external):
        records_delete_at_source(
            source=self.sources[source], external_ids=[f"R{external}"],
            acting_user=self.admin, reason="deleted at the source",
        )
        self.check_full_run_changes_nothing()

    def check_full_run_changes_nothing(self):
        if PendingMatch.objects.exists():
            return  # records wait for the next run (blocks resized by an ingest)
        assert matching_state() == matching_state_after_full_run(self.admin)

    @invariant()
    def every_record_in_one_active_customer(self):
        assert_every_record_in_one_active_customer()


def test_any_sequence_of_operations_leaves_what_a_full_run_would():
    run_state_machine_as_test(
        LivingHub,
        settings=settings(
            max_examples=10, stateful_step_count=8, deadline=None, derandomize=True,
            suppress_health_check=list(HealthCheck),
        ),
    )
