"""Every writer at once on the same customers, each on its own connection: merges,
rejections, detachments, undos, file imports, API updates and batch matching runs
(pending, now and then full) for a fixed time. The
lock order (`rcu.services.locks`) must give 0 deadlocks, 0 unexpected errors, the
invariants, and no source update lost; writers on distinct customers must not
wait for each other; and writers of the same match pairs wait in one order."""

from __future__ import annotations

import csv
import itertools
import os
import random
import threading
import time
import traceback
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import close_old_connections, connection, transaction

from rcu.engine.scoring import PairScore
from rcu.models import Customer, ImportJob, MatchPair, MatchRun, SourceRecord
from rcu.roles import Role
from rcu.services.changes import SystemActor
from rcu.services.customers import customers_recompute
from rcu.services.imports import import_job_create, import_job_run
from rcu.services.ingestion import record_ingest
from rcu.services.matching.batch import match_run_create, match_run_prepare
from rcu.services.matching.keys import pending_queue
from rcu.services.matching.pairs import match_pairs_replace, match_pairs_store
from stewardship.models import Decision, MergeCandidate
from stewardship.services.errors import DecisionConflict, DecisionInvalid
from stewardship.services.merge import candidate_merge, customers_merge
from stewardship.services.reject import candidate_reject
from stewardship.services.unmerge import decision_undo, records_detach
from tests.factories import PLAIN_FIELDS, TEST_ACTOR, frozen_default_model, ingest, make_user
from tests.stewardship.ledger import (
    assert_every_record_in_exactly_one_active_customer,
    assert_source_stats_match_the_records,
    one,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="row locks and concurrent connections need PostgreSQL (DATABASE_URL)",
    ),
    pytest.mark.django_db(transaction=True),
]

SECONDS = float(os.environ.get("RCU_LOCK_ORDER_TEST_SECONDS", "12"))
GRACE_SECONDS = 30
PEOPLE = 6
# A steward's refusal ("merged meanwhile", "rejected already") is an answer, not an error.
REFUSALS = (DecisionConflict, DecisionInvalid)
DEADLOCK = "40P01"
# One batch run in this many is a full one (a full run rescores the whole base).
FULL_RUN_EVERY = 8
# A run that waits for another is started when that one ends: within seconds.
RUN_WAIT_SECONDS = 30


def person(n: int) -> dict:
    return {"first_name": f"Hélène{n}", "last_name": "Lefèvre", "city": "Paris",
            "birth_date": f"1980-01-{n + 1:02d}"}


@dataclass
class Write:
    """One source update: `token` is written in `address_line2` of one record."""

    source: str
    external_id: str
    token: str
    started: float
    ended: float = 0.0
    ok: bool = False


@dataclass
class Log:
    writes: list[Write] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    deadlocks: int = 0
    counts: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def done(self, operation: str, *, refused: bool = False) -> None:
        self.counts[operation][1 if refused else 0] += 1


def deadlocks_reported() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def _is_deadlock(error: BaseException) -> bool:
    while error is not None:
        if getattr(error, "sqlstate", None) == DEADLOCK:
            return True
        error = error.__cause__ or error.__context__
    return False


class Writers:
    """The writers of the test: each step picks its rows at random among a few people,
    so that every writer keeps touching the customers the others touch."""

    def __init__(self, *, sources, records, steward, tmp_path: Path, log: Log):
        self.sources = sources  # code → SourceSystem
        self.records = records  # (code, external id) → person number
        self.steward = steward
        self.tmp_path = tmp_path
        self.log = log
        self.sequence = 0
        self.lock = threading.Lock()

    def token(self) -> str:
        with self.lock:
            self.sequence += 1
            return f"Bâtiment T{self.sequence}"

    def _payload(self, key, token: str) -> dict:
        return {"id": key[1], **person(self.records[key]), "address_line2": token}

    def api_update(self, rng: random.Random) -> None:
        key = rng.choice(sorted(self.records))
        write = Write(*key, token=self.token(), started=time.monotonic())
        self.log.writes.append(write)
        record_ingest(source=self.sources[key[0]], payload=self._payload(key, write.token),
                      acting_user=self.steward)
        write.ended, write.ok = time.monotonic(), True

    def file_import(self, rng: random.Random) -> None:
        code = rng.choice(sorted(self.sources))
        keys = rng.sample(sorted(k for k in self.records if k[0] == code), 3)
        writes = [Write(*key, token=self.token(), started=time.monotonic()) for key in keys]
        self.log.writes.extend(writes)
        path = self.tmp_path / f"{code}-{writes[0].token.split('T')[-1]}.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=["id", *PLAIN_FIELDS, "updated"], restval="")
            writer.writeheader()
            for key, write in zip(keys, writes, strict=True):
                writer.writerow(self._payload(key, write.token))
        job, _ = import_job_create(source=self.sources[code], path=path, acting_user=self.steward)
        job = import_job_run(job=job,  match_after=False)
        if job.status != ImportJob.Status.SUCCEEDED:
            raise AssertionError(f"import ended {job.status}: {job.message}")
        for write in writes:
            write.ended, write.ok = time.monotonic(), True

    def _two_customers(self, rng: random.Random) -> list[int]:
        ids = list(Customer.objects.filter(
            merged_into__isnull=True, records__isnull=False
        ).values_list("pk", flat=True).distinct())
        return rng.sample(ids, 2) if len(ids) >= 2 else []

    def merge(self, rng: random.Random) -> None:
        if rng.random() < 0.5:
            candidate = MergeCandidate.objects.open().order_by("?").first()
            if candidate is not None:
                candidate_merge(candidate_id=candidate.pk, acting_user=self.steward)
                return
        customers = self._two_customers(rng)
        if customers:
            customers_merge(customer_ids=customers, acting_user=self.steward)

    def reject(self, rng: random.Random) -> None:
        candidate = MergeCandidate.objects.open().order_by("?").first()
        if candidate is None:  # propose two records of different customers again
            a, b = sorted(rng.sample(sorted(SourceRecord.objects.values_list("pk", flat=True)), 2))
            candidate, _ = MergeCandidate.objects.get_or_create(
                record_a_id=a, record_b_id=b,
                defaults={"probability": 0.8, "weight": 2.0, "levels": "", "explanation": {}},
            )
        candidate_reject(candidate_id=candidate.pk, acting_user=self.steward)

    def detach(self, rng: random.Random) -> None:
        rows = list(SourceRecord.objects.values_list("customer_id", "pk"))
        by_customer: dict[int, list[int]] = defaultdict(list)
        for customer_id, pk in rows:
            by_customer[customer_id].append(pk)
        shared = [c for c, records in by_customer.items() if len(records) >= 2]
        if shared:
            customer_id = rng.choice(shared)
            records_detach(customer_id=customer_id, record_ids=[rng.choice(by_customer[customer_id])],
                           acting_user=self.steward)

    def undo(self, rng: random.Random) -> None:
        decision = (
            Decision.objects.filter(undone_at__isnull=True, kind__in=["merge", "detach", "reject"])
            .order_by("?").first()
        )
        if decision is not None:
            decision_undo(decision_id=decision.pk, acting_user=self.steward)

    def batch_run(self, rng: random.Random) -> None:
        """A run as `manage.py match` starts one and waits for: the records waiting
        (queued by the other writers' changes and decisions), now and then the whole
        base. Tasks are eager: a run's steps run one after the other in the thread that
        starts it, or, when it waits for a run under way, in the thread ending that run."""
        full = rng.randrange(FULL_RUN_EVERY) == 0
        run = match_run_create(full=full, acting_user=SystemActor(job="match command"))
        ended = (MatchRun.Status.SUCCEEDED, MatchRun.Status.FAILED)
        give_up = time.monotonic() + RUN_WAIT_SECONDS
        run.refresh_from_db()
        while run.status not in ended and time.monotonic() < give_up:
            time.sleep(0.05)
            run.refresh_from_db()
        if run.status != MatchRun.Status.SUCCEEDED:
            raise AssertionError(f"run #{run.pk} {run.status}: {run.message}")
        self.log.done("full_run" if run.full else "pending_run")

    def run(self, name: str, steps, seed: int, deadline: float) -> None:
        rng = random.Random(seed)
        succeeded: set[str] = set()
        wanted = {step.__name__ for step in steps}
        try:
            # On a loaded machine a writer may only meet refusals by the deadline: it
            # goes on a little until each of its steps has done real work once.
            while time.monotonic() < deadline or (
                succeeded != wanted and time.monotonic() < deadline + GRACE_SECONDS
            ):
                step = rng.choice(steps)
                try:
                    step(rng)
                    succeeded.add(step.__name__)
                except REFUSALS:
                    self.log.done(step.__name__, refused=True)
                except Exception as error:
                    if _is_deadlock(error):
                        self.log.deadlocks += 1
                    self.log.errors.append(f"{name}/{step.__name__}: {traceback.format_exc()}")
                else:
                    self.log.done(step.__name__)
        finally:
            connection.close()


def assert_golden_values_follow_the_records() -> None:
    active = list(Customer.objects.filter(merged_into__isnull=True).values_list("pk", flat=True))
    with transaction.atomic():
        changed = customers_recompute(customer_ids=active, acting_user=TEST_ACTOR)
        transaction.set_rollback(True)
    assert changed == 0, f"{changed} customers hold golden values their records do not give"


def assert_no_source_update_lost(writes: list[Write]) -> None:
    """Each record ends with the value of the successful write committed last; every
    successful write is in its history, in an order its calls allow; no failed write is."""
    by_record: dict[tuple[str, str], list[Write]] = defaultdict(list)
    for write in writes:
        by_record[(write.source, write.external_id)].append(write)
    checked = 0
    for (code, external_id), record_writes in by_record.items():
        record = SourceRecord.objects.get(source__code=code, external_id=external_id)
        history = [
            row.raw.get("address_line2", "")
            for row in record.history.order_by("history_id").only("raw")
        ]
        first_seen: dict[str, int] = {}
        for position, token in enumerate(history):
            first_seen.setdefault(token, position)
        # A value comes back only if written again: tokens are unique, so never.
        changes = [t for i, t in enumerate(history) if i == 0 or t != history[i - 1]]
        assert len(changes) == len(set(changes)), f"{code}:{external_id} went back: {changes}"
        succeeded = [w for w in record_writes if w.ok]
        for write in record_writes:
            assert (write.token in first_seen) == write.ok, (code, external_id, write)
        for earlier in succeeded:
            for later in succeeded:
                if earlier.ended < later.started:
                    assert first_seen[earlier.token] < first_seen[later.token], (earlier, later)
        if succeeded:
            last = max(succeeded, key=lambda w: first_seen[w.token])
            assert record.raw.get("address_line2") == last.token, (code, external_id)
            checked += 1
    assert checked, "no record was updated: the test proved nothing"


def test_every_writer_at_once_on_the_same_customers_never_deadlocks_nor_loses_an_update(
    crm, eshop, service_client_source, tmp_path
):
    frozen_default_model()
    # Of every department: its undos may touch any customer (stewardship.selectors.access).
    steward = make_user(
        "steward", roles=[Role.STEWARD], departments=["marketing", "service-client", "ecommerce"]
    )
    sources = {s.code: s for s in (crm, eshop, service_client_source)}
    records = {}
    for n in range(PEOPLE):
        for code in sources:
            one(sources[code], f"{code}-{n}", person(n))
            records[(code, f"{code}-{n}")] = n
    ids = sorted(SourceRecord.objects.values_list("pk", flat=True))
    for a, b in itertools.pairwise(ids):  # a queue of candidates to decide
        MergeCandidate.objects.create(record_a_id=a, record_b_id=b, probability=0.8, weight=2.0,
                                      levels="", explanation={})
    log = Log()
    writers = Writers(sources=sources, records=records, steward=steward, tmp_path=tmp_path,
                      log=log)
    deadlocks_before = deadlocks_reported()
    deadline = time.monotonic() + SECONDS
    plans = [
        ("api-1", [writers.api_update]),
        ("api-2", [writers.api_update]),
        ("import", [writers.file_import]),
        ("merge", [writers.merge, writers.merge, writers.detach]),
        ("reject", [writers.reject, writers.undo]),
        ("undo", [writers.undo, writers.merge]),
        ("batch", [writers.batch_run]),
    ]
    threads = [
        threading.Thread(target=writers.run, args=(name, steps, seed, deadline), daemon=True)
        for seed, (name, steps) in enumerate(plans)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SECONDS + GRACE_SECONDS + 60)
    assert not any(t.is_alive() for t in threads), "a writer never finished: stuck on a lock"
    close_old_connections()
    time.sleep(1)  # the statistics of closed connections reach pg_stat_database

    print(f"done, refused: {dict(log.counts)}; writes: {sum(w.ok for w in log.writes)}")
    assert log.errors == [], "\n".join(log.errors[:5])
    assert log.deadlocks == 0
    assert deadlocks_reported() - deadlocks_before == 0
    done = {operation: counts[0] for operation, counts in log.counts.items()}
    for operation in ("api_update", "file_import", "merge", "reject", "undo", "detach",
                      "batch_run"):
        assert done.get(operation, 0) > 0, f"{operation} never succeeded: {dict(log.counts)}"
    # Every run asked for (by the batch writer, or queued by a decision) ended well.
    unfinished = list(MatchRun.objects.exclude(status=MatchRun.Status.SUCCEEDED)
                      .values_list("pk", "status", "message"))
    assert unfinished == [], unfinished
    assert_every_record_in_exactly_one_active_customer()
    assert_golden_values_follow_the_records()
    assert_source_stats_match_the_records()
    assert_no_source_update_lost(log.writes)


def test_writers_on_distinct_customers_do_not_wait_for_each_other(crm, eshop):
    frozen_default_model()
    # Of every department: its undos may touch any customer (stewardship.selectors.access).
    steward = make_user(
        "steward", roles=[Role.STEWARD], departments=["marketing", "service-client", "ecommerce"]
    )
    a = one(crm, "A", person(1))
    b = one(eshop, "B", person(1))
    c = one(crm, "C", {"first_name": "Marc", "last_name": "Durand", "city": "Lyon"})
    d = one(crm, "D", {"first_name": "Léa", "last_name": "Martin", "city": "Lille"})
    e = one(eshop, "E", {"first_name": "Léa", "last_name": "Martin", "city": "Lille"})
    holding, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def merge_a_and_b_and_hold() -> None:
        try:
            with transaction.atomic():
                customers_merge(customer_ids=[a.customer_id, b.customer_id], acting_user=steward)
                holding.set()
                release.wait(30)
        except BaseException as error:
            failures.append(error)
            holding.set()
        finally:
            connection.close()

    holder = threading.Thread(target=merge_a_and_b_and_hold, daemon=True)
    holder.start()
    assert holding.wait(10)
    finished: dict[str, float] = {}

    def other_writer(name: str, call) -> threading.Thread:
        def run() -> None:
            try:
                call()
                finished[name] = time.monotonic()
            except BaseException as error:
                failures.append(error)
            finally:
                connection.close()
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    try:
        others = [
            other_writer("api update of C", lambda: record_ingest(
                source=crm, payload={"id": "C", "first_name": "Marc", "last_name": "Durand",
                                     "city": "Lyon", "address_line2": "Bâtiment B"},
                acting_user=steward)),
            other_writer("merge of D and E", lambda: customers_merge(
                customer_ids=[d.customer_id, e.customer_id], acting_user=steward)),
        ]
        for thread in others:
            thread.join(10)
        assert holder.is_alive(), "the first merge should still hold its transaction open"
        assert set(finished) == {"api update of C", "merge of D and E"}, (finished, failures)
    finally:
        release.set()
        holder.join(10)
        close_old_connections()
    assert not failures, failures
    assert SourceRecord.objects.get(pk=c.pk).raw["address_line2"] == "Bâtiment B"
    assert len({r.customer_id for r in SourceRecord.objects.filter(pk__in=[a.pk, b.pk])}) == 1


@pytest.mark.parametrize("pairs", [60, 435], ids=["values", "copy"])
def test_two_writers_storing_the_same_pairs_in_opposite_orders_never_deadlock(crm, pairs):
    """A batch partition and a real-time ingest (or two partitions whose blocks share a
    pair) may store the same pairs at once, each scored in its own order: they must wait
    for each other in one order."""
    records = ingest(crm, [{"id": f"P{n}", **person(n % 28)} for n in range(30)])
    ids = sorted(r.pk for r in records)
    scored = [PairScore(a=a, b=b, levels=(), weight=1.0, probability=0.6)
              for a, b in itertools.combinations(ids, 2)][:pairs]
    failures: list[str] = []

    def store(order, partition, start: threading.Barrier) -> None:
        try:
            with transaction.atomic():
                start.wait(10)
                match_pairs_store(order, partition=partition)
        except Exception as error:
            failures.append(f"{'deadlock' if _is_deadlock(error) else 'error'}: {error!r}")
        finally:
            connection.close()

    for _ in range(8):
        MatchPair.objects.all().delete()
        start = threading.Barrier(2)
        writers = [  # a partition keeps the pairs there, an ingest replaces them
            threading.Thread(target=store, args=(scored, 0, start)),
            threading.Thread(target=store, args=(scored[::-1], None, start)),
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join(30)
        assert failures == []
        assert MatchPair.objects.count() == len(scored)


def test_an_ingest_replacing_pairs_and_a_partition_storing_them_never_deadlock(crm):
    """An ingest replaces the pairs of its record while a batch partition stores
    pairs of the same record: the partition stores a new pair `n` then reaches a stale
    one `e` the ingest drops. Had the ingest dropped `e` first, it would then wait on
    the partition's `n` while the partition waits on `e`: a cycle. It stores `n` first,
    so the partition waits for it once, in pair order."""
    records = ingest(crm, [{"id": f"R{n}", **person(n)} for n in range(3)])
    low, middle, high = sorted(r.pk for r in records)
    MatchPair.objects.all().delete()
    stale = PairScore(a=middle, b=high, levels=(), weight=1.0, probability=0.6)
    match_pairs_store([stale])
    fresh = PairScore(a=low, b=middle, levels=(), weight=3.0, probability=0.9)
    wrote_pairs, partition_waits = threading.Event(), threading.Event()
    partition_pid: list[int] = []
    failures: list[str] = []

    def pause_after_first_pair_write(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "rcu_matchpair" in sql and sql.lstrip().startswith(("INSERT", "DELETE")) \
                and not wrote_pairs.is_set():
            wrote_pairs.set()
            partition_waits.wait(20)
        return result

    def ingest_replacing_the_pairs_of_middle() -> None:
        try:
            with transaction.atomic(), connection.execute_wrapper(pause_after_first_pair_write):
                match_pairs_replace(record_ids=[middle], pairs=[fresh])
        except Exception as error:
            failures.append(f"ingest {'deadlock' if _is_deadlock(error) else 'error'}: {error!r}")
        finally:
            wrote_pairs.set()
            connection.close()

    def partition_storing_both() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_backend_pid()")
                    partition_pid.append(cursor.fetchone()[0])
                match_pairs_store(
                    [PairScore(a=low, b=middle, levels=(), weight=1.0, probability=0.6), stale],
                    partition=0,
                )
        except Exception as error:
            failures.append(f"partition {'deadlock' if _is_deadlock(error) else 'error'}: {error!r}")
        finally:
            connection.close()

    ingesting = threading.Thread(target=ingest_replacing_the_pairs_of_middle, daemon=True)
    ingesting.start()
    assert wrote_pairs.wait(10)
    storing = threading.Thread(target=partition_storing_both, daemon=True)
    storing.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not partition_waits.is_set():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    partition_pid[:1] or [0],
                )
                row = cursor.fetchone()
            if row and row[0] == "Lock":
                partition_waits.set()
            time.sleep(0.05)
        assert partition_waits.is_set(), "the partition never waited on the ingest"
    finally:
        partition_waits.set()
        ingesting.join(30)
        storing.join(30)
        close_old_connections()
    assert failures == []
    stored = {(p.record_a_id, p.record_b_id): p.weight for p in MatchPair.objects.all()}
    assert stored[(low, middle)] == 3.0  # the ingest's score, kept by the partition


def test_a_pending_run_does_not_wait_for_the_pairs_an_ingest_is_replacing(crm, eshop):
    """A run's first step drops the pairs of the records it claimed while an ingest
    may be replacing some of them under its customer's lock: waiting there could close
    a cycle (the ingest waiting on pairs the run drops), so the run leaves them to it."""
    frozen_default_model()
    r = one(crm, "R", person(1))
    x = one(eshop, "X", person(1))
    MatchPair.objects.all().delete()
    a, b = sorted([r.pk, x.pk])
    match_pairs_store([PairScore(a=a, b=b, levels=(), weight=1.0, probability=0.6)])
    pending_queue([r.pk])
    run = MatchRun.objects.create(full=False, partitions=1)
    replacing, release, prepared = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def ingest_replacing_the_pairs_of_x() -> None:
        try:
            with transaction.atomic():
                match_pairs_replace(record_ids=[x.pk], pairs=[])
                replacing.set()
                release.wait(30)
        except BaseException as error:
            failures.append(error)
            replacing.set()
        finally:
            connection.close()

    def prepare() -> None:
        try:
            with transaction.atomic():
                match_run_prepare(run=run)
                prepared.set()
                release.wait(30)  # its partitions are queued on commit
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=ingest_replacing_the_pairs_of_x, daemon=True)
    holder.start()
    assert replacing.wait(10)
    preparer = threading.Thread(target=prepare, daemon=True)
    preparer.start()
    try:
        assert prepared.wait(10), "the run's first step waited for the ingest"
    finally:
        release.set()
        holder.join(30)
        preparer.join(60)
        close_old_connections()
    assert not failures, failures
    run.refresh_from_db()
    assert run.status == MatchRun.Status.SUCCEEDED, run.message
