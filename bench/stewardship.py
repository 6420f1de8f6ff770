"""Stewardship at scale: the queue page at 1k and 100k open candidates, and merges.

    .venv/bin/python -m bench.stewardship [--candidates 100000] [--first 1000]
                                          [--requests 9] [--clusters 9]

DATABASE_URL names an empty PostgreSQL database (`bench.run` makes a scratch one and
drops it afterwards). The base is written directly, without matching: per candidate two
golden customers of one source record each, and the candidate between the two records,
all with their history rows, by COPY (`rcu.services.bulk_insert`). Another department
gets 10,000 candidates of its own, so that the queue has something to filter out.

Measured, with Django's test client in this process (server time: request in, response
out; production settings, DEBUG off), for a steward of the department:

- the queue page `/stewardship/queue/?department=<code>` (and a few variants: oldest
  first, one score band, a deep page) with `--first` then `--candidates` open
  candidates in the department: median of `--requests` requests after two untimed
  ones, and the queries of one request (`CaptureQueriesContext`) with their SQL time;
- the stewardship figures page `/stewardship/metrics/` at the same sizes;
- merging a cluster of 10 golden customers of one record each, linked by 9 open
  candidates (`stewardship.services.merge.customers_merge`, its own transaction, commit
  included): median over `--clusters` clusters.

The three slowest queries of the queue page at the largest size are explained
(`EXPLAIN (ANALYZE, BUFFERS)`) into .bench/stewardship-plans.txt. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".bench"
DEPARTMENT = "bench-queue"
OTHER_DEPARTMENT = "bench-other"
OTHER_CANDIDATES = 10_000
CLUSTER_SIZE = 10
CHUNK = 20_000
QUEUE_TARGET_MS = 150
MERGE_TARGET_MS = 200
FIRST_NAMES = ["Jean", "Marie", "Pierre", "Nathalie", "Luc", "Sophie", "Paul", "Julie",
               "Michel", "Isabelle", "André", "Camille", "Louis", "Chloé", "Hugo", "Léa"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit",
              "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Michel",
              "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier"]
CITIES = [("75011", "Paris"), ("69003", "Lyon"), ("13008", "Marseille"), ("31000", "Toulouse"),
          ("44000", "Nantes"), ("67000", "Strasbourg"), ("33000", "Bordeaux")]


def _source_config(code: str, department: str) -> dict:
    fields = ["first_name", "last_name", "email", "postcode", "city"]
    return {
        "code": code, "name": code.replace("_", " ").title(), "department": department,
        "trust_rank": 2, "default_country": "FR", "external_id": "id",
        "fields": [{"source": f, "attribute": f} for f in fields],
    }


class Writer:
    """Golden customers, their one record each, and candidates between them, by COPY."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.serial = 0

    def _person(self) -> dict:
        self.serial += 1
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        postcode, city = self.rng.choice(CITIES)
        email = f"{first.lower()}.{last.lower()}{self.serial}@exemple.fr"
        return {"first_name": first, "last_name": last.upper(), "email": email,
                "postcode": postcode, "city": city}

    def customers_with_records(self, *, source, count: int, now) -> list[int]:
        """`count` golden customers of one record each; returns the record ids, ascending."""
        from rcu.actors import SystemActor
        from rcu.ingestion import jsontext
        from rcu.models import Customer, SourceRecord
        from rcu.services.changes import rows_insert

        people = [self._person() for _ in range(count)]
        customer_ids = rows_insert(
            model=Customer,
            rows=[{
                "first_name": p["first_name"], "last_name": p["last_name"], "email": p["email"],
                "postcode": p["postcode"], "city": p["city"], "country": "FR",
                "first_name_key": p["first_name"].upper(), "last_name_key": p["last_name"],
            } for p in people],
            now=now, acting_user=SystemActor(job="bench"), reason="bench",
        )
        rows = []
        for person, customer_id in zip(people, customer_ids, strict=True):
            raw = {"id": f"B-{customer_id}", **person}
            rows.append({
                "source_id": source.pk, "external_id": raw["id"], "customer_id": customer_id,
                "raw": raw, "attributes": person, "keys": {}, "quality_flags": [],
                "business_ts": now,
                "payload_hash": hashlib.sha256(jsontext.dumps(raw)).hexdigest(),
            })
        return rows_insert(model=SourceRecord, rows=rows, now=now,
                                      acting_user=SystemActor(job="bench"), reason="bench")

    def candidates(self, *, pairs: list[tuple[int, int]], department_id: int, now) -> list[int]:
        """Open candidates between these record pairs (a < b), proposed over the last
        60 days, in one department."""
        from django.db import connection

        from rcu.actors import SystemActor
        from rcu.services.changes import rows_insert
        from stewardship.models import MergeCandidate

        rows = []
        for a, b in pairs:
            probability = round(self.rng.uniform(0.5, 0.99), 4)
            rows.append({
                "record_a_id": a, "record_b_id": b, "probability": probability,
                "weight": round((probability - 0.5) * 20, 3), "levels": "3-2-1-0-2",
                "explanation": {"prior": -4.2, "contributions": [
                    {"comparison": "last_name", "level": 3, "weight": 5.1},
                    {"comparison": "first_name", "level": 2, "weight": 2.4},
                    {"comparison": "email", "level": 0, "weight": -1.3},
                ]},
                "status": MergeCandidate.Status.OPEN,
                "created_at": now - timedelta(seconds=self.rng.uniform(0, 60 * 86400)),
            })
        ids = rows_insert(model=MergeCandidate, rows=rows, now=now,
                                     acting_user=SystemActor(job="bench"), reason="bench")
        through = MergeCandidate.departments.through._meta.db_table
        with connection.cursor() as wrapper, wrapper.cursor.copy(
            f'COPY "{through}" (mergecandidate_id, department_id) FROM STDIN'
        ) as copy:
            for pk in ids:
                copy.write_row((pk, department_id))
        return ids

    def queue(self, *, source, department_id: int, count: int, now) -> None:
        """`count` open candidates, each between two customers of its own."""
        for start in range(0, count, CHUNK):
            n = min(CHUNK, count - start)
            records = self.customers_with_records(source=source, count=2 * n, now=now)
            pairs = [(records[i], records[i + 1]) for i in range(0, 2 * n, 2)]
            self.candidates(pairs=pairs, department_id=department_id, now=now)


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def _timed(call, requests: int) -> dict:
    """Median time of `requests` calls (after two untimed), and one call's queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        call()
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        call()
    queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
    slowest = max(queries, default=(0.0, ""))
    return {
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "queries": len(queries),
        "sql_ms": round(sum(t for t, _ in queries), 1),
        "slowest_query_ms": round(slowest[0], 1),
        "slowest_query": slowest[1][:300],
        "_sql": [sql for _, sql in sorted(queries, reverse=True)[:3]],
    }


def measure_page(client, url: str, requests: int) -> dict:
    """Server time of a page: request in, response out (Django's test client)."""
    response = client.get(url, secure=True)
    if response.status_code != 200:
        return {"error": f"HTTP {response.status_code}", "url": url}
    return {"url": url, **_timed(lambda: client.get(url, secure=True), requests)}


def measure_selector(*, department, user, requests: int) -> dict:
    """The queue's first page straight from `queue_candidates`, without the page's counts."""
    from stewardship.selectors.queue import QueueFilters, queue_candidates

    def first_page() -> list:
        return list(queue_candidates(department=department, filters=QueueFilters(),
                                     user=user)[:25])

    return {"url": "queue_candidates(...)[:25]", **_timed(first_page, requests)}


def explain(statements: list[str], out: Path) -> None:
    from django.db import connection

    with connection.cursor() as cursor, out.open("w") as stream:
        for sql in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            stream.write(sql + "\n\n")
            stream.write("\n".join(row[0] for row in cursor.fetchall()) + "\n\n" + "-" * 80 + "\n")


def measure_merges(*, writer: Writer, source, department_id: int, steward, clusters: int,
                   now) -> dict:
    """Merge `clusters` + 1 clusters of 10 one-record customers (the first untimed)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from rcu.models import SourceRecord
    from stewardship.services.merge import customers_merge

    groups = []
    for _ in range(clusters + 1):
        records = writer.customers_with_records(source=source, count=CLUSTER_SIZE, now=now)
        writer.candidates(pairs=list(itertools.pairwise(records)),
                          department_id=department_id, now=now)
        groups.append(list(SourceRecord.objects.filter(pk__in=records)
                           .values_list("customer_id", flat=True)))
    analyze()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        customers_merge(customer_ids=groups[0], acting_user=steward)  # untimed: counts queries
    times = []
    for customer_ids in groups[1:]:
        started = time.perf_counter()
        with transaction.atomic():
            decision = customers_merge(customer_ids=customer_ids, acting_user=steward)
        times.append((time.perf_counter() - started) * 1000)
        assert SourceRecord.objects.filter(customer_id=decision.survivor_id).count() == CLUSTER_SIZE
    return {
        "clusters": len(times),
        "cluster_size": CLUSTER_SIZE,
        "median_ms": round(statistics.median(times), 1),
        "min_ms": round(min(times), 1),
        "max_ms": round(max(times), 1),
        "queries": len(captured),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--first", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=9)
    parser.add_argument("--clusters", type=int, default=9)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rcu.settings")
    # The matching run a decision queues is a worker's job, not the steward's wait: it
    # stays in an in-memory queue here, as on a busy broker (eagerly, each merge would
    # also run it, and on this base, where the model cannot learn, retrain each time).
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "False"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from django.utils import timezone

    from rcu.actors import SystemActor
    from rcu.roles import Role
    from rcu.services.sources import source_configure
    from rcu.services.stats import source_stats_recount

    if connection.vendor != "postgresql":
        raise SystemExit("bench.stewardship needs PostgreSQL (DATABASE_URL)")
    call_command("migrate", verbosity=0)
    source, _ = source_configure(data=_source_config("bench_crm", DEPARTMENT), acting_user=SystemActor(job="bench"))
    other, _ = source_configure(data=_source_config("bench_other", OTHER_DEPARTMENT), acting_user=SystemActor(job="bench"))
    steward = get_user_model().objects.create_user("bench_steward", password=None)
    steward.groups.add(Group.objects.get(name=Role.STEWARD.value), source.department.group)

    rng = random.Random(args.seed)
    writer = Writer(rng)
    now = timezone.now()
    started = time.perf_counter()
    writer.queue(source=other, department_id=other.department_id, count=OTHER_CANDIDATES,
                 now=now)
    writer.queue(source=source, department_id=source.department_id, count=args.first, now=now)
    populate = time.perf_counter() - started

    # Production settings, except static files: no collectstatic manifest in a scratch run.
    static = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
              "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(steward)
    queue = f"/stewardship/queue/?department={DEPARTMENT}"
    pages = {
        "queue": queue,
        "queue, oldest first": f"{queue}&sort=age",
        "queue, medium band": f"{queue}&band=medium",
        "queue, page 400": f"{queue}&page=400",
        "metrics": "/stewardship/metrics/",
    }
    sizes = {}
    plans = WORK / "stewardship-plans.txt"
    with override_settings(STORAGES=static):
        for size in (args.first, args.candidates):
            if size > args.first:
                t0 = time.perf_counter()
                writer.queue(source=source, department_id=source.department_id,
                             count=size - args.first, now=now)
                populate += time.perf_counter() - t0
            source_stats_recount(source_ids=[source.pk, other.pk])
            analyze()
            # The review page of the queue's first candidate (its lease is the steward's).
            from stewardship.models import MergeCandidate

            first = (MergeCandidate.objects.filter(departments=source.department, status="open")
                     .order_by("triage", "-weight", "pk").values_list("pk", flat=True).first())
            pages["review"] = f"/stewardship/candidates/{first}/?queue=department%3D{DEPARTMENT}"
            figures = {name: measure_page(client, url, args.requests)
                       for name, url in pages.items()}
            figures["queue_candidates, first page (selector only)"] = measure_selector(
                department=source.department, user=steward, requests=args.requests)
            if size == args.candidates:
                WORK.mkdir(exist_ok=True)
                explain(figures["queue"].get("_sql", []), plans)
            for entry in figures.values():
                entry.pop("_sql", None)
            sizes[str(size)] = figures
        merge = measure_merges(writer=writer, source=source, department_id=source.department_id,
                               steward=steward, clusters=args.clusters, now=now)

    result = {
        "department_candidates": [args.first, args.candidates],
        "other_department_candidates": OTHER_CANDIDATES,
        "populate_seconds": round(populate, 1),
        "sizes": sizes,
        "merge": merge,
        "queue_target_ms": QUEUE_TARGET_MS,
        "merge_target_ms": MERGE_TARGET_MS,
        "plans": str(plans),
    }
    print(json.dumps(result), flush=True)
    return result


def results_table(result: dict) -> str:
    """The Markdown table `bench.run` prints and writes."""
    if "error" in result:
        return f"stewardship bench failed: {result['error']}\n{result.get('stderr_tail', '')}"
    small, large = (str(n) for n in result["department_candidates"])
    lines = [
        "### Stewardship: queue page and merges (PostgreSQL, server time, Django test client)",
        "",
        f"Open candidates in the steward's department: {int(small):,} then {int(large):,} "
        f"(another department holds {result['other_department_candidates']:,}). Median of "
        f"the timed requests; queries of one request. Targets: queue < "
        f"{result['queue_target_ms']} ms with the same query count at both sizes; a merge "
        f"of {result['merge']['cluster_size']} customers < {result['merge_target_ms']} ms.",
        "",
        f"| page | {int(small):,}: ms | queries | SQL ms | {int(large):,}: ms | queries | SQL ms "
        "| slowest query ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in result["sizes"][large]:
        a, b = result["sizes"][small][name], result["sizes"][large][name]
        if "error" in a or "error" in b:
            lines.append(f"| {name} | {a.get('error', '')} ||| {b.get('error', '')} ||||")
            continue
        lines.append(
            f"| {name} | {a['median_ms']} | {a['queries']} | {a['sql_ms']} | {b['median_ms']} "
            f"| {b['queries']} | {b['sql_ms']} | {b['slowest_query_ms']} |"
        )
    merge = result["merge"]
    lines += [
        "",
        f"Merge of {merge['cluster_size']} one-record customers (`customers_merge`, commit "
        f"included), {merge['clusters']} clusters: median {merge['median_ms']} ms "
        f"(min {merge['min_ms']}, max {merge['max_ms']}), {merge['queries']} queries. "
        f"Base written in {result['populate_seconds']} s.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
